package notify_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
)

func TestMailServerDownThenBackDeliversEveryMailExactlyOnce(t *testing.T) {
	e := newEnv(t, sink.Options{})
	if err := e.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	e.start()
	const n = 5
	for i := range n {
		e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(int64(100 + i))})
	}
	// Every row fails at least once while the server is down.
	e.waitRows(10*time.Second, func(rows []outboxRow) bool {
		if len(rows) != n {
			return false
		}
		for _, r := range rows {
			if r.Attempts < 2 || r.State != notify.StatePending || r.LastError == "" {
				return false
			}
		}
		return true
	})
	if err := e.sink.Restart(); err != nil {
		t.Fatal(err)
	}
	e.waitRows(10*time.Second, allIn(notify.StateSent))
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	msgs := e.sink.Messages()
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.MessageID] {
			t.Fatalf("message %s delivered twice", m.MessageID)
		}
		seen[m.MessageID] = true
	}
}

func TestPermanentRefusalFailsAtOnceWithoutRetry(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.sink.SetFailure(550, "mailbox unavailable")
	e.start()
	ev := e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(7)})
	rows := e.waitRows(5*time.Second, allIn(notify.StateFailed))
	if rows[0].Attempts != 1 || !strings.Contains(rows[0].LastError, "550") {
		t.Fatalf("row %+v, want failed after 1 attempt with the 550 reply", rows[0])
	}
	if st, _ := e.eventState(ev.ID); st != notify.EventFailed {
		t.Fatalf("event notify_state %q, want failed", st)
	}
	time.Sleep(300 * time.Millisecond)
	if r := e.rows()[0]; r.Attempts != 1 {
		t.Fatalf("permanent failure retried: %d attempts", r.Attempts)
	}
}

func TestTemporaryFailuresGiveUpAfter24Hours(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.sink.SetFailure(451, "try again later")
	e.start()
	ev := e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(7)})
	e.waitRows(5*time.Second, func(rows []outboxRow) bool {
		return len(rows) == 1 && rows[0].State == notify.StatePending && rows[0].Attempts >= 2
	})
	if st, _ := e.eventState(ev.ID); st != notify.EventPending {
		t.Fatalf("event notify_state %q while retrying, want pending", st)
	}
	e.clock.Advance(24*time.Hour + time.Minute)
	rows := e.waitRows(5*time.Second, allIn(notify.StateFailed))
	if !strings.Contains(rows[0].LastError, "gave up after 24h") || !strings.Contains(rows[0].LastError, "451") {
		t.Fatalf("last_error %q", rows[0].LastError)
	}
	if st, _ := e.eventState(ev.ID); st != notify.EventFailed {
		t.Fatalf("event notify_state %q, want failed", st)
	}
	if n := len(e.sink.Messages()); n != 0 {
		t.Fatalf("%d messages accepted by a refusing server", n)
	}
}

func TestRestartSendsRowsLeftSendingAndMarksRowsLeftDeliveringUncertain(t *testing.T) {
	e := newEnv(t, sink.Options{})
	evSending := e.record(eventSpec{user: "a", module: "Contacts", records: i64(1)})
	evDelivering := e.record(eventSpec{user: "b", module: "Leads", records: i64(2)})
	// What a killed daemon leaves: one row claimed, one whose data had
	// reached the server when it died.
	mustExec(t, e, `UPDATE dxt_outbox SET state = 'sending', attempts = 1 WHERE event_id = ?`, evSending.ID)
	mustExec(t, e, `UPDATE dxt_outbox SET state = 'delivering', attempts = 1 WHERE event_id = ?`, evDelivering.ID)
	e.start()
	rows := e.waitRows(5*time.Second, allIn(notify.StateSent, notify.StateUncertain))
	time.Sleep(300 * time.Millisecond)
	msgs := e.sink.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "a exported 1 Contacts") {
		t.Fatalf("messages %d (want only the interrupted-before-the-dot one): %v", len(msgs), subjects(msgs))
	}
	for _, r := range rows {
		if r.State == notify.StateUncertain && !strings.Contains(r.LastError, "may or may not") {
			t.Errorf("uncertain row says %q", r.LastError)
		}
	}
	if st, _ := e.eventState(evSending.ID); st != notify.EventSent {
		t.Errorf("event of the resent row: %q, want sent", st)
	}
	if st, _ := e.eventState(evDelivering.ID); st != notify.EventFailed {
		t.Errorf("event of the uncertain row: %q, want failed (needs attention)", st)
	}
	st, err := notify.ReadStats(context.Background(), e.db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Uncertain != 1 || st.Attention() != 1 || st.ByState[notify.StateSent] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeliveringIsDurableBeforeTheServerAcceptsTheMessage(t *testing.T) {
	var (
		mu     sync.Mutex
		seen   []string
		dbRead func() string
	)
	e := newEnv(t, sink.Options{OnMessage: func(sink.Received) {
		// The server has the whole message and has not answered yet: a
		// crash now must not lead to a second copy.
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, dbRead())
	}})
	dbRead = func() string {
		var s string
		if err := e.db.QueryRow(`SELECT state FROM dxt_outbox`).Scan(&s); err != nil {
			return err.Error()
		}
		return s
	}
	e.start()
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3)})
	e.waitRows(5*time.Second, allIn(notify.StateSent))
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != notify.StateDelivering {
		t.Fatalf("row state while the server held the message: %v, want [delivering]", seen)
	}
}

func TestWorkerStopsAfterFinishingDeliveriesUnderWay(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, sink.Options{OnMessage: func(sink.Received) { <-release }})
	_, stop := e.start()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before the worker's own cleanup, even after a failure
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3)})
	e.waitRows(5*time.Second, allIn(notify.StateDelivering))
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	unblock()
	<-stopped
	if r := e.rows()[0]; r.State != notify.StateSent {
		t.Fatalf("row %q after a graceful stop, want sent", r.State)
	}
}

func mustExec(t *testing.T, e *env, q string, args ...any) {
	t.Helper()
	if _, err := e.db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func subjects(msgs []sink.Received) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}
