package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/cmd/faultsuite/harness"
)

// Fault kinds, in the order of the table.
const (
	fBaseline   = "none (baseline)"
	fKill       = "kill -9 daemon (running)"
	fKillStart  = "kill -9 daemon, again in start-up"
	fFlush      = "FLUSH BINARY LOGS x5"
	fDumpKill   = "KILL replication thread"
	fRestart    = "MariaDB restart"
	fCrash      = "MariaDB crash (kill -9)"
	fPurge      = "binlog purged while down"
	fSMTP       = "SMTP server down"
	fFinal      = "final drain"
	recipient   = "security@faultsuite.example"
	minRecords  = 100
	readyWithin = 2 * time.Minute
)

var order = []string{fBaseline, fKill, fKillStart, fFlush, fDumpKill, fRestart, fCrash, fPurge, fSMTP}

// stat is one row of the table.
type stat struct {
	injected               int
	eventsExp, eventsFound int
	dups, lost             int
	mailsExp, mailsFound   int
	uncertain, uncArrived  int
	mailDups, mailLost     int
	accepted               int
	maxSettle              time.Duration
	notes                  []string
	violations             int
}

type runner struct {
	o       options
	e       *harness.Env
	p       *harness.Producer
	rng     *rand.Rand
	out     io.Writer
	logf    func(string, ...any)
	stats   map[string]*stat
	prev    harness.Snapshot
	prevVio map[string]bool
	failed  []string
	kills   int
	start   time.Time
	exits   []string
}

