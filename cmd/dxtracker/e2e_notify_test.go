package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// End-to-end notification tests: the real daemon binary, a real MariaDB
// (the stack) and a real SMTP server on loopback (mailer/sink, in this
// process). Issue 5, item 8.

const notifFrom = "dxtracker@example.com"

// settingsReloaded is the daemon's log message after it applied a
// dxt_config change from the binlog.
const settingsReloaded = "settings reloaded from dxt_config"

// notifStack is a stack with an SMTP sink; its OnMessage runs the hook set
// by the test, if any.
type notifStack struct {
	*stack
	sink *sink.Sink
	hook atomic.Pointer[func(sink.Received)]
}

// newNotifStack starts MariaDB and the sink and writes settings into
// dxt_config before any daemon runs (the processor reads them at start).
func newNotifStack(t *testing.T, settings map[string]string) *notifStack {
	t.Helper()
	n := &notifStack{stack: newStack(t, sandbox.Options{ServerID: 1})}
	sk, err := sink.Start(n.ctx, sink.Options{
		OnMessage: func(r sink.Received) {
			if h := n.hook.Load(); h != nil {
				(*h)(r)
			}
		},
		Logf: func(format string, args ...any) {}, // connection resets are expected when daemons die
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sk.Close() })
	n.sink = sk
	// The daily tamper-evidence anchor (package chain) mails the same
	// admins and counts in their per-minute limit: off, so that every mail
	// here is an event's or a summary.
	n.setConfig("anchor_enabled", "0")
	for k, v := range settings {
		n.setConfig(k, v)
	}
	return n
}

// setConfig writes a dxt_config key as the Settings page does; a running
// daemon applies it in binlog order.
func (n *notifStack) setConfig(name, value string) {
	n.t.Helper()
	if _, err := n.db.ExecContext(n.ctx, `INSERT INTO dxt_config (name, value, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`, name, value); err != nil {
		n.t.Fatal(err)
	}
}

// startDaemon runs the daemon with the sink as its SMTP server; retries
// start after 1 s (notify_retry_base) rather than 30 s.
func (n *notifStack) startDaemon(extra ...string) *daemon {
	n.t.Helper()
	return n.start(append([]string{
		"DXT_SMTP_ADDR=" + n.sink.Addr(),
		"DXT_SMTP_TLS=none",
		"DXT_SMTP_FROM=" + notifFrom,
		"DXT_SMTP_TIMEOUT=5s",
		"DXT_NOTIFY_RETRY_BASE=1s",
	}, extra...)...)
}

