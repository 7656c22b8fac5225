package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
)

// sample is one intake row and what became of it.
type sample struct {
	intake  int64
	event   uint64
	commit  time.Time   // the INSERT's autocommit returned
	visible time.Time   // the poller first saw dxt_intake.event_id set; zero = never
	mails   []time.Time // the sink held each mail of the event
}

// measurement is one paced run.
type measurement struct {
	samples    []sample
	seconds    float64 // writing took
	rate       float64 // achieved rows per second
	pollCycles int
	outbox     map[string]int // dxt_outbox rows per state at the end
	retried    int            // rows that needed more than one attempt
	retryWhy   []string       // their last errors, most frequent first (at most 3)
	otherMails int            // mails without an event id (none expected)
}

// measure writes n intake rows at rate rows per second and waits until
// each has its event and its mails (or the -wait runs out).
func (e *env) measure(ctx context.Context, d *proc, n int, rate float64) (*measurement, error) {
	wconn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer wconn.Close()
	pconn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer pconn.Close()

	var (
		mu      sync.Mutex
		written []int64 // in order
		commits = make(map[int64]time.Time, n)
		seen    = make(map[int64]time.Time, n)
		events  = make(map[int64]uint64, n)
	)
	pctx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan error, 1)
	cycles := 0
	go func() { pollDone <- e.pollEvents(pctx, pconn, &mu, &written, seen, events, &cycles) }()
	stopPoller := func() error {
		stopPoll()
		if err := <-pollDone; err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("event poller: %w", err)
		}
		return nil
	}

	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range n {
		if due := start.Add(time.Duration(i) * interval); time.Until(due) > 0 {
			select {
			case <-ctx.Done():
				_ = stopPoller()
				return nil, ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
		res, err := wconn.ExecContext(ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name)
VALUES ('listview_export', UTC_TIMESTAMP(6), 5, 'Contacts', ?, '192.0.2.1', 'notifybench', '{"mode":"ExportAllData"}', 'Contacts.csv')`, e.o.records)
		at := time.Now()
		if err != nil {
			_ = stopPoller()
			return nil, fmt.Errorf("write intake row: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			_ = stopPoller()
			return nil, err
		}
		mu.Lock()
		written = append(written, id)
		commits[id] = at
		mu.Unlock()
	}
	m := &measurement{seconds: time.Since(start).Seconds()}
	m.rate = float64(n) / m.seconds

	// Wait for every event and every mail, then for the outbox to settle
	// (so that a duplicate, were there one, would be counted).
	deadline := time.Now().Add(e.o.settleWait)
	for {
		if !d.alive() {
			_ = stopPoller()
			return nil, fmt.Errorf("the daemon died: %v\n%s", d.err, tail(d.out.String(), 4000))
		}
		mu.Lock()
		missingEvents := len(written) - len(seen)
		missingMails := 0
		e.mu.Lock()
		for _, id := range written {
			if ev, ok := events[id]; !ok || len(e.mailAt[ev]) < e.o.admins {
				missingMails++
			}
		}
		e.mu.Unlock()
		mu.Unlock()
		busy, err := e.busyOutbox(ctx)
		if err != nil {
			_ = stopPoller()
			return nil, err
		}
		if missingEvents == 0 && missingMails == 0 && busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			fmt.Printf("gave up waiting after %s: %d rows without event, %d without all their mails, %d outbox rows busy; reporting what arrived\n",
				e.o.settleWait, missingEvents, missingMails, busy)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stopPoller(); err != nil {
		return nil, err
	}
	if m.outbox, err = e.outboxStates(ctx); err != nil {
		return nil, err
	}
	if m.retried, m.retryWhy, err = e.retries(ctx); err != nil {
		return nil, err
	}

	// Rows the poller missed (it stopped early) get their event id here.
	mu.Lock()
	defer mu.Unlock()
	for _, id := range written {
		if _, ok := events[id]; ok {
			continue
		}
		var ev sql.Null[uint64]
		if err := e.db.QueryRowContext(ctx, `SELECT event_id FROM dxt_intake WHERE id = ?`, id).Scan(&ev); err != nil {
			return nil, err
		}
		if ev.Valid {
			events[id] = ev.V
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range written {
		s := sample{intake: id, event: events[id], commit: commits[id], visible: seen[id]}
		if s.event != 0 {
			s.mails = append([]time.Time(nil), e.mailAt[s.event]...)
		}
		m.samples = append(m.samples, s)
	}
	m.pollCycles = cycles
	m.otherMails = e.other
	return m, nil
}

// pollEvents looks every -poll for intake rows written and not yet seen
// with an event id, and records when it first saw each.
func (e *env) pollEvents(ctx context.Context, conn *sql.Conn, mu *sync.Mutex, written *[]int64, seen map[int64]time.Time, events map[int64]uint64, cycles *int) error {
	tick := time.NewTicker(e.o.poll)
	defer tick.Stop()
	next := 0 // index in written of the first row not yet seen
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		mu.Lock()
		for next < len(*written) {
			if _, ok := seen[(*written)[next]]; !ok {
				break
			}
			next++
		}
		if next == len(*written) {
			mu.Unlock()
			continue
		}
		lo, hi := (*written)[next], (*written)[len(*written)-1]
		mu.Unlock()
		rs, err := conn.QueryContext(ctx, `SELECT id, event_id FROM dxt_intake WHERE id BETWEEN ? AND ? AND event_id IS NOT NULL`, lo, hi)
		if err != nil {
			return err
		}
		at := time.Now()
		type hit struct {
			id int64
			ev uint64
		}
		var hits []hit
		for rs.Next() {
			var h hit
			if err := rs.Scan(&h.id, &h.ev); err != nil {
				rs.Close()
				return err
			}
			hits = append(hits, h)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		mu.Lock()
		*cycles++
		for _, h := range hits {
			if _, ok := seen[h.id]; !ok {
				seen[h.id] = at
				events[h.id] = h.ev
			}
		}
		mu.Unlock()
	}
}

func (e *env) outboxStates(ctx context.Context) (map[string]int, error) {
	rs, err := e.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM dxt_outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]int{}
	for rs.Next() {
		var s string
		var n int
		if err := rs.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rs.Err()
}

// retries counts the outbox rows that needed more than one attempt (of
// this run and the ones before it) and their most frequent last errors.
func (e *env) retries(ctx context.Context) (int, []string, error) {
	rs, err := e.db.QueryContext(ctx, `SELECT COALESCE(last_error, '(none)'), COUNT(*) FROM dxt_outbox WHERE attempts > 1
GROUP BY 1 ORDER BY 2 DESC`)
	if err != nil {
		return 0, nil, err
	}
	defer rs.Close()
	total := 0
	var why []string
	for rs.Next() {
		var msg string
		var n int
		if err := rs.Scan(&msg, &n); err != nil {
			return 0, nil, err
		}
		total += n
		if len(why) < 3 {
			why = append(why, fmt.Sprintf("%d x %s", n, msg))
		}
	}
	return total, why, rs.Err()
}

func (e *env) busyOutbox(ctx context.Context) (int, error) {
	var n int
	err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dxt_outbox WHERE state IN ('pending', 'sending', 'delivering')`).Scan(&n)
	return n, err
}

// smtpFloor times runs SMTP conversations of the daemon's own client
// (mailer) with the sink, one at a time: the cost of the SMTP part alone.
func (e *env) smtpFloor(ctx context.Context, runs int) ([]float64, error) {
	m, err := mailer.New(mailer.Config{Addr: e.sink.Addr(), TLS: mailer.TLSNone, From: benchFrom, Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	var out []float64
	for i := range runs {
		msg := &mailer.Message{
			To:      []string{"floor@bench.example.com"},
			Subject: "[Data Export Tracker] jsmith exported 3,120 Contacts",
			Text:    "jsmith exported 3,120 Contacts\n",
			HTML:    "<p>jsmith exported 3,120 Contacts</p>",
			Headers: map[string]string{"X-DXT-Kind": "floor", "X-Floor-Seq": fmt.Sprint(i)},
		}
		t0 := time.Now()
		if err := m.Send(ctx, msg, nil); err != nil {
			return nil, err
		}
		out = append(out, float64(time.Since(t0).Microseconds())/1000)
	}
	sort.Float64s(out)
	return out, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
