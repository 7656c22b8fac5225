package retention

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScheduleRunsPurgesAndFollowsAChangedScheduleAndTimezone(t *testing.T) {
	db := migratedDB(t)
	old := insertEvent(t, db, testNow.AddDate(0, 0, -40), 0)

	var mu sync.Mutex
	s := settings(30, 100)
	s.RetentionSchedule = "@every 1s"
	get := func() tracker.Settings { mu.Lock(); defer mu.Unlock(); return s }
	set := func(sched, tz string) { mu.Lock(); s.RetentionSchedule, s.RetentionTimezone = sched, tz; mu.Unlock() }

	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }, Recheck: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, get) }()

	waitFor(t, "a scheduled purge", 10*time.Second, func() bool { return p.Stats().Purges >= 1 })
	if exists(t, db, "dxt_event", old) {
		t.Error("scheduled purge left the old event")
	}

	// A new schedule and zone: the scheduler is made again on Reload.
	set("0 0 1 1 *", "Asia/Tokyo")
	p.Reload()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	want := time.Date(time.Now().In(tokyo).Year()+1, 1, 1, 0, 0, 0, 0, tokyo)
	waitFor(t, "the yearly schedule", 5*time.Second, func() bool { return p.Stats().NextRun.Equal(want) })
	waitFor(t, "the running purge to end", 5*time.Second, func() bool { return !p.Stats().Running })
	before := p.Stats().Purges
	time.Sleep(2500 * time.Millisecond)
	if after := p.Stats().Purges; after != before {
		t.Errorf("the old every-second schedule still fires: %d purges, then %d", before, after)
	}

	// An unusable schedule stops purging and says so (NextRun zero) until fixed.
	set("not a schedule", "UTC")
	p.Reload()
	waitFor(t, "no next run", 5*time.Second, func() bool { return p.Stats().NextRun.IsZero() })
	set("@every 1s", "UTC")
	p.Reload()
	waitFor(t, "purges again", 10*time.Second, func() bool { return p.Stats().Purges > before })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_purge WHERE status = 'running'`); n != 0 {
		t.Errorf("%d purges left running", n)
	}
}
