package main

import (
	"fmt"
	"io"
	"time"
)

// Goals of issue 4.
const (
	goalRate = 10000.0
	goalP99  = 20 * time.Millisecond
	// Flat memory: the flood may not take the daemon more than this far
	// above its idle RSS.
	goalFloodGrowth = 64 << 20
)

type report struct {
	CPUs         int
	Go           string
	Clients      int
	Users        int
	TextBytes    int
	FloodText    int
	Duration     time.Duration
	Durable      bool
	Load1        float64
	Baseline     loadResult
	Daemon       loadResult
	Transactions float64
	RowsWritten  float64
	WriteSeconds float64
	Ingest       ingestResult
	Paced        loadResult
	Flood        loadResult
	FloodMax     loadResult
	PeakRSS      int64
	FloodBacklog [2]int // intake rows not yet events at the end of each flood
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// flat: no growth over the flood (the last quarter's peak at most 10 %
// above the first's) and the peak within goalFloodGrowth of idle.
func flat(r loadResult) bool {
	q := r.RSSQuarters
	return r.PeakRSS-r.IdleRSS < goalFloodGrowth && float64(q[3]) <= 1.1*float64(max(q[0], q[1]))
}

// goalsMet checks the goals; the memory goal is about the flood at
// ten times the limits (the full-speed flood is shown for information).
func (r report) goalsMet() bool {
	return r.Daemon.rate() >= goalRate && r.Daemon.P99 < goalP99 && flat(r.Flood)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (r report) print(w io.Writer) {
	b, d := r.Baseline, r.Daemon
	fmt.Fprintf(w, "\nbeaconbench: %d CPUs, %s, %d clients, %d users, %d-byte texts, %s per run, MariaDB durable=%v, load %.2f at start\n\n",
		r.CPUs, r.Go, r.Clients, r.Users, r.TextBytes, r.Duration, r.Durable, r.Load1)
	fmt.Fprintf(w, "%-34s %14s %14s %9s\n", "throughput (closed loop)", "baseline 204", "dxtracker", "ratio")
	fmt.Fprintf(w, "%-34s %14.0f %14.0f %9.2f\n", "accepted beacons/s", b.rate(), d.rate(), d.rate()/b.rate())
	for _, row := range []struct {
		name string
		b, d time.Duration
	}{{"p50 latency", b.P50, d.P50}, {"p90 latency", b.P90, d.P90}, {"p99 latency", b.P99, d.P99},
		{"p99.9 latency", b.P999, d.P999}, {"max latency", b.Max, d.Max}} {
		fmt.Fprintf(w, "%-34s %14s %14s %9.2f\n", row.name, ms(row.b), ms(row.d), float64(row.d)/float64(max(row.b, 1)))
	}
	fmt.Fprintf(w, "%-34s %14s %14s\n", "answers", statusLine(b.Status), statusLine(d.Status))
	fmt.Fprintf(w, "%-34s %14d %14d\n", "transport errors", b.Errors, d.Errors)
	fmt.Fprintf(w, "%-34s %14s %14s\n", "peak RSS of the server", mib(b.PeakRSS), mib(d.PeakRSS))
	cpu := func(v float64, r loadResult) string {
		return fmt.Sprintf("%.2f (%3.0fus)", v/r.Seconds, v/float64(max(r.Accepted, 1))*1e6)
	}
	fmt.Fprintf(w, "%-34s %14s %14s\n", "CPU cores: server (per 204)", cpu(b.CPUServer, b), cpu(d.CPUServer, d))
	fmt.Fprintf(w, "%-34s %14s %14s\n", "CPU cores: MariaDB (per 204)", cpu(b.CPUDB, b), cpu(d.CPUDB, d))
	fmt.Fprintf(w, "%-34s %14s %14s\n", "CPU cores: load generator", cpu(b.CPULoad, b), cpu(d.CPULoad, d))
	if r.Transactions > 0 {
		fmt.Fprintf(w, "%-34s %14s %14.0f  (%.0f beacons per transaction, %.1f ms each on average)\n", "write transactions", "",
			r.Transactions, r.RowsWritten/r.Transactions, r.WriteSeconds/r.Transactions*1000)
	}
	fmt.Fprintf(w, "%-34s %14s %14d  (drained %.1f s after the load; %d copy events)\n", "ingest backlog at the end", "",
		r.Ingest.BacklogAtEnd, r.Ingest.DrainSeconds, r.Ingest.Events)

	p := r.Paced
	fmt.Fprintf(w, "\n%-34s %14s\n", "open loop, rate limits off", fmt.Sprintf("%.0f/s", p.Target))
	fmt.Fprintf(w, "%-34s %14.0f\n", "accepted beacons/s", p.rate())
	fmt.Fprintf(w, "%-34s %14s\n", "p50 / p99 latency", ms(p.P50)+" / "+ms(p.P99))
	fmt.Fprintf(w, "%-34s %14s\n", "p99.9 / max latency", ms(p.P999)+" / "+ms(p.Max))
	fmt.Fprintf(w, "%-34s %14s\n", "answers", statusLine(p.Status))

	f, m := r.Flood, r.FloodMax
	fmt.Fprintf(w, "\n%-34s %14s %14s\n", "flood, default limits", "10x limits", "full speed")
	fmt.Fprintf(w, "%-34s %14s %14s\n", "", fmt.Sprintf("%.0f/s open", f.Target), fmt.Sprintf("%d KiB texts", r.FloodText>>10))
	fmt.Fprintf(w, "%-34s %14.0f %14.0f\n", "requests answered/s", float64(f.Sent)/f.Seconds, float64(m.Sent)/m.Seconds)
	fmt.Fprintf(w, "%-34s %14.0f %14.0f\n", "accepted (204)/s", f.rate(), m.rate())
	fmt.Fprintf(w, "%-34s %14s %14s\n", "answers", statusLine(f.Status), statusLine(m.Status))
	fmt.Fprintf(w, "%-34s %14d %14d\n", "not sent (clients busy)", f.Dropped, m.Dropped)
	fmt.Fprintf(w, "%-34s %14s %14s\n", "p99 latency", ms(f.P99), ms(m.P99))
	fmt.Fprintf(w, "%-34s %14s %14s\n", "daemon RSS before", mib(f.IdleRSS), mib(m.RSSStart))
	fmt.Fprintf(w, "%-34s %14s %14s\n", "daemon RSS peak during", mib(f.PeakRSS), mib(m.PeakRSS))
	fmt.Fprintf(w, "%-34s %14s %14s\n", "daemon RSS after", mib(f.RSSEnd), mib(m.RSSEnd))
	quarters := func(q [4]int64) string {
		return fmt.Sprintf("%.0f/%.0f/%.0f/%.0f", float64(q[0])/(1<<20), float64(q[1])/(1<<20), float64(q[2])/(1<<20), float64(q[3])/(1<<20))
	}
	fmt.Fprintf(w, "%-34s %14s %14s\n", "peak per quarter of the flood, MiB", quarters(f.RSSQuarters), quarters(m.RSSQuarters))
	fmt.Fprintf(w, "%-34s %14d %14d\n", "ingest backlog at the end", r.FloodBacklog[0], r.FloodBacklog[1])
	fmt.Fprintf(w, "%-34s %14s\n", "daemon VmHWM (whole run)", mib(r.PeakRSS))

	fmt.Fprintf(w, "\ngoals: >= %.0f accepted/s: %s (%.0f); p99 < %s: %s (%s); flat memory under the 10x flood (no growth, peak < idle + %s): %s (+%s; full speed: +%s, flat: %v)\n",
		goalRate, verdict(d.rate() >= goalRate), d.rate(), goalP99, verdict(d.P99 < goalP99), ms(d.P99),
		mib(goalFloodGrowth), verdict(flat(f)), mib(f.PeakRSS-f.IdleRSS), mib(m.PeakRSS-m.IdleRSS), flat(m))
}
