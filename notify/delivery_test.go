package notify_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestEnqueueWritesOneRowPerRecipientAndChannelAndIsIdempotent(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) {
		s.NotifyAdminEmail = []string{"a@example.com", "B@example.com", "b@example.com"}
		s.NotifyWebhookURL = "https://hooks.example.com/T0/secret-token"
	})
	ev := e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3120)})
	rows := e.rows()
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 2 e-mails (addresses differing only in case are one) and 1 webhook: %+v", len(rows), rows)
	}
	// A second Enqueue in a new transaction (a replayed batch) is a no-op.
	ctx := context.Background()
	n, err := notify.Enqueue(ctx, e.db, ev, nil, e.settings.get())
	if err != nil || n != 0 {
		t.Fatalf("second enqueue wrote %d rows (err %v), want 0", n, err)
	}
	if got := len(e.rows()); got != 3 {
		t.Fatalf("%d rows after the second enqueue, want 3", got)
	}
	if st, _ := e.eventState(ev.ID); st != notify.EventPending {
		t.Fatalf("event notify_state %q, want pending", st)
	}

	// No address and no webhook: log only, nothing written.
	e.settings.set(func(s *tracker.Settings) { s.NotifyAdminEmail = nil; s.NotifyWebhookURL = "" })
	ev2 := e.record(eventSpec{user: "jsmith", module: "Leads", records: i64(1)})
	if got := len(e.rows()); got != 3 {
		t.Fatalf("%d rows, want still 3", got)
	}
	if st, _ := e.eventState(ev2.ID); st != notify.EventNone {
		t.Fatalf("event without recipients has notify_state %q, want none", st)
	}
}

func TestEventMailIsDeliveredInEnglishWithRulesLinkAndMessageID(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.start()
	ev := e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3120)},
		notify.Match{Rule: "big export", Kind: "threshold", Severity: "high", Reason: "3120 records >= 1000"})
	msgs := e.waitMail(1)
	m := msgs[0]
	if want := "[Data Export Tracker] jsmith exported 3,120 Contacts"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if len(m.To) != 1 || m.To[0] != "admin@example.com" {
		t.Errorf("envelope recipients %v", m.To)
	}
	text, html, err := m.Text()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"jsmith", "Contacts", "3,120", "192.0.2.7", "Mozilla/5.0 (X11)", "list view export",
		"big export (severity: high): 3120 records >= 1000", ev.OccurredAt.Format(time.RFC3339Nano),
		vtigerURL + "/index.php?", "dxt_user=jsmith", "tab=logs"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, "<strong>big export</strong>") || !strings.Contains(html, `href="https://crm.example.com/vtiger/index.php?`) {
		t.Errorf("html part lacks the rule or the link:\n%s", html)
	}
	rows := e.waitRows(5*time.Second, allIn(notify.StateSent))
	if !strings.HasPrefix(m.MessageID, "<dxt-") || !strings.HasSuffix(m.MessageID, "@example.com>") || m.MessageID != rows[0].MessageID {
		t.Errorf("Message-ID %q, row has %q", m.MessageID, rows[0].MessageID)
	}
	if got := m.Header.Get("X-Dxt-Event-Id"); got != strconv.FormatUint(ev.ID, 10) {
		t.Errorf("X-DXT-Event-ID %q", got)
	}
	// The event's state follows its rows' in a statement of its own: wait.
	deadline := time.Now().Add(5 * time.Second)
	st, notified := e.eventState(ev.ID)
	for (st != notify.EventSent || !notified) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st, notified = e.eventState(ev.ID)
	}
	if st != notify.EventSent || !notified {
		t.Errorf("event notify_state %q notified_at set %v, want sent", st, notified)
	}
	got, _, _ := tracker.GetEvent(context.Background(), e.db, ev.ID)
	if !got.Notified {
		t.Error("the API's notified is false after the mail was sent")
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.sink.Messages()); n != 1 {
		t.Fatalf("%d messages, want exactly 1", n)
	}
}

func TestEventMailIsDeliveredInJapanese(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) { s.NotifyLanguage = notify.LangJapanese })
	e.start()
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3120)},
		notify.Match{Rule: "退職予定者", Kind: "watchlist", Severity: "high", Reason: "監視対象のユーザー"})
	m := e.waitMail(1)[0]
	if want := "[Data Export Tracker] jsmith が Contacts を 3,120 件エクスポートしました"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	text, html, err := m.Text()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"日時", "ユーザー", "リストビューのエクスポート", "退職予定者", "重要度: high", "Vtiger で開く"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `lang="ja"`) || !strings.Contains(html, "監視対象のユーザー") {
		t.Errorf("html part:\n%s", html)
	}
}

func TestHostileUserNameBreaksNeitherHeadersNorHTML(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.start()
	e.record(eventSpec{user: "evil\r\nBcc: victim@example.org", module: "<script>alert(1)</script>", records: i64(2)})
	m := e.waitMail(1)[0]
	if m.ParseErr != nil {
		t.Fatal(m.ParseErr)
	}
	if len(m.To) != 1 || m.Header.Get("Bcc") != "" {
		t.Fatalf("header injection: recipients %v, Bcc %q", m.To, m.Header.Get("Bcc"))
	}
	if !strings.Contains(m.Subject, "evil Bcc: victim@example.org exported 2") {
		t.Errorf("subject %q", m.Subject)
	}
	_, html, _ := m.Text()
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html part does not escape the module:\n%s", html)
	}
}

func TestCapturedContentIsAttachedOnlyWhenConfigured(t *testing.T) {
	e := newEnv(t, sink.Options{})
	meta, err := tracker.WriteContent(context.Background(), e.db, tracker.ContentInput{Name: "Contacts.csv", MediaType: "text/csv"},
		strings.NewReader("name,email\nAda,ada@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	e.start()
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(1), contentID: &meta.ID})
	e.settings.set(func(s *tracker.Settings) { s.NotifyAttachContent = true })
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(1), contentID: &meta.ID})
	msgs := e.waitMail(2)
	attached := map[int]bool{}
	for i, m := range msgs {
		parts, err := m.Parts()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.Filename == "Contacts.csv" {
				attached[i] = string(p.Body) == "name,email\nAda,ada@example.com\n"
			}
		}
	}
	if len(attached) != 1 {
		t.Fatalf("attachments in %v, want in exactly one of the two messages", attached)
	}
	for _, ok := range attached {
		if !ok {
			t.Error("attached bytes differ from the captured content")
		}
	}
}
