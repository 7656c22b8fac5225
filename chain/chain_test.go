package chain_test

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/chain/chaintest"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

func mustOK(t *testing.T, rep chain.Report) {
	t.Helper()
	if !rep.OK() {
		t.Fatalf("verify found %d problems: %v", rep.TotalProblems, rep.Problems)
	}
}

func TestChainBuiltByTheProcessorOverIntakeMergesAndCopiesVerifies(t *testing.T) {
	e := chaintest.New(t)
	n := e.Scenario()
	if got := e.Int(`SELECT COUNT(*) FROM dxt_event`); got != int64(n) {
		t.Fatalf("%d events, want %d", got, n)
	}
	rep := e.Verify(chain.VerifyOptions{})
	mustOK(t, rep)
	if rep.Events != int64(n) || rep.Links < int64(n) {
		t.Fatalf("verified %d events and %d links; want %d events", rep.Events, rep.Links, n)
	}
	// The merges (copy repeat, scheduled report) are update links.
	if u := e.Int(`SELECT COUNT(*) FROM dxt_chain WHERE op = 'update'`); u < 2 {
		t.Fatalf("%d update links; want the copy repeat and the scheduled-report merge", u)
	}
	if e.Int(`SELECT COUNT(*) FROM dxt_event WHERE details LIKE '%"rules"%'`) == 0 {
		t.Fatal("no event carries rule matches: the alerting hook did not run before the chain")
	}
	if e.Int(`SELECT COUNT(*) FROM dxt_event e JOIN dxt_chain_head h ON h.id = 1 WHERE e.chain_seq IS NULL`) != 0 {
		t.Fatal("an event has no chain_seq")
	}
	if rep.HeadSeq != uint64(rep.Links) || len(rep.HeadHash) != 64 {
		t.Fatalf("head %d %q after %d links", rep.HeadSeq, rep.HeadHash, rep.Links)
	}
	// Delivery bookkeeping is not attested: the outbox worker may change it.
	e.Exec(`UPDATE dxt_event SET notify_state = 'sent', notified_at = UTC_TIMESTAMP(6)`)
	mustOK(t, e.Verify(chain.VerifyOptions{}))
}

// tamper cases: each runs on a fresh chain, changes the database behind
// the daemon's back and expects verify to name the first bad row.
func TestVerifyReportsTheFirstChangedDeletedOrInsertedRow(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(e *chaintest.Env) (eventID int64)
		kind   string
		detail string
	}{
		{"record_count updated", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MIN(id) FROM dxt_event WHERE record_count = 3`)
			e.Exec(`UPDATE dxt_event SET record_count = 1 WHERE id = ?`, id)
			return id
		}, chain.ProblemChanged, "record_count: 3 -> 1"},
		{"user_name updated", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MIN(id) + 1 FROM dxt_event`)
			e.Exec(`UPDATE dxt_event SET user_name = 'someone_else' WHERE id = ?`, id)
			return id
		}, chain.ProblemChanged, `user_name:`},
		{"ip updated", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MAX(id) - 1 FROM dxt_event`)
			e.Exec(`UPDATE dxt_event SET ip = '192.0.2.1' WHERE id = ?`, id)
			return id
		}, chain.ProblemChanged, `ip: "10.0.0.5" -> "192.0.2.1"`},
		{"details updated", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MIN(id) FROM dxt_event`)
			e.Exec(`UPDATE dxt_event SET details = JSON_SET(details, '$.mode', 'ExportSelectedRecords') WHERE id = ?`, id)
			return id
		}, chain.ProblemChanged, "details"},
		{"content hash updated", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MIN(id) FROM dxt_event`)
			e.Exec(`UPDATE dxt_content c JOIN dxt_event e ON e.content_id = c.id SET c.sha256 = REPEAT('a', 64) WHERE e.id = ?`, id)
			return id
		}, chain.ProblemChanged, "content:"},
		{"event deleted in the middle", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT id FROM dxt_event ORDER BY id LIMIT 1 OFFSET 3`)
			e.Exec(`DELETE FROM dxt_event WHERE id = ?`, id)
			return id
		}, chain.ProblemDeleted, "deleted"},
		{"forged event inserted", func(e *chaintest.Env) int64 {
			e.Exec(`INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, source, details, dedupe_key, created_at)
VALUES (UTC_TIMESTAMP(6), 'listview_export', 5, 'jsmith', 'Contacts', 1, 'probe', '{}', 'intake:999999', UTC_TIMESTAMP(6))`)
			return e.Int(`SELECT MAX(id) FROM dxt_event`)
		}, chain.ProblemInserted, "no link"},
		{"chain link updated", func(e *chaintest.Env) int64 {
			seq := e.Int(`SELECT MIN(seq) + 2 FROM dxt_chain`)
			e.Exec(`UPDATE dxt_chain SET fields = JSON_SET(fields, '$.record_count', 999) WHERE seq = ?`, seq)
			return e.Int(`SELECT event_id FROM dxt_chain WHERE seq = ?`, seq)
		}, chain.ProblemLink, "was changed"},
		{"chain link time updated", func(e *chaintest.Env) int64 {
			seq := e.Int(`SELECT MAX(seq) - 1 FROM dxt_chain`)
			e.Exec(`UPDATE dxt_chain SET at = at - INTERVAL 1 HOUR WHERE seq = ?`, seq)
			return e.Int(`SELECT event_id FROM dxt_chain WHERE seq = ?`, seq)
		}, chain.ProblemLink, "was changed"},
		{"two links swapped", func(e *chaintest.Env) int64 {
			a := e.Int(`SELECT MIN(seq) + 1 FROM dxt_chain`)
			e.Exec(`UPDATE dxt_chain SET seq = 1000000 WHERE seq = ?`, a)
			e.Exec(`UPDATE dxt_chain SET seq = ? WHERE seq = ?`, a, a+1)
			e.Exec(`UPDATE dxt_chain SET seq = ? WHERE seq = 1000000`, a+1)
			return e.Int(`SELECT event_id FROM dxt_chain WHERE seq = ?`, a)
		}, chain.ProblemLink, ""},
		{"last link and its event removed", func(e *chaintest.Env) int64 {
			id := e.Int(`SELECT MAX(id) FROM dxt_event`)
			e.Exec(`DELETE FROM dxt_chain WHERE event_id = ?`, id)
			e.Exec(`DELETE FROM dxt_event WHERE id = ?`, id)
			return 0
		}, chain.ProblemHead, "removed at the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := chaintest.New(t)
			e.Scenario()
			mustOK(t, e.Verify(chain.VerifyOptions{}))
			id := c.tamper(e)
			rep := e.Verify(chain.VerifyOptions{})
			if rep.OK() {
				t.Fatal("verify found nothing")
			}
			first := rep.Problems[0]
			if first.Kind != c.kind || (id != 0 && first.EventID != uint64(id)) || !strings.Contains(first.Detail, c.detail) {
				t.Fatalf("first problem %v; want %s of event %d (%q); all: %v", first, c.kind, id, c.detail, rep.Problems)
			}
			t.Logf("reported: %s", first)
		})
	}
}

