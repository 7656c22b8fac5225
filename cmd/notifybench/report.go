package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
)

// goalP99Ms is issue 5's goal: intake commit to mail accepted, p99.
const goalP99Ms = 1000

// dist is a latency distribution in milliseconds.
type dist struct {
	N                             int
	P50, P90, P99, Max, Mean, Min float64
}

func newDist(ms []float64) dist {
	if len(ms) == 0 {
		return dist{}
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return dist{N: len(s), P50: quantile(s, .50), P90: quantile(s, .90), P99: quantile(s, .99),
		Max: s[len(s)-1], Min: s[0], Mean: sum / float64(len(s))}
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

type report struct {
	o                         options
	m                         *measurement
	server                    string
	baseline, mail, afterEv   dist
	rowLast                   dist // commit to the last mail of the row (admins > 1)
	floor                     dist
	rows, mails               int
	noEvent, missing, dupRows int
	negative                  int
}

func buildReport(o options, m *measurement, floor []float64, server string) *report {
	r := &report{o: o, m: m, server: server, rows: len(m.samples), floor: newDist(floor)}
	var base, mail, after, last []float64
	ms := func(d float64) float64 { return d / 1e6 }
	for _, s := range m.samples {
		if s.event == 0 {
			r.noEvent++
		}
		if !s.visible.IsZero() {
			v := ms(float64(s.visible.Sub(s.commit)))
			if v < 0 {
				r.negative++
			}
			base = append(base, v)
		}
		r.mails += len(s.mails)
		switch {
		case len(s.mails) < o.admins:
			r.missing++
		case len(s.mails) > o.admins:
			r.dupRows++
		}
		var latest float64
		for _, at := range s.mails {
			v := ms(float64(at.Sub(s.commit)))
			if v < 0 {
				r.negative++
			}
			mail = append(mail, v)
			latest = max(latest, v)
			if !s.visible.IsZero() {
				after = append(after, ms(float64(at.Sub(s.visible))))
			}
		}
		if len(s.mails) > 0 {
			last = append(last, latest)
		}
	}
	r.baseline, r.mail, r.afterEv, r.rowLast = newDist(base), newDist(mail), newDist(after), newDist(last)
	return r
}

func (r *report) ok() bool {
	return r.mail.N > 0 && r.mail.P99 < goalP99Ms && r.missing == 0 && r.dupRows == 0 && r.noEvent == 0
}

func fmtMs(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("x%.2f", a/b)
}

func (r *report) print(out io.Writer) {
	o, m := r.o, r.m
	durable := "durable (flush and sync_binlog at every commit)"
	if !o.durable {
		durable = "not durable (no flush at commit)"
	}
	fmt.Fprintf(out, "\nnotifybench: %d exports (%d records each) at %.1f/s (achieved %.1f/s), %d admin(s): %d mails expected\n",
		r.rows, o.records, o.rate, m.rate, o.admins, r.rows*o.admins)
	fmt.Fprintf(out, "MariaDB %s, %s; %s, %d CPUs; SMTP sink on loopback, no TLS; baseline poller every %s (%d polls)\n\n",
		r.server, durable, runtime.Version(), runtime.NumCPU(), o.poll, m.pollCycles)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	const nameWidth = 42 // left-aligned by padding; the figures align right
	fmt.Fprintf(tw, "%-*s\tn\tp50\tp90\tp99\tmax\tmean\t\n", nameWidth, "measure")
	line := func(name string, d dist) {
		name = fmt.Sprintf("%-*s", nameWidth, name)
		if d.N == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\t-\t\n", name)
			return
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", name, d.N, fmtMs(d.P50), fmtMs(d.P90), fmtMs(d.P99), fmtMs(d.Max), fmtMs(d.Mean))
	}
	line("baseline: intake commit -> event visible", r.baseline)
	line("intake commit -> mail accepted by SMTP", r.mail)
	if o.admins > 1 {
		line("intake commit -> last admin's mail", r.rowLast)
	}
	line("event visible -> mail accepted", r.afterEv)
	line("SMTP conversation alone (mailer -> sink)", r.floor)
	fmt.Fprintf(tw, "%-*s\t\t%s\t%s\t%s\t%s\t%s\t\n",
		nameWidth, "ratio: commit -> mail / baseline", ratio(r.mail.P50, r.baseline.P50), ratio(r.mail.P90, r.baseline.P90), ratio(r.mail.P99, r.baseline.P99),
		ratio(r.mail.Max, r.baseline.Max), ratio(r.mail.Mean, r.baseline.Mean))
	tw.Flush()

	verdict := "MET"
	if r.mail.N == 0 || r.mail.P99 >= goalP99Ms {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "\ngoal: p99 intake commit -> mail accepted < 1 s: %s (p99 %s)\n", verdict, fmtMs(r.mail.P99))
	var states []string
	for k, v := range m.outbox {
		states = append(states, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(states)
	once := "yes"
	if r.missing > 0 || r.dupRows > 0 || r.noEvent > 0 {
		once = "NO"
	}
	fmt.Fprintf(out, "exactly once per admin: %s (%d rows, %d mails; %d rows without event, %d missing a mail, %d with a duplicate; outbox %s)\n",
		once, r.rows, r.mails, r.noEvent, r.missing, r.dupRows, strings.Join(states, " "))
	if m.retried > 0 {
		fmt.Fprintf(out, "retried: %d outbox rows needed more than one attempt (the first retry waits notify_retry_base, 30 s); last errors:\n", m.retried)
		for _, w := range m.retryWhy {
			fmt.Fprintf(out, "  %s\n", w)
		}
	}
	if r.negative > 0 {
		fmt.Fprintf(out, "note: %d samples were negative (clock or measurement error)\n", r.negative)
	}
	fmt.Fprintln(out, "baseline is sampled by polling, so it is late by up to one poll interval plus a query;")
	fmt.Fprintln(out, "\"event visible -> mail\" is therefore slightly understated, \"commit -> mail\" is exact (sink callback).")
}
