package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything one run measured; it is also the --json document.
type results struct {
	Mode      string         `json:"mode"`
	Started   time.Time      `json:"started"`
	Finished  time.Time      `json:"finished"`
	GoVersion string         `json:"go_version"`
	CPUs      int            `json:"cpus"`
	Server    string         `json:"server"`
	Writers   int            `json:"writers"`
	Seed      uint64         `json:"seed"`
	Runs      int            `json:"runs"`
	LoadStart float64        `json:"load1_start"`
	LoadEnd   float64        `json:"load1_end"`
	Fill      fillResult     `json:"fill"`
	Raw       *streamResult  `json:"raw,omitempty"`
	RawCfg    *streamResult  `json:"raw_follower_settings,omitempty"`
	Canal     *streamResult  `json:"canal,omitempty"`
	Follower  *streamResult  `json:"follower,omitempty"`
	Latency   *latencyResult `json:"latency,omitempty"`
	Catchup   *catchupResult `json:"catchup,omitempty"`
	Table     []tableRow     `json:"table"`
}

// tableRow is one line of the final table. Met is nil when there is no goal.
type tableRow struct {
	Measure  string `json:"measure"`
	Value    string `json:"value"`
	Baseline string `json:"baseline,omitempty"`
	Ratio    string `json:"ratio,omitempty"`
	Goal     string `json:"goal,omitempty"`
	Met      *bool  `json:"met,omitempty"`
}

func met(ok bool) *bool { return &ok }

func ratio(a, b float64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", a/b)
}

func buildTable(r *results) []tableRow {
	f := r.Fill
	rows := []tableRow{
		{Measure: "fill: row events (1 row/stmt/txn)", Value: fmt.Sprintf("%d (%d intake)", f.Statements, f.Intake)},
		{Measure: "fill: binlog range", Value: fmt.Sprintf("%.1f MiB in %.1f s (%s stmt/s)", mib(f.Bytes), f.Seconds, formatRate(f.PerSecond))},
	}
	if raw := r.Raw; raw != nil {
		rows = append(rows,
			tableRow{Measure: "raw stream: events/s", Value: formatRate(raw.EventsPerS), Ratio: "1.00"},
			tableRow{Measure: "raw stream: MiB/s", Value: fmt.Sprintf("%.1f", raw.MiBPerS), Ratio: "1.00"},
			tableRow{Measure: "raw stream: events per CPU-s", Value: formatRate(raw.EventsPerCPU), Ratio: "1.00"},
		)
		for _, s := range []*streamResult{r.RawCfg, r.Canal, r.Follower} {
			if s == nil {
				continue
			}
			evRow := tableRow{Measure: s.Name + ": events/s", Value: formatRate(s.EventsPerS), Baseline: "raw " + formatRate(raw.EventsPerS), Ratio: ratio(s.EventsPerS, raw.EventsPerS)}
			if s == r.Follower {
				evRow.Goal, evRow.Met = ">= 0.85 x raw", met(s.EventsPerS >= 0.85*raw.EventsPerS)
			}
			rows = append(rows, evRow,
				tableRow{Measure: s.Name + ": MiB/s", Value: fmt.Sprintf("%.1f", s.MiBPerS), Baseline: fmt.Sprintf("raw %.1f", raw.MiBPerS), Ratio: ratio(s.MiBPerS, raw.MiBPerS)},
				tableRow{Measure: s.Name + ": events per CPU-s", Value: formatRate(s.EventsPerCPU), Baseline: "raw " + formatRate(raw.EventsPerCPU), Ratio: ratio(s.EventsPerCPU, raw.EventsPerCPU)},
			)
		}
		if fo := r.Follower; fo != nil {
			if cn := r.Canal; cn != nil {
				rows = append(rows, tableRow{Measure: "follower vs canal: events/s", Value: formatRate(fo.EventsPerS),
					Baseline: "canal " + formatRate(cn.EventsPerS), Ratio: ratio(fo.EventsPerS, cn.EventsPerS),
					Goal: ">= canal", Met: met(fo.EventsPerS >= cn.EventsPerS)})
			}
			rows = append(rows, tableRow{Measure: "follower: batches (DB transactions)", Value: fmt.Sprint(fo.Batches),
				Baseline: fmt.Sprintf("%d intake rows", fo.Expected), Ratio: perBatch(fo.Expected, fo.Batches)})
			rows = append(rows, tableRow{Measure: "follower: events created", Value: fmt.Sprint(fo.Created),
				Baseline: fmt.Sprintf("%d intake rows", fo.Expected), Ratio: ratio(float64(fo.Created), float64(fo.Expected)),
				Goal: "= intake rows", Met: met(fo.Created == fo.Expected)})
		}
	}
	if l := r.Latency; l != nil {
		rows = append(rows,
			tableRow{Measure: "latency: background load", Value: fmt.Sprintf("%.0f row events/s", l.BackgroundRate),
				Baseline: fmt.Sprintf("target %d", l.BackgroundTarget), Ratio: ratio(l.BackgroundRate, float64(l.BackgroundTarget))},
			tableRow{Measure: "latency: intake rows measured", Value: fmt.Sprintf("%d of %d", l.Measured, l.IntakeRows),
				Goal: "all", Met: met(l.Measured == l.IntakeRows)},
			tableRow{Measure: "latency: p50 commit->event", Value: fmt.Sprintf("%.1f ms", l.P50Ms)},
			tableRow{Measure: "latency: p99 commit->event", Value: fmt.Sprintf("%.1f ms", l.P99Ms), Goal: "< 100 ms", Met: met(l.P99Ms < 100)},
			tableRow{Measure: "latency: max commit->event", Value: fmt.Sprintf("%.1f ms", l.MaxMs)},
		)
	}
	if c := r.Catchup; c != nil {
		mibRow := tableRow{Measure: "catch-up: MiB/s", Value: fmt.Sprintf("%.1f", c.MiBPerS),
			Goal: ">= 68.3 (1 GiB / 15 s)", Met: met(c.MiBPerS >= 1024.0/15)}
		if r.Raw != nil {
			mibRow.Baseline, mibRow.Ratio = fmt.Sprintf("raw %.1f", r.Raw.MiBPerS), ratio(c.MiBPerS, r.Raw.MiBPerS)
		}
		rows = append(rows,
			tableRow{Measure: "catch-up: backlog", Value: fmt.Sprintf("%.1f MiB, %d stmts, %d intake", mib(c.BacklogBytes), c.Statements, c.IntakeRows)},
			tableRow{Measure: "catch-up: restart -> caught up", Value: fmt.Sprintf("%.2f s (start %.2f s + stream %.2f s)", c.Seconds, c.StartSeconds, c.StreamSeconds),
				Baseline: fmt.Sprintf("goal %.2f s", c.GoalSeconds), Ratio: ratio(c.Seconds, c.GoalSeconds),
				Goal: "<= 15 s per GiB", Met: met(c.Seconds <= c.GoalSeconds)},
			mibRow,
			tableRow{Measure: "catch-up: batches (DB transactions)", Value: fmt.Sprint(c.Batches)},
			tableRow{Measure: "catch-up: RSS MiB start/peak/end", Value: fmt.Sprintf("%.0f / %.0f / %.0f", c.Mem.RSSStart, c.Mem.RSSPeak, c.Mem.RSSEnd)},
			tableRow{Measure: "catch-up: HeapInuse MiB start/peak/end", Value: fmt.Sprintf("%.0f / %.0f / %.0f", c.Mem.HeapStart, c.Mem.HeapPeak, c.Mem.HeapEnd)},
		)
	}
	return rows
}