// export writes one list-view export of records Contacts by jsmith (user
// 5), as the probe does, and returns the intake id.
func (n *notifStack) export(records int, tag string) int64 {
	n.t.Helper()
	res, err := n.db.ExecContext(n.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, details)
VALUES ('listview_export', UTC_TIMESTAMP(6), 5, 'Contacts', ?, '192.0.2.1', ?)`, records, fmt.Sprintf(`{"mode":"ExportAllData","tag":%q}`, tag))
	if err != nil {
		n.t.Fatal(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		n.t.Fatal(err)
	}
	return id
}

// eventOf waits until the intake row became an event and returns its id.
func (n *notifStack) eventOf(intakeID int64, d *daemon) uint64 {
	n.t.Helper()
	var id uint64
	n.poll(60*time.Second, d, func() (bool, string) {
		var ev *uint64
		if err := n.db.QueryRowContext(n.ctx, `SELECT event_id FROM dxt_intake WHERE id = ?`, intakeID).Scan(&ev); err != nil {
			n.t.Fatal(err)
		}
		if ev == nil {
			return false, fmt.Sprintf("intake %d has no event", intakeID)
		}
		id = *ev
		return true, ""
	})
	return id
}

// poll calls cond until it is true, failing with its last message after
// timeout or when d (if not nil) dies.
func (n *notifStack) poll(timeout time.Duration, d *daemon, cond func() (bool, string)) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if d != nil && !d.alive() {
			n.t.Fatalf("daemon died (%v) while waiting: %s\n%s", d.err, msg, d.output())
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outboxStates counts dxt_outbox rows per state.
func (n *notifStack) outboxStates() map[string]int {
	n.t.Helper()
	rs, err := n.db.QueryContext(n.ctx, `SELECT state, COUNT(*) FROM dxt_outbox GROUP BY state`)
	if err != nil {
		n.t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var s string
		var c int
		if err := rs.Scan(&s, &c); err != nil {
			n.t.Fatal(err)
		}
		out[s] = c
	}
	if err := rs.Err(); err != nil {
		n.t.Fatal(err)
	}
	return out
}

// waitOutboxSettled waits until the outbox holds want rows and none is
// pending, sending or delivering, and returns the counts per state.
func (n *notifStack) waitOutboxSettled(want int, timeout time.Duration, d *daemon) map[string]int {
	n.t.Helper()
	var st map[string]int
	n.poll(timeout, d, func() (bool, string) {
		st = n.outboxStates()
		total := 0
		for _, c := range st {
			total += c
		}
		busy := st["pending"] + st["sending"] + st["delivering"]
		return total == want && busy == 0, fmt.Sprintf("outbox %v, want %d rows, none pending/sending/delivering", st, want)
	})
	return st
}

// byMessageID and byEventID index the sink's messages; each value is how
// many times that key arrived.
func countMessages(msgs []sink.Received) (byMessageID map[string]int, byEventID map[uint64]int) {
	byMessageID, byEventID = map[string]int{}, map[uint64]int{}
	for _, m := range msgs {
		byMessageID[m.MessageID]++
		if v := m.Header.Get("X-DXT-Event-ID"); v != "" {
			id, _ := strconv.ParseUint(v, 10, 64)
			byEventID[id]++
		}
	}
	return byMessageID, byEventID
}

func assertNoDuplicates(t *testing.T, msgs []sink.Received) {
	t.Helper()
	byMID, _ := countMessages(msgs)
	for mid, c := range byMID {
		if mid == "" {
			t.Errorf("%d messages without a Message-ID", c)
		}
		if c > 1 {
			t.Errorf("Message-ID %s received %d times", mid, c)
		}
	}
	seen := map[string]bool{} // event id + recipient
	for _, m := range msgs {
		if m.ParseErr != nil {
			t.Errorf("message %s does not parse: %v", m.MessageID, m.ParseErr)
		}
		if k := m.Header.Get("X-DXT-Kind"); k != "event" && k != "summary" {
			t.Errorf("unexpected mail of kind %q: %s", k, m.Subject)
		}
		ev := m.Header.Get("X-DXT-Event-ID")
		if ev == "" {
			continue
		}
		k := ev + " " + strings.Join(m.To, ",")
		if seen[k] {
			t.Errorf("event %s mailed twice to %v", ev, m.To)
		}
		seen[k] = true
	}
}

// apiEvent reads one event through the API.
func (n *notifStack) apiEvent(id uint64) tracker.Event {
	n.t.Helper()
	var ev tracker.Event
	if code := n.getJSON(fmt.Sprintf("/api/v1/events/%d", id), &ev); code != http.StatusOK {
		n.t.Fatalf("GET event %d: status %d", id, code)
	}
	return ev
}

func (n *notifStack) waitNotified(id uint64, d *daemon) {
	n.t.Helper()
	n.poll(30*time.Second, d, func() (bool, string) {
		ev := n.apiEvent(id)
		return ev.Notified, fmt.Sprintf("event %d not notified in the API: %+v", id, ev)
	})
}

func waitMessages(t *testing.T, sk *sink.Sink, want int, timeout time.Duration) []sink.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	msgs, err := sk.WaitFor(ctx, want)
	if err != nil {
		t.Fatalf("%v; subjects so far: %v", err, subjects(msgs))
	}
	return msgs
}

func subjects(msgs []sink.Received) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}

func TestNotifyExportMailsEveryAdminOnceInEnglishAndJapanese(t *testing.T) {
	admins := []string{"sec@example.com", "boss@example.com"}
	n := newNotifStack(t, map[string]string{
		"notify_admin_email": strings.Join(admins, ", "),
		"notify_min_records": "1000",
	})
	d := n.startDaemon()

	small := n.export(3, "below threshold")
	big := n.export(3120, "english")
	smallEv, bigEv := n.eventOf(small, d), n.eventOf(big, d)
	msgs := waitMessages(t, n.sink, 2, 30*time.Second)
	n.waitNotified(bigEv, d)
	if ev := n.apiEvent(smallEv); ev.Notified {
		t.Errorf("an export of 3 records (notify_min_records 1000) was notified: %+v", ev)
	}

	checkMail := func(msgs []sink.Received, eventID uint64, subject, mustText string) {
		t.Helper()
		got := map[string]int{}
		for _, m := range msgs {
			if len(m.To) != 1 {
				t.Errorf("envelope recipients %v, want one per message", m.To)
				continue
			}
			got[m.To[0]]++
			if m.Subject != subject {
				t.Errorf("subject %q, want %q", m.Subject, subject)
			}
			if h := m.Header.Get("X-DXT-Event-ID"); h != strconv.FormatUint(eventID, 10) {
				t.Errorf("X-DXT-Event-ID %q, want %d", h, eventID)
			}
			if m.From != notifFrom {
				t.Errorf("envelope sender %q, want %q", m.From, notifFrom)
			}
			if m.Header.Get("Date") == "" || !strings.HasPrefix(m.MessageID, "<dxt-") {
				t.Errorf("Date %q, Message-ID %q", m.Header.Get("Date"), m.MessageID)
			}
			plain, htm, err := m.Text()
			if err != nil {
				t.Errorf("parts: %v", err)
				continue
			}
			for _, part := range []string{plain, htm} {
				for _, want := range []string{"jsmith", "3,120", "Contacts", "192.0.2.1", mustText} {
					if !strings.Contains(part, want) {
						t.Errorf("a part of the mail lacks %q:\n%s", want, part)
					}
				}
			}
		}
		for _, a := range admins {
			if got[a] != 1 {
				t.Errorf("%s got %d mails, want 1 (all: %v)", a, got[a], got)
			}
		}
	}
	checkMail(msgs, bigEv, "[Data Export Tracker] jsmith exported 3,120 Contacts", "notify_min_records")

	// Japanese, switched live. The change is awaited before the export:
	// an export in the same binlog batch as the change is the subject of
	// TestNotifySettingsChangedInTheExportsBatchApplyToIt.
	reloads := strings.Count(d.output(), settingsReloaded)
	n.setConfig("notify_language", "ja")
	n.poll(30*time.Second, d, func() (bool, string) {
		return strings.Count(d.output(), settingsReloaded) > reloads, "the daemon did not apply notify_language=ja"
	})
	jaEv := n.eventOf(n.export(3120, "japanese"), d)
	all := waitMessages(t, n.sink, 4, 30*time.Second)
	n.waitNotified(jaEv, d)
	checkMail(all[2:], jaEv, "[Data Export Tracker] jsmith が Contacts を 3,120 件エクスポートしました", "件")

	st := n.waitOutboxSettled(4, 30*time.Second, d)
	if st["sent"] != 4 {
		t.Errorf("outbox %v, want 4 sent", st)
	}
	all = n.sink.Messages()
	if len(all) != 4 {
		t.Errorf("%d mails received, want 4: %v", len(all), subjects(all))
	}
	assertNoDuplicates(t, all)
	d.stop(t)
}

// Settings are applied in binlog order: a change takes effect with the
// very next transaction. An administrator's address and language saved
// just before an export (here in the same transaction, which puts both in
// one binlog batch deterministically; two transactions committed close
// together land in one batch just as well under load) must apply to that
// export, or its notification is silently never written.
func TestNotifySettingsChangedInTheExportsBatchApplyToIt(t *testing.T) {
	n := newNotifStack(t, map[string]string{"notify_min_records": "1000"}) // no address: log only
	d := n.startDaemon()
	tx, err := n.db.BeginTx(n.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"notify_admin_email": "sec@example.com", "notify_language": "ja"} {
		if _, err := tx.ExecContext(n.ctx, `UPDATE dxt_config SET value = ?, updated_at = UTC_TIMESTAMP(6) WHERE name = ?`, v, k); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tx.ExecContext(n.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, details)
VALUES ('listview_export', UTC_TIMESTAMP(6), 5, 'Contacts', 3120, '192.0.2.1', '{}')`)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	intake, _ := res.LastInsertId()
	ev := n.eventOf(intake, d)
	msgs := waitMessages(t, n.sink, 1, 20*time.Second)
	if want := "[Data Export Tracker] jsmith が Contacts を 3,120 件エクスポートしました"; msgs[0].Subject != want {
		t.Errorf("subject %q, want %q", msgs[0].Subject, want)
	}
	n.waitNotified(ev, d)
	d.stop(t)
}

