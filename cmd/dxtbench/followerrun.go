package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/vtiger"
)

// checkpointName keys the benchmark follower's dxt_checkpoint row.
const checkpointName = "dxtbench"

// pipeline is the daemon's binlog pipeline as cmd/dxtracker wires it: a
// Follower feeding a Processor.
type pipeline struct {
	e       *env
	proc    *ingest.Processor
	fol     *binlog.Follower
	created atomic.Int64 // events created (not merged), from OnCommit
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // Run's result, set before done closes
}

// newPipeline builds the pair; onCommit, if set, also sees every commit.
func newPipeline(e *env, onCommit func([]ingest.Created)) *pipeline {
	p := &pipeline{e: e}
	log := e.componentLog()
	p.proc = ingest.New(e.db, vtiger.NewDirectory(e.db, log), log, ingest.Options{
		CheckpointName: checkpointName,
		OnCommit: func(cs []ingest.Created) {
			n := 0
			for _, c := range cs {
				if !c.Merged {
					n++
				}
			}
			p.created.Add(int64(n))
			if onCommit != nil {
				onCommit(cs)
			}
		},
	})
	p.fol = binlog.New(binlog.Config{
		Addr: e.addr, User: "root", ServerID: followerServerID, Flavor: "mariadb",
		Schema: e.schema, Tables: ingest.WatchedTables, QuietTables: ingest.QuietTables, Columns: ingest.WatchedColumns,
	}, e.db, log, p.proc)
	return p
}

// run starts the follower from `from` in the background.
func (p *pipeline) run(ctx context.Context, from binlog.Position) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.err = p.fol.Run(ctx, from)
	}()
}

// stop cancels the follower and waits for Run, which delivers what it had
// read and saves the checkpoint.
func (p *pipeline) stop() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	<-p.done
	return p.err
}

// waitFor polls until the accepted position reaches end and at least
// minCreated events were created, or Run ends, or timeout passes.
func (p *pipeline) waitFor(ctx context.Context, end binlog.Position, minCreated int64, timeout time.Duration) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for {
		st := p.fol.Status()
		if reached(st.Position, end) && p.created.Load() >= minCreated {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("follower not done after %s: at %s (want %s), %d/%d events created",
				timeout, st.Position, end, p.created.Load(), minCreated)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return fmt.Errorf("follower stopped early: %v", p.err)
		case <-tick.C:
		}
	}
}

// runFollowerThroughput replays the fill range through the real pipeline.
// The processor is not Started: Start would turn the unprocessed intake rows
// into events from the table, and here the binlog must do that work.
func runFollowerThroughput(ctx context.Context, e *env, fill fillResult, profile string) (streamResult, error) {
	res := streamResult{Name: "follower", Expected: fill.Intake}
	var events, pending int64
	if err := e.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM dxt_event), (SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL)`).Scan(&events, &pending); err != nil {
		return res, err
	}
	if events != 0 || pending != fill.Intake {
		return res, fmt.Errorf("before the run: %d events (want 0), %d unprocessed intake rows (want %d)", events, pending, fill.Intake)
	}
	p := newPipeline(e, nil)
	stopProfile, err := startProfile(profile)
	if err != nil {
		return res, err
	}
	cpu := e.cpuNow()
	began := time.Now()
	p.run(ctx, fill.Start)
	werr := p.waitFor(ctx, fill.End, fill.Intake, 10*time.Minute)
	res.Seconds = time.Since(began).Seconds()
	res.BenchCPU, res.ServerCPU = e.cpuSince(cpu)
	stopProfile()
	st := p.fol.Status()
	if err := errors.Join(werr, p.stop()); err != nil {
		return res, err
	}
	res.Batches = p.proc.Counters.Batches.Load()
	if err := e.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM dxt_event), (SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL)`).Scan(&events, &pending); err != nil {
		return res, err
	}
	if events != fill.Intake || pending != 0 {
		return res, fmt.Errorf("after the run: %d events for %d intake rows, %d still unprocessed", events, fill.Intake, pending)
	}
	res.Created = events
	e.log.Info().Int64("events", events).Uint64("batches", res.Batches).Uint64("binlog_events_read", st.EventsRead).
		Float64("seconds", res.Seconds).Msg("follower done")
	return res, nil
}

// resetProcessed undoes a follower run over the fill range: no events, all
// intake rows unprocessed, no checkpoint.
func resetProcessed(ctx context.Context, e *env) error {
	_, err := e.db.ExecContext(ctx, `DELETE FROM dxt_event;
UPDATE dxt_intake SET processed_at = NULL, event_id = NULL, process_note = NULL;
DELETE FROM dxt_checkpoint WHERE name = ?`, checkpointName)
	if err != nil {
		return fmt.Errorf("reset before the next follower run: %w", err)
	}
	return nil
}

// startProfile writes a CPU profile to path until the returned func is
// called, and the block profile (cumulative over the process's profiled
// windows) to path.block; an empty path profiles nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	runtime.SetBlockProfileRate(10_000) // every blocking event of 10 µs or more
	return sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		f.Close()
		runtime.SetBlockProfileRate(0)
		if bf, err := os.Create(path + ".block"); err == nil {
			_ = pprof.Lookup("block").WriteTo(bf, 0)
			bf.Close()
		}
	}), nil
}
