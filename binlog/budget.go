package binlog

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// byteBudget bounds the bytes of transactions between the reader and the
// applier. Without it the channel bounds only their number, and a stream
// of large transactions (a beacon burst writes 256 rows in one) kept
// hundreds of MiB of decoded rows in memory while the handler was behind.
type byteBudget struct {
	sem *semaphore.Weighted
	max int64
}

func newByteBudget(max int64) *byteBudget {
	return &byteBudget{sem: semaphore.NewWeighted(max), max: max}
}

// acquire waits until n bytes fit and returns what it took, which the
// caller hands back with release. A transaction larger than the whole
// budget takes all of it, so it passes alone. When ctx ends it takes
// nothing and returns 0: the item must still be handed over (the applier
// drains on shutdown), or the position after it would skip it.
func (b *byteBudget) acquire(ctx context.Context, n int64) int64 {
	n = min(max(n, 1), b.max)
	if b.sem.Acquire(ctx, n) != nil {
		return 0
	}
	return n
}

// release hands n bytes back; nil-safe, as a batch may hold none.
func (b *byteBudget) release(n int64) {
	if b != nil && n > 0 {
		b.sem.Release(n)
	}
}
