package binlog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func pos(n uint32) Position { return Position{File: "binlog.000001", Pos: n} }

// txnItem is a transaction committed just now, as when the stream keeps up.
func txnItem(n uint32) item {
	return item{txn: &Txn{End: pos(n), Timestamp: time.Now().UTC(), Changes: []RowChange{{Table: "w", Action: Insert, After: Row{"id": int32(n)}}}},
		end: pos(n), progress: true}
}

// oldTxnItem is a transaction committed a minute ago: the stream is behind.
func oldTxnItem(n uint32) item {
	it := txnItem(n)
	it.txn.Timestamp = it.txn.Timestamp.Add(-time.Minute)
	return it
}

func newApplyFollower(maxTxns int, idle time.Duration, h Handler) *Follower {
	return New(Config{MaxBatchTxns: maxTxns, IdleFlush: idle}, nil, zerolog.Nop(), h)
}

func batchSizes(h *recorder) []int {
	bs, _ := h.snapshot()
	var n []int
	for _, b := range bs {
		n = append(n, len(b.Txns))
	}
	return n
}

func TestApplyGroupsQueuedTransactionsUpToMaxBatchTxns(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(3, time.Hour, h)
	ch := make(chan item, 10)
	for i := uint32(1); i <= 7; i++ {
		ch <- txnItem(i * 100)
	}
	close(ch)
	f.apply(context.Background(), ch, pos(4), false)
	bs, ckpt := h.snapshot()
	if got := batchSizes(h); len(got) != 3 || got[0] != 3 || got[1] != 3 || got[2] != 1 {
		t.Fatalf("batch sizes = %v, want [3 3 1]", got)
	}
	if bs[0].End != pos(300) || bs[1].End != pos(600) || ckpt != pos(700) {
		t.Errorf("batch ends = %v %v, checkpoint %v", bs[0].End, bs[1].End, ckpt)
	}
}

func TestApplyDeliversALoneTransactionAtOnce(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	ch := make(chan item)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	ch <- txnItem(100)
	eventually(t, time.Second, "the batch", func() bool { return len(batchSizes(h)) == 1 })
	close(ch)
	<-done
}

func TestApplyEndsABatchAtARotation(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	ch := make(chan item, 10)
	rot := Position{File: "binlog.000002", Pos: 4}
	ch <- txnItem(100)
	ch <- item{end: rot, progress: true, flush: true}
	second := txnItem(200)
	second.end.File, second.txn.End.File = "binlog.000002", "binlog.000002"
	ch <- second
	close(ch)
	f.apply(context.Background(), ch, pos(4), false)
	bs, _ := h.snapshot()
	if len(bs) != 2 || len(bs[0].Txns) != 1 || bs[0].End != rot || len(bs[1].Txns) != 1 || bs[1].End != second.end {
		t.Errorf("batches = %+v, want [txn 100 ending at %s] [txn 200]", bs, rot)
	}
}

func TestApplyDoesNotDeliverQuietProgress(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, 10*time.Millisecond, h)
	ch := make(chan item, 10)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	for i := uint32(1); i <= 5; i++ {
		ch <- item{end: pos(100 * i)} // e.g. the handler's own checkpoint writes
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(ch)
	<-done
	if n := len(batchSizes(h)); n != 0 {
		t.Errorf("%d batches for quiet progress, want none", n)
	}
}

