// Command notifybench measures how fast an export reaches the
// administrator's mailbox: the real daemon (`dxtracker run`, built from
// this module) against a private MariaDB and a real SMTP server on loopback
// (mailer/sink, in this process). It writes intake rows (list-view exports
// above notify_min_records) at a steady rate, as the Vtiger probe does, and
// measures for each row:
//
//   - baseline: intake COMMIT to its event row visible (dxt_intake.event_id
//     set), the ingest latency alone, sampled by a poller every -poll;
//   - mail: intake COMMIT to the SMTP server holding the whole message (the
//     sink's callback after the final dot, before its 250 reply), matched
//     by the X-DXT-Event-ID header through dxt_intake.event_id;
//   - mail after event: the notification path alone (rules, outbox, worker,
//     SMTP);
//   - smtp: one SMTP conversation of the same client (mailer) to the same
//     sink, without the daemon: the floor of the mail path.
//
// It prints p50/p90/p99/max with the mail path as a ratio to the baseline,
// and checks that every row was mailed exactly once per admin.
//
//	go run ./cmd/notifybench                 # 300 rows at 10/s (~1 minute in all)
//	go run ./cmd/notifybench -n 1200 -rate 40
//
// Goal (issue 5, item 9): p99 of intake commit to mail accepted under 1 s.
//
// Exit codes: 0 done, 1 error, 2 bad flags, 3 a goal was missed with -strict.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	rows       int
	rate       float64
	warmup     int
	admins     int
	records    int
	poll       time.Duration
	smtpRuns   int
	durable    bool
	strict     bool
	verbose    bool
	settleWait time.Duration
}

const usageText = `notifybench measures intake commit -> SMTP server accepting the notification
of the real dxtracker daemon, against a private MariaDB and an in-process SMTP
sink on loopback, with intake commit -> event visible as the baseline.

Usage:
  go run ./cmd/notifybench [flags]

Examples:
  go run ./cmd/notifybench                    # 300 exports at 10/s
  go run ./cmd/notifybench -n 1200 -rate 40   # heavier, 30 s
  go run ./cmd/notifybench -admins 3 -strict  # 3 mails per export; exit 3 if p99 >= 1s

Needs mariadbd and mariadb-install-db (scripts/install-deps.sh) and the Go
toolchain (the daemon is built from this module).

Exit codes: 0 done, 1 error, 2 bad flags, 3 a goal was missed with -strict.

Flags:
`

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("notifybench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.rows, "n", 300, "measured intake rows (exports), written one per transaction")
	fs.Float64Var(&o.rate, "rate", 10, "intake rows per second (steady, open loop)")
	fs.IntVar(&o.warmup, "warmup", 10, "rows written and mailed before the measurement (not counted)")
	fs.IntVar(&o.admins, "admins", 1, "addresses in notify_admin_email: mails per export")
	fs.IntVar(&o.records, "records", 3120, "record_count of each export (notify_min_records is 1000)")
	fs.DurationVar(&o.poll, "poll", 2*time.Millisecond, "how often the baseline poller looks for new events (its resolution)")
	fs.IntVar(&o.smtpRuns, "smtp-runs", 200, "SMTP conversations of the smtp floor measurement")
	fs.BoolVar(&o.durable, "durable", true, "MariaDB flushes and syncs the binlog at every commit (innodb_flush_log_at_trx_commit=1, sync_binlog=1), as in production")
	fs.DurationVar(&o.settleWait, "wait", 60*time.Second, "how long to wait after the last row for the missing mails")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when the goal is missed or a mail is missing or duplicated")
	fs.BoolVar(&o.verbose, "v", false, "show the daemon's log")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.rows < 1 || o.warmup < 0:
		return o, errors.New("-n must be at least 1 and -warmup at least 0")
	case o.rate <= 0 || o.rate > 1000:
		return o, errors.New("-rate must be above 0 and at most 1000 rows per second")
	case o.admins < 1 || o.admins > 50:
		return o, errors.New("-admins must be from 1 to 50")
	case o.records < 1000:
		return o, errors.New("-records must be at least 1000 (notify_min_records), or nothing is mailed")
	case o.poll <= 0 || o.smtpRuns < 1:
		return o, errors.New("-poll and -smtp-runs must be positive")
	}
	// notify_max_per_minute allows at most 10000: above, the storm limit
	// would hold mails back and the bench would measure the limit.
	if o.rate*60 > 10000 {
		return o, fmt.Errorf("-rate %.0f mails a minute per admin exceeds the highest notify_max_per_minute (10000); lower -rate to at most 166", o.rate*60)
	}
	return o, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		stop()
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(2)
	}
	err = run(ctx, o, os.Stdout)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errMissed):
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(3)
	default:
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(1)
	}
}

var errMissed = errors.New("a goal was missed")

func run(ctx context.Context, o options, out io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	logf("setting up: sandbox MariaDB (durable=%v), Vtiger schema, SMTP sink, dxtracker binary", o.durable)
	e, err := setup(ctx, o)
	if err != nil {
		return err
	}
	defer e.close()

	logf("starting the daemon")
	d, err := e.startDaemon(ctx)
	if err != nil {
		return err
	}
	defer d.stop()

	if o.warmup > 0 {
		logf("warm-up: %d rows", o.warmup)
		if _, err := e.measure(ctx, d, o.warmup, o.rate); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	logf("measuring: %d rows at %.0f/s, %d admin(s)", o.rows, o.rate, o.admins)
	m, err := e.measure(ctx, d, o.rows, o.rate)
	if err != nil {
		return err
	}
	logf("smtp floor: %d conversations with the sink, without the daemon", o.smtpRuns)
	floor, err := e.smtpFloor(ctx, o.smtpRuns)
	if err != nil {
		return fmt.Errorf("smtp floor: %w", err)
	}
	r := buildReport(o, m, floor, e.serverVersion(ctx))
	r.print(out)
	if o.strict && !r.ok() {
		return errMissed
	}
	return nil
}