func printTable(w io.Writer, r *results) {
	fmt.Fprintf(w, "\ndxtbench %s: %s, %d CPUs, %s, %d writers, seed %d, load average %.1f at start, %.1f at end\n",
		r.Mode, r.Server, r.CPUs, r.GoVersion, r.Writers, r.Seed, r.LoadStart, r.LoadEnd)
	if r.Raw != nil {
		fmt.Fprintf(w, "range %s .. %s: %d binlog events (%d row events), %.1f MiB; best of %d runs:\n",
			r.Fill.StartText, r.Fill.EndText, r.Raw.Events, r.Raw.RowEvents, mib(r.Fill.Bytes), r.Runs)
		fmt.Fprintln(w, "  (raw+cfg = the raw reader with binlog/stream.go's syncer settings: read timeout, heartbeat, checksum, event cache 256)")
		for _, s := range []*streamResult{r.Raw, r.RawCfg, r.Canal, r.Follower} {
			if s != nil {
				fmt.Fprintf(w, "  %-8s %7.2f s (runs %s)  CPU: dxtbench %.2f s, mariadbd %.2f s\n",
					s.Name, s.Seconds, secondsList(s.RunSeconds), s.BenchCPU, s.ServerCPU)
			}
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tvalue\tbaseline\tratio\tgoal\tmet?")
	fmt.Fprintln(tw, "-------\t-----\t--------\t-----\t----\t----")
	for _, row := range r.Table {
		m := "-"
		if row.Met != nil {
			m = "no"
			if *row.Met {
				m = "yes"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Measure, row.Value, dash(row.Baseline), dash(row.Ratio), dash(row.Goal), m)
	}
	tw.Flush()
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func allMet(rows []tableRow) bool {
	for _, r := range rows {
		if r.Met != nil && !*r.Met {
			return false
		}
	}
	return true
}

func writeJSON(path string, r *results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func secondsList(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, " ")
}

func perBatch(rows int64, batches uint64) string {
	if batches == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f rows/batch", float64(rows)/float64(batches))
}
