package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestStormLimitHoldsTheRestAndSendsOneSummaryWhenTheWindowFrees(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) { s.NotifyMaxPerMinute = 3 })
	_, stop := e.start()
	var evs []tracker.Event
	for i := range 10 {
		evs = append(evs, e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(int64(1000 + i))}))
	}
	e.waitRows(5*time.Second, func(rows []outboxRow) bool {
		sent, held := 0, 0
		for _, r := range rows {
			switch r.State {
			case notify.StateSent:
				sent++
			case notify.StateHeld:
				held++
			}
		}
		return sent == 3 && held == 7
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(e.sink.Messages()); n != 3 {
		t.Fatalf("%d mails within the minute, want the limit of 3", n)
	}
	// The window frees: one summary of the 7 held events, nothing else.
	e.clock.Advance(61 * time.Second)
	msgs := e.waitMail(4)
	rows := e.waitRows(5*time.Second, allIn(notify.StateSent, notify.StateSummarized))
	time.Sleep(300 * time.Millisecond)
	if n := len(e.sink.Messages()); n != 4 {
		t.Fatalf("%d mails, want 3 + 1 summary", n)
	}
	summary := msgs[3]
	if !strings.Contains(summary.Subject, "7 take-outs held back (limit 3 mails a minute)") {
		t.Errorf("summary subject %q", summary.Subject)
	}
	text, _, _ := summary.Text()
	if c := strings.Count(text, "  jsmith  "); c != 7 {
		t.Errorf("summary lists jsmith %d times, want 7:\n%s", c, text)
	}
	summaries := 0
	for _, r := range rows {
		if r.Kind == notify.KindSummary {
			summaries++
		}
		if r.State == notify.StateSummarized && !r.Sent {
			t.Errorf("summarized row %d without the summary's sent_at", r.ID)
		}
	}
	if summaries != 1 {
		t.Errorf("%d summary rows, want 1", summaries)
	}
	for _, ev := range evs {
		if st, _ := e.eventState(ev.ID); st != notify.EventSent {
			t.Errorf("event %d notify_state %q, want sent", ev.ID, st)
		}
	}
	// The limit is counted from the table: after a restart, in the same
	// minute as the summary, 2 more fit in the window of 3 and the third
	// is held.
	stop()
	e.start()
	for range 3 {
		e.record(eventSpec{user: "jsmith", module: "Leads", records: i64(5)})
	}
	e.waitRows(5*time.Second, func(rows []outboxRow) bool {
		n := len(rows)
		return rows[n-3].State == notify.StateSent && rows[n-2].State == notify.StateSent && rows[n-1].State == notify.StateHeld
	})
}