// inTx runs fn in a transaction and commits it.
func inTx(e *chaintest.Env, fn func(tx *sql.Tx) error) {
	e.T.Helper()
	tx, err := e.DB.BeginTx(e.Ctx, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		e.T.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		e.T.Fatal(err)
	}
}

// An attacker with database rights who knows the algorithm replaces an
// event and rewrites the whole chain so every hash matches. The insert out
// of order still shows, and the anchor sent out before catches the rewrite.
func TestRewrittenChainIsCaughtByInsertOrderAndByTheAnchor(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	before := e.Verify(chain.VerifyOptions{})
	mustOK(t, before)
	anchor := chain.ExpectedLink{Seq: before.HeadSeq, Hash: before.HeadHash}

	id := e.Int(`SELECT id FROM dxt_event ORDER BY id LIMIT 1 OFFSET 2`)
	e.Exec(`DELETE FROM dxt_chain WHERE event_id = ?`, id)
	e.Exec(`UPDATE dxt_event SET record_count = 1 WHERE id = ?`, id)
	inTx(e, func(tx *sql.Tx) error { return chain.ForgeInsertForTest(e.Ctx, tx, uint64(id)) })
	inTx(e, func(tx *sql.Tx) error { return chain.RewriteForTest(e.Ctx, tx) })

	rep := e.Verify(chain.VerifyOptions{})
	if rep.OK() || rep.Problems[0].Kind != chain.ProblemOutOfOrder || rep.Problems[0].EventID != uint64(id) {
		t.Fatalf("rewritten chain: %v; want out_of_order of event %d first", rep.Problems, id)
	}
	rep = e.Verify(chain.VerifyOptions{Expect: []chain.ExpectedLink{anchor}})
	found := false
	for _, p := range rep.Problems {
		found = found || (p.Kind == chain.ProblemAnchor && p.Seq == anchor.Seq)
	}
	if !found {
		t.Fatalf("the anchor %d:%s was not found violated: %v", anchor.Seq, anchor.Hash, rep.Problems)
	}
}

// Without any change, the anchor of the head matches.
func TestAnchorOfAnIntactChainMatches(t *testing.T) {
	e := chaintest.New(t)
	e.Scenario()
	rep := e.Verify(chain.VerifyOptions{})
	mustOK(t, e.Verify(chain.VerifyOptions{Expect: []chain.ExpectedLink{{Seq: rep.HeadSeq, Hash: rep.HeadHash}, {Seq: 3, Hash: linkHash(e, 3)}}}))
}

func linkHash(e *chaintest.Env, seq int) string {
	e.T.Helper()
	var h string
	if err := e.DB.QueryRowContext(e.Ctx, `SELECT hash FROM dxt_chain WHERE seq = ?`, seq).Scan(&h); err != nil {
		e.T.Fatal(err)
	}
	return h
}
