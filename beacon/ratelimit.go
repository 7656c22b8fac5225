package beacon

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// Limit is a token bucket: Rate tokens per second, at most Burst saved up.
// A zero Rate means no limit.
type Limit struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// limiter keeps one token bucket per key (a user id, a client address) in
// shards, so concurrent handlers rarely share a lock. Memory is bounded: a
// shard holds at most maxKeys/shards buckets; past that, full buckets
// (which equal a fresh one) are dropped first, then arbitrary ones, which
// only errs on the lenient side.
type limiter struct {
	limit  Limit
	seed   maphash.Seed
	shards [limiterShards]limiterShard
	perMax int
}

const limiterShards = 64

type limiterShard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(l Limit, maxKeys int) *limiter {
	if maxKeys < limiterShards {
		maxKeys = limiterShards
	}
	lm := &limiter{limit: l, seed: maphash.MakeSeed(), perMax: maxKeys / limiterShards}
	for i := range lm.shards {
		lm.shards[i].buckets = map[string]*bucket{}
	}
	return lm
}

// allow takes one token for key at now. When none is left it returns false
// and how long until one is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.limit.Rate <= 0 {
		return true, 0
	}
	burst := float64(max(l.limit.Burst, 1))
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= l.perMax {
			sh.pruneLocked(now, l.limit.Rate, burst, l.perMax)
		}
		b = &bucket{tokens: burst, last: now}
		sh.buckets[key] = b
	} else if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*l.limit.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.limit.Rate * float64(time.Second))
	return false, wait
}

// peek says whether allow would let key pass at now, without taking a
// token, and if not how long until it would.
func (l *limiter) peek(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.limit.Rate <= 0 {
		return true, 0
	}
	burst := float64(max(l.limit.Burst, 1))
	sh := &l.shards[maphash.String(l.seed, key)%limiterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[key]
	if b == nil {
		return true, 0
	}
	tokens := b.tokens
	if el := now.Sub(b.last).Seconds(); el > 0 {
		tokens = math.Min(burst, tokens+el*l.limit.Rate)
	}
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / l.limit.Rate * float64(time.Second))
}

func (sh *limiterShard) pruneLocked(now time.Time, rate, burst float64, perMax int) {
	for k, b := range sh.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= burst {
			delete(sh.buckets, k)
		}
	}
	// Still full: forget arbitrary ones, a quarter at once so the scan
	// above does not run for every new key.
	for k := range sh.buckets {
		if len(sh.buckets) < perMax*3/4 {
			break
		}
		delete(sh.buckets, k)
	}
}

// size is the number of buckets held (for tests).
func (l *limiter) size() int {
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].buckets)
		l.shards[i].mu.Unlock()
	}
	return n
}
