package notify_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

// insert writes an event without notifications.
func (e *env) insert(at time.Time, typ, user, module string, records int64, details map[string]any) {
	e.t.Helper()
	ne := tracker.NewEvent{OccurredAt: at, Type: typ, UserName: &user, Module: &module, RecordCount: &records,
		Source: tracker.SourceProbe, Details: details, DedupeKey: fmt.Sprintf("digest:%d", seq.Add(1))}
	if _, _, err := tracker.InsertEvent(context.Background(), e.db, ne); err != nil {
		e.t.Fatal(err)
	}
}

func TestDigestReportsUsersModulesTopExportersAndExternalScheduledReports(t *testing.T) {
	e := newEnv(t, sink.Options{})
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	e.settings.set(func(s *tracker.Settings) { s.DigestTimezone = "Asia/Tokyo" })
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, tokyo)
	// The day in Tokyo: 2026-03-09T15:00Z to 2026-03-10T15:00Z.
	for _, h := range []int{0, 9, 23} { // 00:30, 09:30 and 23:30 Tokyo
		e.insert(day.Add(time.Duration(h)*time.Hour+30*time.Minute), tracker.TypeListviewExport, "jsmith", "Contacts", 100, nil)
	}
	e.insert(day.Add(12*time.Hour), tracker.TypeReportExport, "mary", "Leads", 50, nil)
	e.insert(day.Add(-time.Minute), tracker.TypeListviewExport, "other", "Contacts", 99999, nil) // the day before: not counted
	e.insert(day.Add(24*time.Hour), tracker.TypeListviewExport, "other", "Contacts", 88888, nil) // the day after
	for d := 1; d <= 30; d += 10 {                                                               // history: 3 x 100 records in 30 days = 10 a day
		e.insert(day.AddDate(0, 0, -d).Add(time.Hour), tracker.TypeListviewExport, "jsmith", "Contacts", 100, nil)
	}
	e.insert(day.Add(8*time.Hour), tracker.TypeScheduledReport, "admin", "Accounts", 1200, map[string]any{
		"report_name": "Weekly accounts",
		"recipients": []map[string]any{
			{"email": "boss@example.com", "external": false},
			{"email": "someone@rival.example.net", "external": true},
		},
		"external_recipients": 1,
	})

	dg := notify.NewDigester(e.db, e.settings.get, zerolog.Nop(), notify.DigestOptions{Now: e.clock.Now})
	n, err := dg.RunDigest(t.Context(), day)
	if err != nil || n != 1 {
		t.Fatalf("RunDigest wrote %d rows (err %v), want 1", n, err)
	}
	if n, err := dg.RunDigest(t.Context(), day); err != nil || n != 0 {
		t.Fatalf("second RunDigest of the same day wrote %d rows (err %v), want 0", n, err)
	}
	e.start()
	m := e.waitMail(1)[0]
	if want := "[Data Export Tracker] Daily digest for 2026-03-10: 5 take-outs, 1,550 records"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	text, html, _ := m.Text()
	for _, want := range []string{
		"2026-03-10 (time zone Asia/Tokyo)",
		"- jsmith / Contacts: take-outs 3, records 300",
		"- mary / Leads: take-outs 1, records 50",
		"- mary: 50 records that day; no exports in the previous 30 days",
		"- jsmith: 300 records that day; 30-day daily average 10.0, ratio x30.0",
		"Weekly accounts", "someone@rival.example.net",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "boss@example.com") {
		t.Error("digest lists an internal recipient as external")
	}
	if !strings.Contains(html, "<strong>Weekly accounts</strong>") {
		t.Errorf("html:\n%s", html)
	}
}

// fakeTime is a clock that moves only when the digester waits.
type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeTime) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeTime) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- f.Now()
	time.Sleep(time.Millisecond) // let the test observe
	return ch
}

func TestDigestSchedulerCatchesUpAndFiresAtTheScheduledTimeOnce(t *testing.T) {
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) {
		s.DigestEnabled = true
		s.DigestSchedule = "0 8 * * *"
		s.DigestTimezone = "UTC"
	})
	ft := &fakeTime{t: time.Date(2026, 3, 10, 7, 58, 0, 0, time.UTC)}
	dg := notify.NewDigester(e.db, e.settings.get, zerolog.Nop(), notify.DigestOptions{Now: ft.Now, After: ft.After})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- dg.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := e.db.QueryRow(`SELECT COUNT(*) FROM dxt_outbox WHERE kind = 'digest'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let it run past a few more minutes of fake time.
	for ft.Now().Before(time.Date(2026, 3, 10, 8, 10, 0, 0, time.UTC)) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs, err := e.db.Query(`SELECT dedupe_key FROM dxt_outbox WHERE kind = 'digest' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var keys []string
	for rs.Next() {
		var k string
		rs.Scan(&k)
		keys = append(keys, k)
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "dig:2026-03-08:") || !strings.HasPrefix(keys[1], "dig:2026-03-09:") {
		t.Fatalf("digest rows %v, want the catch-up of 2026-03-08 (run due 03-09 08:00) and 2026-03-09 (03-10 08:00)", keys)
	}
}