func run(ctx context.Context, o options, out, errOut io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(errOut, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	r := &runner{o: o, rng: rand.New(rand.NewPCG(uint64(o.seed), 7)), out: out, logf: logf, stats: map[string]*stat{},
		prevVio: map[string]bool{}, start: time.Now()}
	for _, k := range append(order, fFinal) {
		r.stats[k] = &stat{}
	}
	logf("faultsuite: seed %d; setting up a durable MariaDB, the dxtracker binary, an SMTP sink", o.seed)
	e, err := harness.Setup(ctx, harness.Config{
		Durable: true, RetryBase: o.retryBase, MinRecords: minRecords, Recipients: []string{recipient},
		SMTPDelay: o.smtpDelay, Keep: o.keep, Verbose: o.verbose, Logf: logf,
	})
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.e = e
	defer func() {
		if len(r.failed) > 0 || o.keep {
			e.Cfg.Keep = true
			logf("work directory kept: %s (daemon log: %s, MariaDB datadir: %s)", e.Dir, e.LogPath(), e.Srv.DataDir())
		}
		e.Close()
	}()
	logf("MariaDB on port %d, sink on %s, daemon API on %s, notify_retry_base %s", e.Srv.Port(), e.Sink.Addr(), e.Listen, o.retryBase)

	if _, err := e.StartReady(ctx, readyWithin); err != nil {
		return err
	}
	p, err := e.NewProducer(harness.ProducerConfig{IntakeRate: o.intakeRate, BeaconRate: o.beaconRate, NotifyEvery: o.notifyEvery})
	if err != nil {
		return err
	}
	r.p = p
	p.Start()
	defer p.Close()

	// Baseline: no fault.
	if err := r.round(ctx, fBaseline, func() (string, error) { return "", sleepCtx(ctx, o.steady) }, o.settleTimeout); err != nil {
		return err
	}
	for _, f := range r.plan() {
		if err := r.inject(ctx, f); err != nil {
			return err
		}
	}
	if o.duration > 0 {
		for time.Since(r.start) < o.duration {
			if err := r.inject(ctx, r.randomFault()); err != nil {
				return err
			}
		}
	}
	// Final: let everything drain once more with the stream stopped.
	p.Pause()
	if _, err := e.EnsureDaemon(ctx, readyWithin); err != nil {
		p.Resume()
		return err
	}
	took, serr := e.Settle(ctx, o.settleTimeout)
	snap, err := e.Check(ctx, p)
	p.Resume()
	if err != nil {
		return err
	}
	r.record(fFinal, snap, took, serr)
	r.report(snap)
	if len(r.failed) > 0 {
		return fmt.Errorf("%d violations (see above)", len(r.failed))
	}
	return nil
}

// plan interleaves the kills with the other faults: a kill, then another
// fault, and so on, the kills spread evenly.
func (r *runner) plan() []string {
	var others []string
	left := map[string]int{fFlush: r.o.flushes, fDumpKill: r.o.dumpKills, fRestart: r.o.restarts, fPurge: r.o.purges,
		fSMTP: r.o.smtpOutages, fCrash: r.o.crashes}
	for {
		added := false
		for _, k := range []string{fFlush, fDumpKill, fRestart, fPurge, fSMTP, fCrash} {
			if left[k] > 0 {
				others = append(others, k)
				left[k]--
				added = true
			}
		}
		if !added {
			break
		}
	}
	// Kill injections: some kill twice (again during the start-up), so
	// plan the count of injections loosely and top up at the end.
	var out []string
	kills := r.o.kills
	slots := len(others) + 1
	for i, f := range others {
		share := kills * (i + 1) / slots
		share -= kills * i / slots
		for j := 0; j < share; j++ {
			out = append(out, fKill)
		}
		out = append(out, f)
	}
	for j := 0; j < kills-kills*len(others)/slots; j++ {
		out = append(out, fKill)
	}
	return out
}

func (r *runner) randomFault() string {
	if r.rng.IntN(2) == 0 {
		return fKill
	}
	return []string{fFlush, fDumpKill, fRestart, fPurge, fCrash}[r.rng.IntN(5)]
}

// inject runs one fault while the producer writes, then checks.
func (r *runner) inject(ctx context.Context, f string) error {
	o := r.o
	settle := o.settleTimeout
	var do func() (string, error)
	plain := func(fn func() error) func() (string, error) { return func() (string, error) { return "", fn() } }
	switch f {
	case fKill:
		if r.kills >= o.kills && time.Since(r.start) >= o.duration {
			return nil // planned kills already reached (double kills count twice)
		}
		do = func() (string, error) { return r.kill(ctx) }
	case fFlush:
		do = plain(func() error {
			for i := 0; i < 5; i++ {
				if err := r.e.FlushBinlogs(ctx); err != nil {
					return err
				}
				if i == 4 && r.rng.IntN(2) == 0 {
					// Kill -9 right at the rotation: the checkpoint sits at
					// the end of one file or the start of the next.
					at := r.jitter(0, 50*time.Millisecond)
					if err := sleepCtx(ctx, at); err != nil {
						return err
					}
					r.e.Daemon().Kill()
					r.kills++
					r.note(fFlush, fmt.Sprintf("daemon killed %s after the last FLUSH", at.Round(time.Millisecond)))
					if _, err := r.e.StartReady(ctx, readyWithin); err != nil {
						return err
					}
					break
				}
				if err := sleepCtx(ctx, r.jitter(100*time.Millisecond, o.steady/5)); err != nil {
					return err
				}
			}
			return nil
		})
	case fDumpKill:
		do = plain(func() error {
			if err := sleepCtx(ctx, r.jitter(0, o.steady/2)); err != nil {
				return err
			}
			id, took, err := r.e.KillDumpThread(ctx, time.Minute)
			if err != nil {
				return err
			}
			r.note(f, fmt.Sprintf("thread %d, reconnected after %s", id, took.Round(time.Millisecond)))
			return nil
		})
	case fRestart:
		do = plain(func() error {
			if err := sleepCtx(ctx, r.jitter(0, o.steady/2)); err != nil {
				return err
			}
			began := time.Now()
			if err := r.e.RestartMariaDB(ctx); err != nil {
				return err
			}
			r.note(f, fmt.Sprintf("down %s", time.Since(began).Round(100*time.Millisecond)))
			return nil
		})
	case fCrash:
		do = plain(func() error {
			if err := sleepCtx(ctx, r.jitter(0, o.steady/2)); err != nil {
				return err
			}
			began := time.Now()
			if err := r.e.CrashMariaDB(ctx); err != nil {
				return err
			}
			r.note(f, fmt.Sprintf("recovered in %s", time.Since(began).Round(100*time.Millisecond)))
			return nil
		})
	case fPurge:
		do = plain(func() error { return r.purge(ctx) })
	case fSMTP:
		// The outbox retries after base, 2 base, 4 base... (x0.8-1.2): after
		// the sink is back, the next attempt can be up to about 2.4 outages
		// away.
		settle += time.Duration(2.5*float64(o.smtpOutage)) + 3*o.retryBase
		do = plain(func() error { return r.smtpOutage(ctx) })
	default:
		return fmt.Errorf("unknown fault %q", f)
	}
	return r.round(ctx, f, do, settle)
}

// round: the fault (the producer running), steady production, pause,
// catch up, check, resume.
func (r *runner) round(ctx context.Context, f string, do func() (string, error), settle time.Duration) error {
	began := time.Now()
	as, err := do()
	if err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	if as != "" {
		f = as
	}
	if err := sleepCtx(ctx, r.o.steady); err != nil {
		return err
	}
	r.p.Pause()
	defer r.p.Resume()
	unexpected, err := r.e.EnsureDaemon(ctx, readyWithin)
	if unexpected != "" {
		r.exits = append(r.exits, f+": "+unexpected)
		r.note(f, unexpected)
		r.fail(fmt.Sprintf("after %s: %s\n--- log tail ---\n%s", f, unexpected, r.e.LogTail(3000)))
	}
	if err != nil {
		return fmt.Errorf("after %s: %w", f, err)
	}
	took, serr := r.e.Settle(ctx, settle)
	snap, err := r.e.Check(ctx, r.p)
	if err != nil {
		return fmt.Errorf("check after %s: %w", f, err)
	}
	r.stats[f].injected++
	r.record(f, snap, took, serr)
	c := r.p.Counts()
	r.logf("%-33s #%d (%.1fs) settled in %s: intake %d (acked %d, failed %d), events %d, beacons 204 %d (errors %d), mails sent %d/uncertain %d, sink %d%s",
		f, r.stats[f].injected, time.Since(began).Seconds(), took.Round(time.Millisecond), snap.Intake, c.IntakeAcked, c.IntakeFailed, snap.Events,
		c.Beacon204, c.BeaconErrors, snap.Sent, snap.Uncertain, snap.SinkMessages, okWord(len(snap.Violations()) == 0))
	return nil
}

func okWord(ok bool) string {
	if ok {
		return ", ok"
	}
	return ", VIOLATIONS"
}

// record adds the change since the previous check to fault f's row and
// reports new violations.
func (r *runner) record(f string, s harness.Snapshot, took time.Duration, settleErr error) {
	st, p := r.stats[f], r.prev
	st.eventsExp += (s.Intake - s.NoEvent) - (p.Intake - p.NoEvent)
	st.eventsFound += s.EventsFromIntake - p.EventsFromIntake
	st.dups += s.Duplicates() - p.Duplicates()
	st.lost += s.Lost() - p.Lost()
	st.mailsExp += s.MailsExpected(len(r.e.Cfg.Recipients)) - p.MailsExpected(len(r.e.Cfg.Recipients))
	st.mailsFound += s.SentArrived - p.SentArrived
	st.uncertain += s.Uncertain - p.Uncertain
	st.uncArrived += s.UncArrived - p.UncArrived
	st.mailDups += s.MailDuplicates() - p.MailDuplicates()
	st.mailLost += (s.SentMissing + s.Failed + s.Unsettled) - (p.SentMissing + p.Failed + p.Unsettled)
	st.accepted += s.Accepted - p.Accepted
	st.maxSettle = max(st.maxSettle, took)
	if settleErr != nil {
		r.note(f, "settle: "+settleErr.Error())
	}
	vio := map[string]bool{}
	for _, v := range s.Violations() {
		vio[v] = true
		if !r.prevVio[v] {
			st.violations++
			r.fail(fmt.Sprintf("after %s: %s", f, v))
		}
	}
	r.prevVio = vio
	r.prev = s
}

func (r *runner) note(f, msg string) {
	st := r.stats[f]
	if len(st.notes) < 6 {
		st.notes = append(st.notes, msg)
	}
}

func (r *runner) fail(msg string) {
	r.failed = append(r.failed, msg)
	r.logf("VIOLATION: %s", msg)
}

func (r *runner) jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}

