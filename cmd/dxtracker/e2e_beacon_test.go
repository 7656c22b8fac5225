package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// beaconSecret reads dxt_config.beacon_secret as the extension does.
func (s *stack) beaconSecret() string {
	s.t.Helper()
	var v string
	if err := s.db.QueryRowContext(s.ctx, `SELECT value FROM dxt_config WHERE name = 'beacon_secret'`).Scan(&v); err != nil {
		s.t.Fatal(err)
	}
	return v
}

func beaconBody(token, text string, ts int64) []byte {
	b, _ := json.Marshal(map[string]any{"token": token, "kind": "copy", "url": "https://crm.example.com/index.php?module=Contacts&view=List",
		"module": "Contacts", "view": "List", "record": nil, "chars": len([]rune(text)), "rows": 1, "text": text, "ts": ts})
	return b
}

var beaconClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func postBeacon(addr string, body []byte) (int, error) {
	res, err := beaconClient.Post("http://"+addr+beacon.Path, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func TestBeaconThroughTheRealDaemonBecomesACopyEventInTheAPI(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	beaconAddr := freeAddr(t)
	d := s.start("DXT_BEACON_LISTEN=" + beaconAddr)
	token := beacon.Sign(s.beaconSecret(), 5, time.Now().Add(12*time.Hour))
	const text = "Confidential: Mary Smith, +49 30 1234567"
	if code, err := postBeacon(s.listen, beaconBody(token, text, 1)); err != nil || code != http.StatusNoContent {
		t.Fatalf("beacon on listen: %d %v", code, err)
	}
	// The beacon-only listener takes beacons and nothing else.
	if code, err := postBeacon(beaconAddr, beaconBody(token, "second copy", 2)); err != nil || code != http.StatusNoContent {
		t.Fatalf("beacon on beacon_listen: %d %v", code, err)
	}
	if res, err := http.Get("http://" + beaconAddr + "/api/v1/events"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("API on beacon_listen: %v %v", res, err)
	}
	s.waitEvents(2, d)

	var list struct {
		Events []tracker.Event `json:"events"`
	}
	if code := s.getJSON("/api/v1/events?type=copy&user=jsmith", &list); code != 200 || len(list.Events) != 2 {
		t.Fatalf("%d %+v", code, list.Events)
	}
	ev := list.Events[1] // oldest: the first copy
	var det map[string]any
	json.Unmarshal(ev.Details, &det)
	if ev.Source != "beacon" || *ev.IP != "127.0.0.1" || det["channel"] != "beacon" || det["ip_mismatch"] != true || !ev.HasContent {
		t.Fatalf("event %+v details %s", ev, ev.Details)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/events/%d/content", s.listen, ev.ID), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(got) != text {
		t.Fatalf("content %q", got)
	}
	var tl struct {
		Items []struct {
			Kind string `json:"kind"`
		} `json:"items"`
	}
	if code := s.getJSON("/api/v1/users/jsmith/timeline", &tl); code != 200 || len(tl.Items) != 3 { // 2 copies + the seed's login
		t.Fatalf("timeline %d %+v", code, tl)
	}
	d.stop(t)
	if strings.Contains(d.output(), "Confidential") {
		t.Fatalf("the copied text is in the daemon's log:\n%s", d.output())
	}
}

// A rotated beacon_secret and a deactivated user reach the endpoint through
// the binlog (dxt_config, vtiger_users): within a second.
func TestRotatedSecretAndDeactivatedUserAreRefusedWithinASecond(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	s.start("DXT_BEACON_USER_RATE=off", "DXT_BEACON_IP_RATE=off")
	old := beacon.Sign(s.beaconSecret(), 5, time.Now().Add(time.Hour))
	if code, _ := postBeacon(s.listen, beaconBody(old, "a", 1)); code != http.StatusNoContent {
		t.Fatalf("before rotation: %d", code)
	}
	refusedWithin := func(what string, token string, change func()) {
		t.Helper()
		change()
		start := time.Now()
		for {
			code, err := postBeacon(s.listen, beaconBody(token, "probe", 2))
			if err != nil {
				t.Fatal(err)
			}
			if code == http.StatusUnauthorized {
				t.Logf("%s: refused after %v", what, time.Since(start).Round(time.Millisecond))
				if time.Since(start) > time.Second {
					t.Errorf("%s took %v, more than a second", what, time.Since(start))
				}
				return
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: still %d after 10s", what, code)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	newSecret, _ := tracker.NewSecret()
	refusedWithin("rotated secret", old, func() {
		if _, err := s.db.ExecContext(s.ctx, `UPDATE dxt_config SET value = ?, updated_at = UTC_TIMESTAMP(6) WHERE name = 'beacon_secret'`, newSecret); err != nil {
			t.Fatal(err)
		}
	})
	fresh := beacon.Sign(newSecret, 6, time.Now().Add(time.Hour))
	if code, _ := postBeacon(s.listen, beaconBody(fresh, "b", 3)); code != http.StatusNoContent {
		t.Fatalf("token under the new secret: %d", code)
	}
	refusedWithin("deactivated user", fresh, func() {
		if _, err := s.db.ExecContext(s.ctx, `UPDATE vtiger_users SET status = 'Inactive' WHERE id = 6`); err != nil {
			t.Fatal(err)
		}
	})
}

// SIGTERM in the middle of a burst: the daemon stops accepting, writes what
// it queued, answers it and exits 0. Every beacon answered 204 is an event
// after the restart; the only beacons stored without a 204 are ones whose
// answer was lost with the connection.
func TestSIGTERMDuringABeaconBurstLosesNoAcceptedBeacon(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start("DXT_BEACON_USER_RATE=off", "DXT_BEACON_IP_RATE=off")
	secret := s.beaconSecret()
	tokens := []string{beacon.Sign(secret, 1, time.Now().Add(time.Hour)), beacon.Sign(secret, 5, time.Now().Add(time.Hour)),
		beacon.Sign(secret, 6, time.Now().Add(time.Hour))}

	var (
		next     atomic.Int64
		accepted sync.Map // ts -> true, answered 204
		n204     atomic.Int64
		n503     atomic.Int64
		nErr     atomic.Int64
		nOther   atomic.Int64
		wg       sync.WaitGroup
	)
	for c := 0; c < 32; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			for fails := 0; fails < 20; {
				ts := next.Add(1)
				body := beaconBody(tokens[ts%3], fmt.Sprintf("burst text %d", ts), ts)
				res, err := client.Post("http://"+s.listen+beacon.Path, "application/json", bytes.NewReader(body))
				if err != nil {
					nErr.Add(1)
					fails++
					time.Sleep(5 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusNoContent:
					accepted.Store(ts, true)
					n204.Add(1)
				case http.StatusServiceUnavailable:
					n503.Add(1)
				default:
					nOther.Add(1)
				}
			}
		}()
	}
	for n204.Load() < 1500 {
		if !d.alive() {
			t.Fatalf("daemon died: %s", d.output())
		}
		time.Sleep(time.Millisecond)
	}
	d.stop(t) // SIGTERM; fails the test unless the exit is clean within 30s
	wg.Wait()
	t.Logf("answered 204: %d, 503: %d, other: %d, transport errors: %d", n204.Load(), n503.Load(), nOther.Load(), nErr.Load())
	if nOther.Load() != 0 {
		t.Fatalf("%d answers other than 204/503", nOther.Load())
	}
	if !strings.Contains(d.output(), "queue drained") {
		t.Errorf("no drain in the log:\n%s", d.output())
	}

	// Restart: the intake rows stored before the exit become events.
	d = s.start()
	stored := s.count(`SELECT COUNT(*) FROM dxt_intake`)
	s.waitEvents(stored, d)
	rows, err := s.db.QueryContext(s.ctx, `SELECT JSON_VALUE(details, '$.client_ts') FROM dxt_event WHERE type = 'copy'`)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[int64]bool{}
	for rows.Next() {
		var ts int64
		if err := rows.Scan(&ts); err != nil {
			t.Fatal(err)
		}
		inLog[ts] = true
	}
	rows.Close()
	lost := 0
	accepted.Range(func(k, _ any) bool {
		if !inLog[k.(int64)] {
			lost++
		}
		return true
	})
	if lost > 0 {
		t.Fatalf("%d beacons answered 204 are not in the tracking log", lost)
	}
	if extra := int64(len(inLog)) - n204.Load(); extra < 0 || extra > nErr.Load() {
		t.Fatalf("%d events for %d beacons answered 204 (%d transport errors)", len(inLog), n204.Load(), nErr.Load())
	}
	s.assertExactlyOnce(stored)
}

func TestBadBeaconLimitIsAConfigurationError(t *testing.T) {
	cmd := exec.Command(daemonBinary(t), "run")
	cmd.Env = []string{"DXT_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/vtiger", "DXT_SERVER_ID=7", "DXT_BEACON_USER_RATE=fast", "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 78 || !strings.Contains(out.String(), "DXT_BEACON_USER_RATE=20") {
		t.Fatalf("exit %v\n%s", err, out.String())
	}
}
