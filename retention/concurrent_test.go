package retention

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// written is an event a writer committed, with its content.
type written struct{ event, content uint64 }

var writerSeq atomic.Int64

// writeLikeIngest commits one transaction shaped like the ingest's: small
// contents, events pointing to them (tracker.WriteContents,
// tracker.InsertEvent), an outbox row per event.
func writeLikeIngest(db *sql.DB, at time.Time, n int) ([]written, error) {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	cs := make([]tracker.SmallContent, n)
	for i := range cs {
		cs[i] = tracker.SmallContent{In: tracker.ContentInput{Name: "copy.txt", MediaType: "text/plain"},
			Data: fmt.Appendf(nil, "copied text %d %d", writerSeq.Add(1), time.Now().UnixNano())}
	}
	metas, err := tracker.WriteContents(ctx, tx, cs)
	if err != nil {
		return nil, err
	}
	out := make([]written, 0, n)
	for _, m := range metas {
		cid := m.ID
		id, _, err := tracker.InsertEvent(ctx, tx, tracker.NewEvent{OccurredAt: at, Type: tracker.TypeCopy, Source: tracker.SourceBeacon,
			Details: map[string]any{"chars": 20}, ContentID: &cid, DedupeKey: fmt.Sprintf("live:%d", writerSeq.Add(1))})
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dxt_outbox (dedupe_key, kind, channel, recipient, recipient_hash, event_id, state, next_attempt_at, created_at, updated_at)
VALUES (?, 'event', 'email', 'sec@example.com', SHA2('sec@example.com', 256), ?, 'pending', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))`,
			fmt.Sprintf("live-ob:%d", id), id); err != nil {
			return nil, err
		}
		out = append(out, written{id, cid})
	}
	return out, tx.Commit()
}

// writers runs k goroutines of writeLikeIngest until stop is closed.
type writers struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	all  []written
	errs []error
}

func startWriters(db *sql.DB, k, perTx int, at time.Time, stop <-chan struct{}, lat func() *latencies) *writers {
	w := &writers{}
	for range k {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				l := lat()
				began := time.Now()
				ws, err := writeLikeIngest(db, at, perTx)
				l.add(time.Since(began))
				w.mu.Lock()
				if err != nil {
					w.errs = append(w.errs, err)
				}
				w.all = append(w.all, ws...)
				w.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	return w
}

// checkSurvivors fails unless every written event is there with its content.
func checkSurvivors(t *testing.T, db *sql.DB, ws []written) {
	t.Helper()
	if len(ws) == 0 {
		t.Fatal("the writers wrote nothing")
	}
	minID := ws[0].event
	for _, w := range ws {
		minID = min(minID, w.event)
	}
	got := map[uint64]uint64{}
	rows, err := db.Query(`SELECT e.id, c.id FROM dxt_event e JOIN dxt_content c ON c.id = e.content_id
  JOIN dxt_content_chunk k ON k.content_id = c.id AND k.seq = 0 WHERE e.type = 'copy' AND e.id >= ?`, minID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, c uint64
		if err := rows.Scan(&e, &c); err != nil {
			t.Fatal(err)
		}
		got[e] = c
	}
	lost := 0
	for _, w := range ws {
		if got[w.event] != w.content {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d events written during the purge lost (or lost their content)", lost, len(ws))
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_outbox WHERE dedupe_key LIKE 'live-ob:%'`); n != int64(len(ws)) {
		t.Errorf("%d outbox rows of live events, want %d", n, len(ws))
	}
}

func TestPurgeDuringConcurrentWritesKeepsEveryNewEventWithoutDeadlock(t *testing.T) {
	db := migratedDB(t)
	db.SetMaxOpenConns(16)
	const oldEvents = 20000
	generate(t, db, genSpec{Events: oldEvents, Start: testNow.AddDate(0, 0, -100), ContentEvery: 4, OutboxEvery: 2, Intake: 5000})

	var during latencies
	stop := make(chan struct{})
	ws := startWriters(db, 4, 5, testNow.Add(-time.Hour), stop, func() *latencies { return &during })
	time.Sleep(200 * time.Millisecond)

	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }, BatchPause: 2 * time.Millisecond})
	rep, err := p.PurgeNow(context.Background(), settings(30, 200))
	time.Sleep(200 * time.Millisecond)
	close(stop)
	ws.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ws.errs {
		t.Errorf("writer: %v", e)
	}
	a := rep.Age
	if a.EventsDeleted != oldEvents || a.ContentsDeleted != oldEvents/4 || a.OutboxRowsDeleted != oldEvents/2 || a.IntakeRowsDeleted != 5000 {
		t.Errorf("purge: %+v", a)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_event WHERE type <> 'copy'`); n != 0 {
		t.Errorf("%d old events left", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_content c WHERE NOT EXISTS (SELECT 1 FROM dxt_event e WHERE e.content_id = c.id)`); n != 0 {
		t.Errorf("%d contents without an event left", n)
	}
	checkSurvivors(t, db, ws.all)
	n, p50, p99, mx := during.summary()
	t.Logf("purged %d events, %d contents, %d outbox, %d intake rows in %d batches, %v; longest batch transaction %v; "+
		"%d concurrent write transactions (%d events): p50 %v, p99 %v, max %v",
		a.EventsDeleted, a.ContentsDeleted, a.OutboxRowsDeleted, a.IntakeRowsDeleted, a.Batches, a.Took.Round(time.Millisecond),
		a.MaxBatch.Round(time.Microsecond), n, len(ws.all), p50, p99, mx)
}