// kill SIGKILLs the daemon at a random moment of its steady work, leaves it
// down for up to 2 s (the producer goes on), starts it again and, one time
// in three, kills that start at a random point of its start-up too (the
// round is then reported as fKillStart).
func (r *runner) kill(ctx context.Context) (string, error) {
	if err := sleepCtx(ctx, r.jitter(0, r.o.steady)); err != nil {
		return "", err
	}
	d := r.e.Daemon()
	up := time.Since(d.Started)
	d.Kill()
	r.kills++
	if err := sleepCtx(ctx, r.jitter(0, 2*time.Second)); err != nil {
		return "", err
	}
	as := ""
	if r.rng.IntN(3) == 0 {
		nd, err := r.e.StartDaemon()
		if err != nil {
			return "", err
		}
		at := r.jitter(0, 600*time.Millisecond)
		if err := sleepCtx(ctx, at); err != nil {
			return "", err
		}
		ready := "before readyz"
		if rc := quickReady(r.e); rc {
			ready = "after readyz"
		}
		nd.Kill()
		r.kills++
		as = fKillStart
		r.note(fKillStart, fmt.Sprintf("after %.1fs up, then %s after exec (%s)", up.Seconds(), at.Round(time.Millisecond), ready))
	} else {
		r.note(fKill, fmt.Sprintf("after %.1fs up", up.Seconds()))
	}
	_, err := r.e.StartReady(ctx, readyWithin)
	return as, err
}

