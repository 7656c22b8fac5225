package binlog

import (
	"context"
	"time"
)

// When the stream is behind (the newest transaction of a batch committed
// on the server at least behindLag ago), the applier waits up to
// maxBatchWait (Follower.batchWait) for more transactions before it calls ApplyBatch, so that
// a backlog goes in large batches rather than in the few transactions the
// reader happened to have queued. A stream that keeps up is never held.
// behindLag allows for the header's whole-second timestamps.
const (
	behindLag    = 2 * time.Second
	maxBatchWait = 20 * time.Millisecond
)

// apply is the group-commit loop of one session. It takes the first item
// blocking, then what is already queued, up to MaxBatchTxns transactions
// or a rotation, and, when the stream is behind, what arrives within
// maxBatchWait (unless the reader says it is idle); then it calls ApplyBatch once. Items without transactions
// only move End; they are delivered alone (a change-less batch) at most
// every IdleFlush, and only after progress on non-quiet tables, or at once
// for a rotation. When ch closes (the reader stopped) what was read is
// delivered; after ctx ends that last delivery runs on a detached,
// bounded context.
func (f *Follower) apply(ctx context.Context, ch <-chan item, accepted Position, flushFirst bool) {
	var (
		txns         []Txn
		end          = accepted
		progress     bool // End moved by non-quiet work since the last delivery
		force        = flushFirst
		lastDelivery time.Time
		dead         bool        // a shutdown delivery failed: drain, deliver nothing
		readerIdle   bool        // the last item said the reader has read everything
		held         int64       // budget bytes the items of txns hold
		budget       *byteBudget // the session's, from the first item holding some
		idle         = time.NewTimer(time.Hour)
		gather       = time.NewTimer(time.Hour)
	)
	idle.Stop()
	gather.Stop()
	defer idle.Stop()
	defer gather.Stop()

	add := func(it item) {
		readerIdle = it.idle
		if it.idle {
			return
		}
		if it.txn != nil {
			txns = append(txns, *it.txn)
		}
		if it.held > 0 {
			held, budget = held+it.held, it.budget
		}
		end = it.end
		progress = progress || it.progress
		force = force || it.flush
	}
	deliver := func() {
		// Applied or dropped (dead), the batch no longer needs its room.
		defer func() {
			budget.release(held)
			held = 0
		}()
		if dead {
			return
		}
		b := Batch{Txns: txns, End: end}
		txns, progress, force = nil, false, false
		if !f.deliver(ctx, b) {
			dead = true
			return
		}
		accepted, lastDelivery = b.End, f.now()
	}
	// behind reports whether the batch so far is worth holding for more.
	behind := func() bool {
		return len(txns) > 0 && !readerIdle && !dead && ctx.Err() == nil &&
			f.now().Sub(txns[len(txns)-1].Timestamp) >= behindLag
	}

	if force {
		deliver()
	}
	for {
		var (
			it item
			ok bool
		)
		if progress && !dead {
			wait := f.cfg.IdleFlush - f.now().Sub(lastDelivery)
			if wait <= 0 {
				deliver()
				continue
			}
			idle.Reset(wait)
			select {
			case it, ok = <-ch:
				idle.Stop()
			case <-idle.C:
				deliver()
				continue
			}
		} else {
			it, ok = <-ch
		}
		if !ok {
			break
		}
		add(it)
		closed, held := false, false
	collect: // a batch ends at a rotation
		for !force && len(txns) < f.cfg.MaxBatchTxns {
			select {
			case it, ok = <-ch:
				if !ok {
					closed = true
					break collect
				}
				add(it)
				continue
			default:
			}
			if !behind() {
				break
			}
			if !held {
				held = true
				gather.Reset(f.batchWait)
			}
			select {
			case it, ok = <-ch:
				if !ok {
					closed = true
					break collect
				}
				add(it)
				if readerIdle {
					break collect
				}
			case <-gather.C:
				held = false
				break collect
			}
		}
		if held {
			gather.Stop()
		}
		if len(txns) > 0 || force {
			deliver()
		}
		if closed {
			break
		}
	}
	// The reader stopped. Deliver what it fully read: transactions always;
	// a moved End after progress, or on shutdown.
	if len(txns) > 0 || force || (end != accepted && (progress || ctx.Err() != nil)) {
		deliver()
	}
}

// deliver calls ApplyBatch until it succeeds, with backoff, and records
// b.End as accepted. Once ctx has ended it makes a last attempt on a
// detached context bounded by shutdownFlushTimeout; if that fails too, it
// logs and reports false (the batch is read again from the checkpoint on
// the next start). A failure caused by ctx ending is shutdown, not an
// error: it leads straight to that last attempt.
func (f *Follower) deliver(ctx context.Context, b Batch) bool {
	bo := newBackoff(minBackoff, maxBackoff)
	actx, final := ctx, false
	for {
		if !final && ctx.Err() != nil {
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(context.WithoutCancel(ctx), shutdownFlushTimeout)
			defer cancel()
			final = true
		}
		err := f.h.ApplyBatch(actx, b)
		if err == nil {
			f.setPosition(b.End)
			return true
		}
		if !final && ctx.Err() != nil {
			continue // cancelled while applying: the last attempt follows
		}
		if final && actx.Err() != nil {
			f.log.Warn().Err(err).Int("txns", len(b.Txns)).Str("end", b.End.String()).
				Msg("binlog: batch not applied at shutdown; it is read again from the checkpoint on the next start")
			return false
		}
		d := bo.next()
		f.log.Warn().Err(err).Int("txns", len(b.Txns)).Str("end", b.End.String()).Dur("retry_in", d).
			Msg("binlog: handler failed to apply batch, retrying the same batch")
		if !sleep(actx, d) && final {
			f.log.Warn().Int("txns", len(b.Txns)).Str("end", b.End.String()).
				Msg("binlog: batch not applied at shutdown; it is read again from the checkpoint on the next start")
			return false
		}
	}
}
