package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/dxtracker/dxtracker/ingest"
)

// latencyResult is commit-to-event-visible latency under background load.
type latencyResult struct {
	Seconds          int     `json:"seconds"`
	TargetRate       int     `json:"intake_per_s"`
	IntakeRows       int     `json:"intake_rows"`
	Measured         int     `json:"measured"`
	BackgroundTarget int     `json:"background_target_per_s"`
	BackgroundRate   float64 `json:"background_achieved_per_s"`
	MinMs            float64 `json:"min_ms"`
	P50Ms            float64 `json:"p50_ms"`
	P90Ms            float64 `json:"p90_ms"`
	P99Ms            float64 `json:"p99_ms"`
	MaxMs            float64 `json:"max_ms"`
	MeanMs           float64 `json:"mean_ms"`
}

// runLatency runs the follower live (started as the daemon starts it),
// keeps a paced background load on unwatched tables, writes intake rows at
// a steady rate and measures, per row, the time from its COMMIT returning
// to the processor's commit of its event (ingest.Options.OnCommit, called
// right after the event's transaction committed, so the event is visible).
// The follower is stopped at the end; its checkpoint stays for catch-up.
func runLatency(ctx context.Context, e *env, g *generator, o options) (*latencyResult, error) {
	res := &latencyResult{Seconds: o.latencySeconds, TargetRate: o.latencyRate, BackgroundTarget: o.backgroundRate}
	var mu sync.Mutex
	seen := map[uint64]time.Time{} // event id -> committed
	p := newPipeline(e, func(cs []ingest.Created) {
		now := time.Now()
		mu.Lock()
		for _, c := range cs {
			if _, dup := seen[c.EventID]; !dup {
				seen[c.EventID] = now
			}
		}
		mu.Unlock()
	})
	from, err := p.proc.Start(ctx)
	if err != nil {
		return nil, err
	}
	p.run(ctx, from)
	defer p.stop()

	// Background load for the whole phase, warm-up included.
	untilBG := make(chan struct{})
	bgDone := make(chan error, 1)
	var bg fillResult
	if o.backgroundRate > 0 {
		go func() {
			var err error
			bg, err = g.run(ctx, plan{Label: "background", Writers: o.writers, Rate: float64(o.backgroundRate), PerTrip: 4, Until: untilBG})
			bgDone <- err
		}()
	} else {
		bgDone <- nil
	}
	stopBG := func() error {
		if untilBG != nil {
			close(untilBG)
			untilBG = nil
		}
		return <-bgDone
	}
	defer func() {
		if untilBG != nil {
			_ = stopBG()
		}
	}()

	// Warm up: 2 s of load, then the follower must have caught up.
	if !sleepCtx(ctx, 2*time.Second) {
		return nil, ctx.Err()
	}
	cur, err := writePos(ctx, e.db)
	if err != nil {
		return nil, err
	}
	if err := p.waitFor(ctx, cur, 0, 30*time.Second); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	w, err := g.newWriter(ctx, g.runs.Add(1), 0)
	if err != nil {
		return nil, err
	}
	defer w.conn.Close()
	n := o.latencyRate * o.latencySeconds
	ids := make([]int64, 0, n)
	committed := make(map[int64]time.Time, n)
	tick := time.NewTicker(time.Second / time.Duration(o.latencyRate))
	defer tick.Stop()
	e.log.Info().Int("rows", n).Msg("latency: writing intake rows under background load")
	for range n {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		id, err := w.insertIntake(ctx)
		if err != nil {
			return nil, err
		}
		committed[id] = time.Now()
		ids = append(ids, id)
	}
	res.IntakeRows = len(ids)

	// Wait until every row has its event (or 30 s).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dxt_intake WHERE id BETWEEN ? AND ? AND processed_at IS NULL`, ids[0], ids[len(ids)-1]).Scan(&left); err != nil {
			return nil, err
		}
		if left == 0 || time.Now().After(deadline) {
			break
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
	if err := stopBG(); err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("background load: %w", err)
	}
	if bg.Seconds > 0 {
		res.BackgroundRate = bg.PerSecond
	}
	// Stopped before reading seen: the last delivery calls OnCommit.
	if err := p.stop(); err != nil {
		return nil, fmt.Errorf("follower: %w", err)
	}

	rows, err := e.db.QueryContext(ctx, `SELECT id, event_id FROM dxt_intake WHERE id BETWEEN ? AND ? AND event_id IS NOT NULL`, ids[0], ids[len(ids)-1])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lat []float64
	mu.Lock()
	defer mu.Unlock()
	for rows.Next() {
		var id int64
		var ev uint64
		if err := rows.Scan(&id, &ev); err != nil {
			return nil, err
		}
		c, ok1 := committed[id]
		v, ok2 := seen[ev]
		if ok1 && ok2 {
			lat = append(lat, float64(v.Sub(c).Microseconds())/1000)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	res.Measured = len(lat)
	if len(lat) == 0 {
		return nil, errors.New("no intake row became an event")
	}
	slices.Sort(lat)
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	res.MinMs, res.MaxMs, res.MeanMs = lat[0], lat[len(lat)-1], sum/float64(len(lat))
	res.P50Ms, res.P90Ms, res.P99Ms = quantile(lat, 0.50), quantile(lat, 0.90), quantile(lat, 0.99)
	e.log.Info().Int("measured", res.Measured).Int("written", res.IntakeRows).Float64("p50_ms", res.P50Ms).
		Float64("p99_ms", res.P99Ms).Float64("max_ms", res.MaxMs).Float64("background_per_s", res.BackgroundRate).
		Msg("latency done")
	return res, nil
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
