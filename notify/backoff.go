package notify

import (
	"math/rand/v2"
	"time"
)

// Defaults of the retry policy.
const (
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = time.Hour
	DefaultGiveUpAfter = 24 * time.Hour
)

// backoff is the wait before attempt n+1 after n failed attempts: base,
// 2 base, 4 base... capped at max, each scaled by a random factor in
// [0.8, 1.2) so that rows failed together do not retry together.
func backoff(attempts int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