func TestApplyFlushesChangelessProgressAtMostEveryIdleFlush(t *testing.T) {
	h := &recorder{}
	const idle = 100 * time.Millisecond
	f := newApplyFollower(500, idle, h)
	ch := make(chan item, 10)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	began := time.Now()
	last := uint32(0)
	for time.Since(began) < 550*time.Millisecond {
		last += 10
		ch <- item{end: pos(last), progress: true}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(2 * idle)
	bs, ckpt := h.snapshot()
	if len(bs) < 3 || len(bs) > 8 {
		t.Errorf("%d change-less batches in 550ms with IdleFlush %v, want about 6", len(bs), idle)
	}
	if ckpt != pos(last) {
		t.Errorf("checkpoint = %s, want the last progress %s", ckpt, pos(last))
	}
	close(ch)
	<-done
}

func TestApplyFlushesWhatWasReadOnShutdown(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ch := make(chan item, 10)
	ch <- txnItem(100)
	ch <- item{end: pos(200)}
	close(ch)
	f.apply(ctx, ch, pos(4), false)
	if _, ckpt := h.snapshot(); ckpt != pos(200) || len(h.txns()) != 1 {
		t.Errorf("checkpoint %s with %d txns after shutdown, want %s with 1", ckpt, len(h.txns()), pos(200))
	}
	if f.Status().Position != pos(200) {
		t.Errorf("Status().Position = %s, want %s", f.Status().Position, pos(200))
	}
}

func TestApplyHoldsABatchForMoreWhileBehind(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	f.batchWait = time.Hour
	ch := make(chan item)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	ch <- oldTxnItem(100)
	time.Sleep(50 * time.Millisecond)
	if n := len(batchSizes(h)); n != 0 {
		t.Fatalf("%d batches while behind and holding, want none yet", n)
	}
	ch <- oldTxnItem(200)
	close(ch)
	<-done
	if got := batchSizes(h); len(got) != 1 || got[0] != 2 {
		t.Errorf("batch sizes = %v, want [2]: both transactions in one batch", got)
	}
}

func TestApplyStopsHoldingWhenTheReaderIsIdle(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	f.batchWait = time.Hour
	ch := make(chan item)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	ch <- oldTxnItem(100)
	ch <- item{idle: true}
	eventually(t, time.Second, "the batch", func() bool { return len(batchSizes(h)) == 1 })
	close(ch)
	<-done
	if _, ckpt := h.snapshot(); ckpt != pos(100) {
		t.Errorf("checkpoint = %s, want %s (an idle item moves nothing)", ckpt, pos(100))
	}
}

func TestApplyHoldsAtMostBatchWait(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(500, time.Hour, h)
	f.batchWait = 30 * time.Millisecond
	ch := make(chan item)
	done := make(chan struct{})
	go func() { f.apply(context.Background(), ch, pos(4), false); close(done) }()
	ch <- oldTxnItem(100)
	eventually(t, 2*time.Second, "the held batch", func() bool { return len(batchSizes(h)) == 1 })
	close(ch)
	<-done
}

func TestApplyDoesNotLogCancellationAsFailure(t *testing.T) {
	var logged strings.Builder
	h := &cancelledOnce{}
	f := New(Config{MaxBatchTxns: 500, IdleFlush: time.Hour}, nil, zerolog.New(&logged), h)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	ch := make(chan item, 1)
	ch <- txnItem(100)
	close(ch)
	f.apply(ctx, ch, pos(4), false)
	if h.calls != 2 || f.Status().Position != pos(100) {
		t.Errorf("%d ApplyBatch calls, position %s; want 2 (cancelled, then the shutdown attempt) and %s", h.calls, f.Status().Position, pos(100))
	}
	if strings.Contains(logged.String(), "warn") {
		t.Errorf("a cancelled ApplyBatch was logged as a failure:\n%s", logged.String())
	}
}

// cancelledOnce fails its first ApplyBatch the way a handler does when
// the daemon shuts down during it: ctx ends and the error is ctx's.
type cancelledOnce struct {
	cancel context.CancelFunc
	calls  int
}

func (c *cancelledOnce) ApplyBatch(ctx context.Context, _ Batch) error {
	c.calls++
	if c.calls == 1 {
		c.cancel()
		return fmt.Errorf("commit: %w", ctx.Err())
	}
	return ctx.Err()
}

func (c *cancelledOnce) Resync(context.Context, Position, Position) error { return nil }
