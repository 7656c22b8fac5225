package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestIntakeRowIsReadableThroughAPI(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start()
	if err := s.writeIntake(`{"mode":"ExportAllData"}`); err != nil {
		t.Fatal(err)
	}
	s.waitEvents(1, d)
	var body struct {
		Events []tracker.Event `json:"events"`
	}
	if code := s.getJSON("/api/v1/events?user=jsmith", &body); code != 200 || len(body.Events) != 1 {
		t.Fatalf("status %d, events %+v", code, body.Events)
	}
	ev := body.Events[0]
	if ev.Type != "listview_export" || *ev.UserName != "jsmith" || *ev.Module != "Contacts" || *ev.IP != "192.0.2.1" {
		t.Fatalf("event %+v", ev)
	}
	d.stop(t)
}

func TestDaemonKilledMidBurstLogsEveryIntakeExactlyOnce(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start()
	const total = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	var produceErr error
	go func() {
		defer wg.Done()
		for i := 0; i < total && produceErr == nil; i++ {
			produceErr = s.writeIntake(fmt.Sprintf(`{"n":%d}`, i))
		}
	}()
	// Kill -9 three times while the burst is being processed.
	for kills, threshold := 0, 300; kills < 3; kills++ {
		for s.count(`SELECT COUNT(*) FROM dxt_event`) < threshold {
			if !d.alive() {
				t.Fatalf("daemon died: %v\n%s", d.err, d.output())
			}
			if produceErr != nil {
				t.Fatalf("producer: %v", produceErr)
			}
			time.Sleep(5 * time.Millisecond)
		}
		d.kill()
		d = s.start()
		threshold += 400
	}
	wg.Wait()
	if produceErr != nil {
		t.Fatalf("producer: %v", produceErr)
	}
	s.waitEvents(total, d)
	s.assertExactlyOnce(total)
}

func TestMariaDBRestartMidStreamLosesNothing(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start()
	s.writeIntakes(300, "before")
	s.waitEvents(300, d)
	if err := s.srv.Restart(s.ctx); err != nil {
		t.Fatal(err)
	}
	s.writeIntakes(300, "after")
	s.waitEvents(600, d)
	s.assertExactlyOnce(600)
	if !d.alive() {
		t.Fatal("daemon exited because MariaDB restarted")
	}
}

func TestPurgedBinlogWhileDownIsReconciledFromTables(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start()
	s.writeIntakes(100, "before")
	s.waitEvents(100, d)
	d.stop(t)

	// While the daemon is down: take-outs, a cron delivery, then the binlog
	// that carried them is purged.
	s.writeIntakes(250, "while-down")
	if _, err := s.db.ExecContext(s.ctx, `UPDATE vtiger_schedulereports SET next_trigger_time = '2000-01-01 00:00:00' WHERE reportid = 26`); err != nil {
		t.Fatal(err)
	}
	// The baseline the daemon saw was the seed's trigger time; make that a past delivery.
	if _, err := s.db.ExecContext(s.ctx, `UPDATE dxt_schedule_state SET next_trigger_time = '2020-01-01 09:00:00' WHERE report_id = 26`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(s.ctx, `UPDATE vtiger_schedulereports SET next_trigger_time = DATE_ADD(UTC_TIMESTAMP(), INTERVAL 1 DAY) WHERE reportid = 26`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.db.ExecContext(s.ctx, `FLUSH BINARY LOGS`); err != nil {
			t.Fatal(err)
		}
	}
	var file string
	var pos, a, b any
	if err := s.db.QueryRowContext(s.ctx, `SHOW MASTER STATUS`).Scan(&file, &pos, &a, &b); err != nil {
		t.Fatal(err)
	}
	// The server keeps a file a lingering dump thread still reads; retry
	// until the purge really happened.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := s.db.ExecContext(s.ctx, `PURGE BINARY LOGS TO '`+file+`'`); err != nil {
			t.Fatal(err)
		}
		var first string
		var size, enc any
		if err := s.db.QueryRowContext(s.ctx, `SHOW BINARY LOGS`).Scan(&first, &size); err != nil {
			if err := s.db.QueryRowContext(s.ctx, `SHOW BINARY LOGS`).Scan(&first, &size, &enc); err != nil {
				t.Fatal(err)
			}
		}
		if first == file {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("binlog still starts at %s after purging to %s", first, file)
		}
		time.Sleep(200 * time.Millisecond)
	}

	d = s.start()
	s.waitEvents(351, d)
	if n := s.count(`SELECT COUNT(*) FROM dxt_event WHERE type = 'scheduled_report'`); n != 1 {
		t.Fatalf("%d scheduled_report events, want the 1 reconstructed delivery", n)
	}
	if !strings.Contains(d.output(), "purged") {
		t.Errorf("the daemon did not log the purge clearly:\n%s", d.output())
	}
	// And it keeps following the new binlog.
	s.writeIntakes(10, "after")
	s.waitEvents(361, d)
}

func TestBadConfigExitsWithConfigCodeNamingTheKey(t *testing.T) {
	cmd := exec.Command(daemonBinary(t), "run")
	cmd.Env = []string{"DXT_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/vtiger", "DXT_SERVER_ID=zero", "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 78 {
		t.Fatalf("exit %v, want 78\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "server_id") || !strings.Contains(out.String(), "DXT_SERVER_ID=") {
		t.Fatalf("message does not name the key with an example:\n%s", out.String())
	}
}

func TestUnreachableDatabaseIsAClearRuntimeError(t *testing.T) {
	cmd := exec.Command(daemonBinary(t), "migrate")
	cmd.Env = []string{"DXT_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/vtiger?timeout=1s", "DXT_SERVER_ID=7", "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(out.String(), "cannot reach the database at 127.0.0.1:1") {
		t.Fatalf("exit %v\n%s", err, out.String())
	}
}

// TestRowsWrittenWhileTheDaemonStartsAreNotLost covers the window between the
// start-up scan of unprocessed intake rows and the first binlog read: a
// producer writes before, during and after start-up.
func TestRowsWrittenWhileTheDaemonStartsAreNotLost(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	stop := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- result{n, nil}
				return
			default:
			}
			if err := s.writeIntake(fmt.Sprintf(`{"n":%d}`, n)); err != nil {
				done <- result{n, err}
				return
			}
			n++
		}
	}()
	d := s.start()
	time.Sleep(300 * time.Millisecond) // keep writing while the stream opens
	close(stop)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	s.waitEvents(r.n, d)
	s.assertExactlyOnce(r.n)
}
