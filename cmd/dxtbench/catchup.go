package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/internal/procstat"
	"github.com/dxtracker/dxtracker/tracker"
)

// catchupResult is the restart after a backlog.
type catchupResult struct {
	BacklogBytes    int64   `json:"backlog_bytes"`
	Statements      int64   `json:"statements"`
	IntakeRows      int64   `json:"intake_rows"`
	GenerateSeconds float64 `json:"generate_seconds"`
	From            string  `json:"from"`
	To              string  `json:"to"`
	Seconds         float64 `json:"seconds"`        // restart until caught up
	StartSeconds    float64 `json:"start_seconds"`  // Processor.Start: settings, checkpoint, intake reconcile
	StreamSeconds   float64 `json:"stream_seconds"` // Follower.Run until the end position
	MiBPerS         float64 `json:"mib_per_s"`      // backlog MiB / Seconds
	GoalSeconds     float64 `json:"goal_seconds"`   // 15 s per GiB
	EventsRead      uint64  `json:"binlog_events"`  // as the follower counted them
	RowsDecoded     uint64  `json:"rows_decoded"`   // watched rows decoded
	Batches         uint64  `json:"batches"`        // ApplyBatch commits
	BinlogEventsPS  float64 `json:"binlog_events_per_s"`
	Mem             memory  `json:"memory_mib"`
}

type memory struct {
	Samples   int     `json:"samples"`
	RSSStart  float64 `json:"rss_start"`
	RSSPeak   float64 `json:"rss_peak"`
	RSSEnd    float64 `json:"rss_end"`
	HeapStart float64 `json:"heap_inuse_start"`
	HeapPeak  float64 `json:"heap_inuse_peak"`
	HeapEnd   float64 `json:"heap_inuse_end"`
}

// runCatchup: with the follower stopped (its checkpoint saved), write a
// backlog, then restart the pipeline as the daemon does (Processor.Start,
// then Follower.Run from the checkpoint) and time it until it has caught up,
// sampling memory every 250 ms.
func runCatchup(ctx context.Context, e *env, g *generator, o options) (*catchupResult, error) {
	from, err := ensureCheckpoint(ctx, e)
	if err != nil {
		return nil, err
	}
	e.log.Info().Str("checkpoint", from.String()).Int64("mib", o.backlogMB).Msg("catch-up: follower stopped, writing the backlog")
	bl, err := g.run(ctx, plan{Label: "backlog", Writers: o.writers, StopBytes: o.backlogMB << 20, IntakeEvery: 100, Sentinel: true, PerTrip: o.perTrip})
	if err != nil {
		return nil, fmt.Errorf("backlog: %w", err)
	}
	bytes, err := rangeBytes(ctx, e.db, from, bl.End)
	if err != nil {
		return nil, err
	}
	res := &catchupResult{BacklogBytes: bytes, Statements: bl.Statements, IntakeRows: bl.Intake,
		GenerateSeconds: bl.Seconds, From: from.String(), To: bl.End.String(),
		GoalSeconds: 15 * mib(bytes) / 1024}
	e.log.Info().Float64("mib", mib(bytes)).Int64("statements", bl.Statements).Int64("intake", bl.Intake).
		Float64("seconds", bl.Seconds).Msg("backlog written; restarting the follower")

	runtime.GC()
	debug.FreeOSMemory()
	stopProfile, err := startProfile(profilePath(o, "catchup.pprof"))
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	smp := startSampler()
	began := time.Now()
	p := newPipeline(e, nil)
	start, err := p.proc.Start(ctx)
	if err != nil {
		smp.stop()
		return nil, err
	}
	res.StartSeconds = time.Since(began).Seconds()
	p.run(ctx, start)
	werr := p.waitFor(ctx, bl.End, 0, 10*time.Minute)
	if werr == nil {
		werr = waitIntakeProcessed(ctx, e, time.Minute)
	}
	res.Seconds = time.Since(began).Seconds()
	res.Mem = smp.stop()
	stopProfile()
	res.StreamSeconds = res.Seconds - res.StartSeconds
	st := p.fol.Status()
	if err := errors.Join(werr, p.stop()); err != nil {
		return nil, err
	}
	res.MiBPerS = mib(bytes) / res.Seconds
	res.EventsRead, res.RowsDecoded = st.EventsRead, st.RowsDecoded
	res.Batches = p.proc.Counters.Batches.Load()
	res.BinlogEventsPS = float64(st.EventsRead) / res.StreamSeconds
	e.log.Info().Float64("seconds", res.Seconds).Float64("start_seconds", res.StartSeconds).
		Float64("mib_per_s", res.MiBPerS).Uint64("batches", res.Batches).Float64("rss_peak_mib", res.Mem.RSSPeak).Msg("catch-up done")
	return res, nil
}

// ensureCheckpoint returns the follower's saved checkpoint, creating one
// (a short run to the current position) when earlier phases were skipped.
func ensureCheckpoint(ctx context.Context, e *env) (binlog.Position, error) {
	cp, ok, err := tracker.LoadCheckpoint(ctx, e.db, checkpointName)
	if err != nil {
		return binlog.Position{}, err
	}
	if !ok {
		p := newPipeline(e, nil)
		start, err := p.proc.Start(ctx)
		if err != nil {
			return binlog.Position{}, err
		}
		cur, err := binlog.CurrentPosition(ctx, e.db)
		if err != nil {
			return binlog.Position{}, err
		}
		p.run(ctx, start)
		if err := errors.Join(p.waitFor(ctx, cur, 0, 5*time.Minute), p.stop()); err != nil {
			return binlog.Position{}, err
		}
		return ensureCheckpoint(ctx, e)
	}
	return binlog.Position{File: cp.File, Pos: uint32(cp.Pos), GTID: cp.GTID}, nil
}

func waitIntakeProcessed(ctx context.Context, e *env, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var left int64
		if err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d intake rows still unprocessed after %s", left, timeout)
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// sampler records VmRSS and HeapInuse every 250 ms.
type sampler struct {
	mu   sync.Mutex
	m    memory
	quit chan struct{}
	done chan struct{}
}

func startSampler() *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, heap := mib(vmRSS()), mib(int64(ms.HeapInuse))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.Samples == 0 {
		s.m.RSSStart, s.m.HeapStart = rss, heap
	}
	s.m.Samples++
	s.m.RSSPeak, s.m.HeapPeak = max(s.m.RSSPeak, rss), max(s.m.HeapPeak, heap)
	s.m.RSSEnd, s.m.HeapEnd = rss, heap
}

func (s *sampler) stop() memory {
	close(s.quit)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m
}

// vmRSS is this process's resident set size in bytes.
func vmRSS() int64 { return procstat.Status(os.Getpid(), "VmRSS") }
