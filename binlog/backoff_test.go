package binlog

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToCapAndResets(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 30*time.Second)
	ceil := 100 * time.Millisecond
	for i := 0; i < 20; i++ {
		d := b.next()
		if d < ceil/2 || d > ceil {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, d, ceil/2, ceil)
		}
		ceil = min(2*ceil, 30*time.Second)
	}
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Errorf("after reset wait = %v, want at most 100ms", d)
	}
}
