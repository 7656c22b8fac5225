package procstat

import (
	"os"
	"testing"
	"time"
)

func TestOwnProcessHasMemoryAndCPUTime(t *testing.T) {
	// Burn more than a clock tick (10 ms) of CPU to read back.
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
	}
	pid := os.Getpid()
	if rss, hwm := Status(pid, "VmRSS"), Status(pid, "VmHWM"); rss <= 0 || hwm < rss {
		t.Fatalf("VmRSS %d, VmHWM %d: want RSS > 0 and HWM >= RSS", rss, hwm)
	}
	if cpu := CPUSeconds(pid); cpu <= 0 {
		t.Fatalf("CPUSeconds = %v, want > 0", cpu)
	}
	if Status(pid, "NoSuchField") != 0 || Status(-1, "VmRSS") != 0 || CPUSeconds(-1) != 0 {
		t.Fatal("unknown field or process must read as 0")
	}
}
