package binlog

import (
	"context"
	"testing"
	"time"
)

func TestByteBudgetBlocksTheReaderUntilTheApplierReleases(t *testing.T) {
	b := newByteBudget(100)
	ctx := context.Background()
	if got := b.acquire(ctx, 60); got != 60 {
		t.Fatalf("first acquire took %d, want 60", got)
	}
	got := make(chan int64, 1)
	go func() { got <- b.acquire(ctx, 60) }()
	select {
	case n := <-got:
		t.Fatalf("second acquire of 60 passed (%d) with only 40 free", n)
	case <-time.After(50 * time.Millisecond):
	}
	b.release(60)
	if n := <-got; n != 60 {
		t.Fatalf("second acquire took %d after the release, want 60", n)
	}
}

func TestByteBudgetLetsATransactionLargerThanTheBudgetPassAlone(t *testing.T) {
	b := newByteBudget(100)
	if got := b.acquire(context.Background(), 5000); got != 100 {
		t.Fatalf("oversized acquire took %d, want the whole budget 100", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if got := b.acquire(ctx, 1); got != 0 {
		t.Fatalf("acquire on a full budget after ctx ended took %d, want 0 (hand over without room)", got)
	}
}

func TestApplyReleasesTheBudgetOfEveryAppliedBatch(t *testing.T) {
	h := &recorder{}
	f := newApplyFollower(3, time.Hour, h)
	b := newByteBudget(1000)
	ch := make(chan item, 10)
	for i := uint32(1); i <= 7; i++ {
		it := txnItem(i * 100)
		it.held, it.budget = b.acquire(context.Background(), 100), b
		ch <- it
	}
	close(ch)
	f.apply(context.Background(), ch, pos(4), false)
	if !b.sem.TryAcquire(1000) {
		t.Fatal("budget not fully released after every batch was applied")
	}
}
