package binlog

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func pos(n uint32) Position { return Position{File: "binlog.000001", Pos: n} }

func txnItem(n uint32) item {
	return item{txn: &Txn{End: pos(n), Changes: []RowChange{{Table: "w", Action: Insert, After: Row{"id": int32(n)}}}}, end: pos(n), progress: true}
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