// purge: kill the daemon, keep writing, FLUSH + PURGE BINARY LOGS TO the
// newest file (the one the daemon read is gone), start it again; it must
// say so and reconcile from the tables.
func (r *runner) purge(ctx context.Context) error {
	if err := sleepCtx(ctx, r.jitter(0, r.o.steady/2)); err != nil {
		return err
	}
	r.e.Daemon().Kill()
	if err := sleepCtx(ctx, r.jitter(time.Second, 3*time.Second)); err != nil {
		return err
	}
	kept, err := r.e.PurgeAll(ctx)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, r.jitter(0, time.Second)); err != nil { // rows only in the kept file too
		return err
	}
	msg := "purged up to " + kept
	var first *harness.Daemon
	if r.rng.IntN(2) == 0 {
		// Kill the first start in the middle of its reconciliation too.
		var err error
		if first, err = r.e.StartDaemon(); err != nil {
			return err
		}
		at := r.jitter(0, 500*time.Millisecond)
		if err := sleepCtx(ctx, at); err != nil {
			return err
		}
		first.Kill()
		r.kills++
		msg += fmt.Sprintf("; the first start killed %s after exec", at.Round(time.Millisecond))
	}
	d, err := r.e.StartReady(ctx, readyWithin)
	if err != nil {
		return err
	}
	if first == nil {
		first = d
	}
	if r.e.Grep(first, "purged") == 0 { // the log of both starts
		msg += "; the daemon's log does not mention the purge"
		r.fail(fmt.Sprintf("after %s: the restarted daemon did not log that its binlog file was purged", fPurge))
	}
	r.note(fPurge, msg)
	return nil
}

// smtpOutage stops the sink for the outage (in a long outage the daemon is
// also killed once in the middle), then brings it back.
func (r *runner) smtpOutage(ctx context.Context) error {
	if err := sleepCtx(ctx, r.jitter(0, r.o.steady/2)); err != nil {
		return err
	}
	if err := r.e.Sink.Stop(); err != nil {
		return err
	}
	began := time.Now()
	if r.o.smtpOutage >= 30*time.Second {
		if err := sleepCtx(ctx, r.o.smtpOutage/2); err != nil {
			return err
		}
		r.e.Daemon().Kill()
		r.note(fSMTP, "daemon killed mid-outage")
		if _, err := r.e.StartReady(ctx, readyWithin); err != nil {
			return err
		}
	}
	if err := sleepCtx(ctx, r.o.smtpOutage-time.Since(began)); err != nil {
		return err
	}
	if err := r.e.Sink.Restart(); err != nil {
		return err
	}
	r.note(fSMTP, fmt.Sprintf("down %s", time.Since(began).Round(100*time.Millisecond)))
	return nil
}

func quickReady(e *harness.Env) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	d := e.Daemon()
	return d != nil && e.WaitReady(ctx, d, 0) == nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// report prints the table and the totals.