// TestMillionEventPurgeUnderLiveInserts is the live test of issue 6: a
// million events (900,000 to purge, 100,000 content rows, 90,000 outbox
// rows, 500,000 processed intake rows) purged with the default batch of
// 1,000 while writers keep inserting. It logs the total purge time, the
// longest batch transaction and the write latency before and during the
// purge. Opt-in, it takes minutes:
//
//	DXT_LONG=1 go test ./retention -run TestMillionEventPurgeUnderLiveInserts -v -timeout 60m
func TestMillionEventPurgeUnderLiveInserts(t *testing.T) {
	if os.Getenv("DXT_LONG") != "1" {
		t.Skip("long test: set DXT_LONG=1")
	}
	db := migratedDB(t)
	db.SetMaxOpenConns(16)
	began := time.Now()
	generate(t, db, genSpec{Events: 900000, Start: testNow.AddDate(0, 0, -400), Step: 20 * time.Second, ContentEvery: 10, OutboxEvery: 10, Intake: 500000})
	generate(t, db, genSpec{Events: 100000, Start: testNow.AddDate(0, 0, -20), ContentEvery: 10})
	if _, err := db.Exec(`ANALYZE TABLE dxt_event, dxt_content, dxt_intake, dxt_outbox`); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated 1,000,000 events in %v", time.Since(began).Round(time.Second))

	var baseline, during latencies
	cur := &baseline
	var curMu sync.Mutex
	lat := func() *latencies { curMu.Lock(); defer curMu.Unlock(); return cur }
	stop := make(chan struct{})
	ws := startWriters(db, 2, 5, testNow.Add(-time.Hour), stop, lat)
	time.Sleep(10 * time.Second)
	curMu.Lock()
	cur = &during
	curMu.Unlock()

	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }})
	batches := map[string]*latencies{}
	p.opts.afterBatch = func(kind string, _ int, took time.Duration) {
		if batches[kind] == nil {
			batches[kind] = &latencies{}
		}
		batches[kind].add(took)
	}
	rep, err := p.PurgeNow(context.Background(), settings(30, 1000))
	close(stop)
	ws.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ws.errs {
		t.Errorf("writer: %v", e)
	}
	a := rep.Age
	if a.EventsDeleted != 900000 || a.ContentsDeleted != 90000 || a.OutboxRowsDeleted != 90000 || a.IntakeRowsDeleted != 500000 {
		t.Errorf("purge: %+v", a)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_event WHERE type <> 'copy'`); n != 100000 {
		t.Errorf("%d generated events left, want the 100,000 recent ones", n)
	}
	checkSurvivors(t, db, ws.all)
	for kind, l := range batches {
		n, p50, p99, mx := l.summary()
		t.Logf("batch transactions deleting %s: n=%d p50 %v p99 %v max %v", kind, n, p50, p99, mx)
	}
	bn, b50, b99, bmax := baseline.summary()
	dn, d50, d99, dmax := during.summary()
	t.Logf("purge: %d events, %d contents, %d outbox rows, %d intake rows in %d batches; total %v (%.0f events/s); longest batch transaction %v",
		a.EventsDeleted, a.ContentsDeleted, a.OutboxRowsDeleted, a.IntakeRowsDeleted, a.Batches, a.Took.Round(time.Millisecond),
		float64(a.EventsDeleted)/a.Took.Seconds(), a.MaxBatch.Round(time.Microsecond))
	t.Logf("write transactions (5 contents + 5 events + 5 outbox rows) baseline: n=%d p50 %v p99 %v max %v", bn, b50, b99, bmax)
	t.Logf("write transactions during the purge:                               n=%d p50 %v p99 %v max %v", dn, d50, d99, dmax)
	if b50 > 0 && b99 > 0 {
		t.Logf("ratio during/baseline: p50 %.2f, p99 %.2f", float64(d50)/float64(b50), float64(d99)/float64(b99))
	}
}
