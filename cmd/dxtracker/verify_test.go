package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/chain/chaintest"
)

func runVerify(t *testing.T, dsn string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := realMain(append([]string{"verify"}, args...), []string{"DXT_MYSQL_DSN=" + dsn, "DXT_SERVER_ID=4242"}, &out, &errb)
	return code, out.String() + errb.String()
}

func TestVerifyCommandExitsZeroOnAnIntactLogAndOneWithTheFirstTamperedRow(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	code, out := runVerify(t, e.DSN)
	if code != exitOK || !strings.Contains(out, "OK: the tracking log is intact") || !strings.Contains(out, "8 events") || !strings.Contains(out, "head: link ") {
		t.Fatalf("intact log: exit %d\n%s", code, out)
	}
	id := e.Int(`SELECT id FROM dxt_event ORDER BY id LIMIT 1 OFFSET 4`)
	e.Exec(`UPDATE dxt_event SET record_count = 99999 WHERE id = ?`, id)
	code, out = runVerify(t, e.DSN)
	if code != exitFailure || !strings.Contains(out, "TAMPERED: 1 problem(s); first: changed: event "+strconv.FormatInt(id, 10)) || !strings.Contains(out, "-> 99999") {
		t.Fatalf("tampered log: exit %d\n%s", code, out)
	}
	code, out = runVerify(t, e.DSN, "--json")
	if code != exitFailure || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, `"kind": "changed"`) {
		t.Fatalf("--json: exit %d\n%s", code, out)
	}
	if code, out := runVerify(t, e.DSN, "--anchor", "nonsense"); code != exitUsage {
		t.Fatalf("bad --anchor: exit %d\n%s", code, out)
	}
}