func (r *runner) report(final harness.Snapshot) {
	w := r.out
	c := r.p.Counts()
	fmt.Fprintf(w, "\nfaultsuite: %s, %d CPUs, seed %d, %s, kill -9 x%d, intake %.0f/s + beacons %.0f/s, notify every %d-th export, SMTP outage %s, notify_retry_base %s\n\n",
		runtime.Version(), runtime.NumCPU(), r.o.seed, time.Since(r.start).Round(time.Second), r.kills, r.o.intakeRate, r.o.beaconRate,
		r.o.notifyEvery, r.o.smtpOutage, r.o.retryBase)
	hdr := fmt.Sprintf("%-33s %8s %10s %10s %5s %5s %9s %9s %15s %8s %9s %10s", "fault", "injected", "events exp", "found", "dup", "lost",
		"mails exp", "found", "+uncertain(arr)", "mail dup", "mail lost", "max settle")
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, strings.Repeat("-", len(hdr)))
	var tot stat
	for _, k := range append(order, fFinal) {
		s := r.stats[k]
		if k == fFinal && s.eventsExp == 0 && s.mailsExp == 0 && s.mailsFound == 0 {
			continue
		}
		inj := fmt.Sprint(s.injected)
		if k == fFinal {
			inj = "-"
		}
		fmt.Fprintf(w, "%-33s %8s %10d %10d %5d %5d %9d %9d %15s %8d %9d %10s\n", k, inj, s.eventsExp, s.eventsFound, s.dups, s.lost,
			s.mailsExp, s.mailsFound, fmt.Sprintf("%d(%d)", s.uncertain, s.uncArrived), s.mailDups, s.mailLost, s.maxSettle.Round(100*time.Millisecond))
		tot.injected += s.injected
		tot.eventsExp += s.eventsExp
		tot.eventsFound += s.eventsFound
		tot.dups += s.dups
		tot.lost += s.lost
		tot.mailsExp += s.mailsExp
		tot.mailsFound += s.mailsFound
		tot.uncertain += s.uncertain
		tot.uncArrived += s.uncArrived
		tot.mailDups += s.mailDups
		tot.mailLost += s.mailLost
	}
	fmt.Fprintln(w, strings.Repeat("-", len(hdr)))
	fmt.Fprintf(w, "%-33s %8d %10d %10d %5d %5d %9d %9d %15s %8d %9d\n", "total", tot.injected, tot.eventsExp, tot.eventsFound, tot.dups, tot.lost,
		tot.mailsExp, tot.mailsFound, fmt.Sprintf("%d(%d)", tot.uncertain, tot.uncArrived), tot.mailDups, tot.mailLost)
	fmt.Fprintf(w, "\nstate at the end: %d intake rows (%d exports, %d copies), %d events (%d pointing back at their own intake row), %d notifying events,\n",
		final.Intake, final.IntakeExport, final.IntakeCopy, final.Events, final.OwnEvent, final.Notifying)
	if final.OutboxOther > 0 {
		fmt.Fprintf(w, "  %d other notifications (daily anchor, digest, summary) counted in mails exp as the daemon wrote them\n", final.OutboxOther)
	}
	fmt.Fprintf(w, "  outbox %s, sink %d messages (%d for sent rows, %d for uncertain rows, %d duplicate Message-IDs, %d unaccounted)\n",
		final.StateLine(), final.SinkMessages, final.SentArrived, final.UncArrived, final.SinkDup, final.Stray)
	fmt.Fprintf(w, "  producer: %d INSERTs acknowledged, %d failed (DB down; may or may not have committed: counted from the table);\n",
		c.IntakeAcked, c.IntakeFailed)
	fmt.Fprintf(w, "  beacons: %d answered 204 (all checked to be exactly one event), %d other answers %v, %d transport errors (daemon down)\n",
		c.Beacon204, c.BeaconOther, c.BeaconCodes, c.BeaconErrors)
	for k, v := range c.Refusals {
		fmt.Fprintf(w, "    refused beacon: %s x%d\n", k, v)
	}
	fmt.Fprintln(w, "  events exp = intake rows written in the period (a beacon stored whose 204 was lost with a killed connection is still an intake row, so it counts);")
	fmt.Fprintln(w, "  uncertain = the daemon was interrupted after the message's final dot: it may or may not have arrived (arr = it did); never sent twice")
	fmt.Fprintln(w, "\nnotes:")
	for _, k := range append(order, fFinal) {
		for _, n := range r.stats[k].notes {
			fmt.Fprintf(w, "  %-33s %s\n", k, n)
		}
	}
	if len(r.failed) == 0 {
		fmt.Fprintln(w, "\nresult: PASS: every intake row and every accepted beacon is exactly one event; every notification exactly one mail")
		return
	}
	fmt.Fprintf(w, "\nresult: FAIL: %d violations\n", len(r.failed))
	for _, f := range r.failed {
		fmt.Fprintln(w, "  -", f)
	}
}
