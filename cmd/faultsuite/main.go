// Command faultsuite proves with real processes that dxtracker loses
// nothing and duplicates nothing on its worst day (issue 7, item 1):
//
//	go run ./cmd/faultsuite                       # full run: 20 kills and every other fault, ~12-15 min
//	go run ./cmd/faultsuite -kills 40 -duration 45m
//	go run ./cmd/faultsuite -short                # CI: every fault once, kill -9 three or more times, ~1 min
//
// It starts a private MariaDB (durable: innodb_flush_log_at_trx_commit=1,
// sync_binlog=1), builds and runs the real daemon binary, and runs an SMTP
// sink in this process. dxt_config makes exports with at least
// notify_min_records records notify one address. A producer writes a
// steady stream of intake rows (list-view exports; every -notify-every-th
// one notifies) and posts signed copy beacons over HTTP (only those
// answered 204 count as accepted), while the suite injects, in sequence:
//
//   - kill -9 of the daemon at a random point, sometimes again during the
//     start-up that follows;
//   - FLUSH BINARY LOGS, several times in a row;
//   - a graceful MariaDB restart, and a MariaDB crash (SIGKILL);
//   - the binlog file the daemon was reading purged while it is down
//     (kill, FLUSH + PURGE BINARY LOGS TO the newest, start);
//   - KILL of the daemon's replication connection (its Binlog Dump thread);
//   - the SMTP server stopped for -smtp-outage (minutes in the full run;
//     the daemon's retry base is shortened with DXT_NOTIFY_RETRY_BASE).
//
// After each fault the producer pauses, the daemon catches up, and the
// suite checks: every intake row and every accepted beacon is exactly one
// event; every notification is exactly one mail (dxt_outbox rows sent are
// in the sink by Message-ID, uncertain ones are counted apart, no
// Message-ID twice, no mail unaccounted for). It ends with a table per
// fault and exits 1 on any violation.
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
	short         bool
	kills         int
	flushes       int
	restarts      int
	crashes       int
	purges        int
	dumpKills     int
	smtpOutages   int
	duration      time.Duration
	smtpOutage    time.Duration
	retryBase     time.Duration
	smtpDelay     time.Duration
	intakeRate    float64
	beaconRate    float64
	notifyEvery   int
	steady        time.Duration
	settleTimeout time.Duration
	seed          int64
	keep          bool
	verbose       bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("faultsuite", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.short, "short", false, "CI mode: every fault once (kill -9 three times), seconds-long SMTP outage; explicit flags still win")
	fs.IntVar(&o.kills, "kills", 20, "kill -9 of the daemon, at least this many times")
	fs.IntVar(&o.flushes, "flushes", 3, "rounds of FLUSH BINARY LOGS (5 flushes each)")
	fs.IntVar(&o.restarts, "mariadb-restarts", 2, "graceful MariaDB restarts")
	fs.IntVar(&o.crashes, "mariadb-crashes", 1, "MariaDB crashes (SIGKILL, crash recovery)")
	fs.IntVar(&o.purges, "purges", 2, "purges of the daemon's binlog file while it is down")
	fs.IntVar(&o.dumpKills, "dump-kills", 3, "KILLs of the daemon's replication connection")
	fs.IntVar(&o.smtpOutages, "smtp-outages", 1, "SMTP server outages")
	fs.DurationVar(&o.duration, "duration", 0, "after the planned faults, keep injecting random ones until the run has lasted this long (0: the plan only)")
	fs.DurationVar(&o.smtpOutage, "smtp-outage", 3*time.Minute, "how long the SMTP server stays down")
	fs.DurationVar(&o.retryBase, "retry-base", 20*time.Second, "the daemon's notify_retry_base (first wait after a failed delivery, doubling; daemon default 30s, at least 1s)")
	fs.DurationVar(&o.smtpDelay, "smtp-delay", 50*time.Millisecond, "the sink answers a message's final dot after a random delay up to this (a kill in that window leaves the notification uncertain)")
	fs.Float64Var(&o.intakeRate, "intake-rate", 20, "intake rows (exports) per second")
	fs.Float64Var(&o.beaconRate, "beacon-rate", 20, "copy beacons per second")
	fs.IntVar(&o.notifyEvery, "notify-every", 5, "every n-th export has enough records to notify")
	fs.DurationVar(&o.steady, "steady", 8*time.Second, "production after each fault before the check")
	fs.DurationVar(&o.settleTimeout, "settle-timeout", 3*time.Minute, "how long the daemon may take to catch up after a fault (an SMTP outage adds its retry backoff)")
	fs.Int64Var(&o.seed, "seed", 0, "random seed (0: from the clock; printed)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (daemon log, MariaDB datadir)")
	fs.BoolVar(&o.verbose, "v", false, "more output")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.short {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("kills", func() { o.kills = 3 })
		def("flushes", func() { o.flushes = 1 })
		def("mariadb-restarts", func() { o.restarts = 1 })
		def("mariadb-crashes", func() { o.crashes = 1 })
		def("purges", func() { o.purges = 1 })
		def("dump-kills", func() { o.dumpKills = 1 })
		def("smtp-outages", func() { o.smtpOutages = 1 })
		def("smtp-outage", func() { o.smtpOutage = 5 * time.Second })
		def("retry-base", func() { o.retryBase = time.Second })
		def("steady", func() { o.steady = 2 * time.Second })
	}
	if o.kills < 0 || o.flushes < 0 || o.restarts < 0 || o.crashes < 0 || o.purges < 0 || o.dumpKills < 0 || o.smtpOutages < 0 {
		return o, errors.New("fault counts must not be negative")
	}
	if o.intakeRate <= 0 || o.beaconRate < 0 || o.notifyEvery < 1 || o.steady <= 0 {
		return o, errors.New("-intake-rate and -steady must be positive, -notify-every at least 1, -beacon-rate not negative")
	}
	if o.retryBase < time.Second {
		return o, errors.New("-retry-base must be at least 1s (the daemon's minimum for notify_retry_base)")
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano()
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "faultsuite:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultsuite:", err)
		os.Exit(1)
	}
}