func TestNotifySMTPDownThenBackDeliversEveryMailOnce(t *testing.T) {
	const exports = 20
	n := newNotifStack(t, map[string]string{
		"notify_admin_email":    "sec@example.com",
		"notify_min_records":    "1000",
		"notify_max_per_minute": "10000", // this test is not about storms
	})
	d := n.startDaemon()
	if err := n.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	events := map[uint64]bool{}
	for i := range exports {
		events[n.eventOf(n.export(3120, fmt.Sprint("down ", i)), d)] = true
	}
	// Every row was tried against the dead server and is waiting for its
	// retry; some have been tried more than once.
	n.poll(30*time.Second, d, func() (bool, string) {
		var rows, failedOnce, retried int
		if err := n.db.QueryRowContext(n.ctx, `SELECT COUNT(*),
  COALESCE(SUM(state = 'pending' AND attempts >= 1 AND last_error IS NOT NULL), 0),
  COALESCE(SUM(attempts >= 2), 0) FROM dxt_outbox`).Scan(&rows, &failedOnce, &retried); err != nil {
			t.Fatal(err)
		}
		return rows == exports && failedOnce == exports && retried > 0,
			fmt.Sprintf("%d outbox rows, %d failed and pending, %d tried twice; want %d, %d, >0", rows, failedOnce, retried, exports, exports)
	})
	if got := len(n.sink.Messages()); got != 0 {
		t.Fatalf("%d messages received while the server was down", got)
	}
	if err := n.sink.Restart(); err != nil {
		t.Fatal(err)
	}
	st := n.waitOutboxSettled(exports, 45*time.Second, d)
	if st["sent"] != exports {
		t.Fatalf("outbox %v, want %d sent", st, exports)
	}
	msgs := n.sink.Messages()
	assertNoDuplicates(t, msgs)
	byMID, byEvent := countMessages(msgs)
	if len(msgs) != exports || len(byMID) != exports || len(byEvent) != exports {
		t.Fatalf("%d messages, %d Message-IDs, %d events; want %d of each", len(msgs), len(byMID), len(byEvent), exports)
	}
	for ev := range events {
		if byEvent[ev] != 1 {
			t.Errorf("event %d mailed %d times", ev, byEvent[ev])
		}
	}
	// The Message-ID of each row is the one received.
	rs, err := n.db.QueryContext(n.ctx, `SELECT message_id, attempts FROM dxt_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	maxAttempts := 0
	for rs.Next() {
		var mid string
		var att int
		if err := rs.Scan(&mid, &att); err != nil {
			t.Fatal(err)
		}
		maxAttempts = max(maxAttempts, att)
		if byMID[mid] != 1 {
			t.Errorf("outbox Message-ID %s received %d times", mid, byMID[mid])
		}
	}
	t.Logf("20 mails delivered once each after the server came back; most attempts of one row: %d", maxAttempts)
	d.stop(t)
}

func TestNotifyDaemonKilledAfterSMTPAcceptNeverSendsTwice(t *testing.T) {
	n := newNotifStack(t, map[string]string{
		"notify_admin_email":    "sec@example.com",
		"notify_min_records":    "1000",
		"notify_max_per_minute": "10000",
	})
	var cur atomic.Pointer[daemon]
	var (
		killOnce sync.Once
		killed   = make(chan sink.Received, 1)
		armed    atomic.Bool
	)
	hook := func(r sink.Received) {
		if !armed.Load() {
			return
		}
		// The sink has the whole message; the daemon has not seen the 250.
		killOnce.Do(func() {
			cur.Load().kill()
			killed <- r
		})
	}
	n.hook.Store(&hook)
	d := n.startDaemon()
	cur.Store(d)

	// Two mails go through normally, one at a time.
	for i := range 2 {
		n.eventOf(n.export(3120, fmt.Sprint("before ", i)), d)
		waitMessages(t, n.sink, i+1, 30*time.Second)
	}
	// The third is the only delivery under way when the daemon dies.
	armed.Store(true)
	victimEv := n.eventOf(n.export(3120, "victim"), d)
	var victim sink.Received
	select {
	case victim = <-killed:
	case <-time.After(30 * time.Second):
		t.Fatalf("no message reached the sink\n%s", d.output())
	}
	if d.alive() {
		t.Fatal("daemon still alive after kill -9")
	}
	if h := victim.Header.Get("X-DXT-Event-ID"); h != strconv.FormatUint(victimEv, 10) {
		t.Fatalf("the message under way is of event %s, want %d", h, victimEv)
	}
	var state string
	if err := n.db.QueryRowContext(n.ctx, `SELECT state FROM dxt_outbox WHERE message_id = ?`, victim.MessageID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "delivering" {
		t.Fatalf("the accepted message's row is %q after the kill, want delivering (committed before the final dot)", state)
	}

	// Seven more exports while the daemon is down, then a restart.
	for i := range 7 {
		n.export(3120, fmt.Sprint("while down ", i))
	}
	d = n.startDaemon()
	cur.Store(d)
	const total = 10
	n.waitEvents(total, d)
	st := n.waitOutboxSettled(total, 45*time.Second, d)
	if st["sent"] != total-1 || st["uncertain"] != 1 {
		t.Fatalf("outbox %v, want %d sent and 1 uncertain", st, total-1)
	}
	msgs := n.sink.Messages()
	assertNoDuplicates(t, msgs)
	byMID, byEvent := countMessages(msgs)
	if len(msgs) != total || len(byEvent) != total {
		t.Fatalf("%d messages for %d events, want %d for %d", len(msgs), len(byEvent), total, total)
	}
	if byMID[victim.MessageID] != 1 {
		t.Fatalf("the message accepted at the kill was received %d times", byMID[victim.MessageID])
	}

	// The row is uncertain, in the API and in readyz.
	var list struct {
		Notifications []struct {
			ID        uint64  `json:"id"`
			EventID   *uint64 `json:"event_id"`
			State     string  `json:"state"`
			MessageID *string `json:"message_id"`
			LastError *string `json:"last_error"`
		} `json:"notifications"`
	}
	if code := n.getJSON("/api/v1/notifications?state=uncertain", &list); code != http.StatusOK {
		t.Fatalf("GET notifications: status %d", code)
	}
	if len(list.Notifications) != 1 || list.Notifications[0].EventID == nil || *list.Notifications[0].EventID != victimEv ||
		list.Notifications[0].MessageID == nil || *list.Notifications[0].MessageID != victim.MessageID {
		t.Fatalf("uncertain notifications %+v, want the one of event %d", list.Notifications, victimEv)
	}
	if le := list.Notifications[0].LastError; le == nil || !strings.Contains(*le, "not sent again") {
		t.Errorf("last_error %v does not say it is not sent again", le)
	}
	var ready struct {
		Details struct {
			Notifications struct {
				Uncertain int64            `json:"uncertain"`
				ByState   map[string]int64 `json:"by_state"`
			} `json:"notifications"`
		} `json:"details"`
	}
	if code := n.getJSON("/readyz", &ready); code != http.StatusOK {
		t.Fatalf("readyz status %d", code)
	}
	if ready.Details.Notifications.Uncertain != 1 || ready.Details.Notifications.ByState["sent"] != total-1 {
		t.Fatalf("readyz notifications %+v, want 1 uncertain and %d sent", ready.Details.Notifications, total-1)
	}
	if ev := n.apiEvent(victimEv); ev.Notified {
		t.Errorf("the uncertain event shows notified=true: %+v", ev)
	}
	d.stop(t)
}

func TestNotifyStormSendsLimitThenOneSummary(t *testing.T) {
	const (
		exports = 25
		limit   = 5
	)
	n := newNotifStack(t, map[string]string{
		"notify_admin_email":    "sec@example.com",
		"notify_min_records":    "1000",
		"notify_max_per_minute": strconv.Itoa(limit),
	})
	d := n.startDaemon()
	start := time.Now()
	var events []uint64
	for i := range exports {
		n.export(3120, fmt.Sprint("storm ", i))
	}
	n.waitEvents(exports, d)
	rs, err := n.db.QueryContext(n.ctx, `SELECT id FROM dxt_event ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id uint64
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		events = append(events, id)
	}
	rs.Close()
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the %d exports took %s to become events; the storm must happen within a minute", exports, took)
	}
	// The limit is reached and the rest held back.
	n.poll(30*time.Second, d, func() (bool, string) {
		st := n.outboxStates()
		return st["sent"] == limit && st["held"] == exports-limit, fmt.Sprintf("outbox %v, want %d sent and %d held", st, limit, exports-limit)
	})
	if got := len(n.sink.Messages()); got != limit {
		t.Fatalf("%d mails, want %d before the window frees", got, limit)
	}
	// When the minute has passed, one summary lists the held ones.
	msgs := waitMessages(t, n.sink, limit+1, 90*time.Second)
	st := n.waitOutboxSettled(exports+1, 30*time.Second, d)
	if st["sent"] != limit+1 || st["summarized"] != exports-limit {
		t.Fatalf("outbox %v, want %d sent (with the summary) and %d summarized", st, limit+1, exports-limit)
	}
	msgs = n.sink.Messages()
	if len(msgs) != limit+1 {
		t.Fatalf("%d mails, want %d and one summary: %v", len(msgs), limit, subjects(msgs))
	}
	assertNoDuplicates(t, msgs)
	_, byEvent := countMessages(msgs)
	if len(byEvent) != limit {
		t.Errorf("%d events mailed individually, want %d", len(byEvent), limit)
	}
	sum := msgs[limit]
	if k := sum.Header.Get("X-DXT-Kind"); k != "summary" {
		t.Fatalf("last mail is %q (%s), want the summary", k, sum.Subject)
	}
	wantSubject := fmt.Sprintf("[Data Export Tracker] %d take-outs held back (limit %d mails a minute)", exports-limit, limit)
	if sum.Subject != wantSubject {
		t.Errorf("summary subject %q, want %q", sum.Subject, wantSubject)
	}
	text, _, err := sum.Text()
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "- ") && strings.Contains(line, "jsmith") && strings.Contains(line, "Contacts") && strings.Contains(line, "3,120") {
			listed++
		}
	}
	if listed != exports-limit {
		t.Errorf("the summary lists %d take-outs, want %d:\n%s", listed, exports-limit, text)
	}
	t.Logf("summary arrived %s after the first mail", sum.At.Sub(msgs[0].At).Round(time.Second))
	// Every event, mailed alone or in the summary, is notified.
	for _, id := range events {
		n.waitNotified(id, d)
	}
	d.stop(t)
}
