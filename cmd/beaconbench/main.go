// Command beaconbench measures the copy-beacon endpoint of the real daemon
// on loopback, against a private MariaDB, and prints the figures with
// ratios against a baseline measured in the same run:
//
//	go run ./cmd/beaconbench              # full run, ~1.5 minutes
//	go run ./cmd/beaconbench -duration 5s # shorter phases
//
// Phases:
//
//  1. baseline: the same load against a server that reads the body and
//     answers 204 without doing anything (this program itself, in a child
//     process): the HTTP stack's limit on this machine.
//  2. throughput: N concurrent clients with valid tokens of several users
//     against `dxtracker run`, rate limits off: accepted beacons per
//     second, p50/p99 latency (every 204 means committed to dxt_intake),
//     transactions used, the daemon's peak RSS, and how long the ingest
//     processor takes to turn the backlog into events; then the latency
//     at a fixed rate (-rate, open loop).
//  3. flood: the daemon with its default limits (20/s per user, 200/s per
//     address), sent ten times more than the limits allow, open loop; then
//     a flood at full speed with 32 KiB bodies from many addresses. The
//     daemon's RSS is sampled from /proc/<pid>/status throughout.
//
// Goals (issue 4, on a 2-core machine): at least 10,000 accepted beacons/s,
// p99 under 20 ms, memory flat under the flood.
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
	"runtime"
	"syscall"
	"time"
)

type options struct {
	duration     time.Duration
	warmup       time.Duration
	clients      int
	users        int
	textBytes    int
	floodFactor  float64
	floodSeconds time.Duration
	floodBody    int
	durable      bool
	writers      int
	latencyRate  int
	strict       bool
	verbose      bool
	nullServer   string // internal: run the baseline server on this address
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("beaconbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "length of each measured throughput run")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before each throughput measurement starts")
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients (keep-alive connections) of the throughput runs")
	fs.IntVar(&o.users, "users", 10, "Vtiger users the beacons are signed for (created in the sandbox)")
	fs.IntVar(&o.textBytes, "text", 300, "bytes of copied text per beacon in the throughput runs")
	fs.IntVar(&o.latencyRate, "rate", 1000, "beacons per second of the open-loop latency run (phase 2b)")
	fs.Float64Var(&o.floodFactor, "flood-factor", 10, "the flood sends this many times the rate limits allow")
	fs.DurationVar(&o.floodSeconds, "flood", 10*time.Second, "length of each flood")
	fs.IntVar(&o.floodBody, "flood-text", 32<<10, "bytes of copied text per beacon in the full-speed flood")
	fs.BoolVar(&o.durable, "durable", true, "MariaDB flushes and syncs the binlog at every commit (innodb_flush_log_at_trx_commit=1, sync_binlog=1), as in production")
	fs.IntVar(&o.writers, "writers", 0, "beacon writer transactions under way at once in the daemon (DXT_BEACON_WRITERS; 0: the daemon's default)")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when a goal is missed")
	fs.BoolVar(&o.verbose, "v", false, "show the daemon's and the sandbox's logs")
	fs.StringVar(&o.nullServer, "null-server", "", "internal: serve the baseline on this address")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 || o.clients < 1 || o.users < 1 || o.users > 1000 || o.duration <= 0 || o.floodFactor <= 0 {
		return o, errors.New("bad flags: -clients, -users (1..1000), -duration and -flood-factor must be positive")
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
		fmt.Fprintln(os.Stderr, "beaconbench:", err)
		os.Exit(2)
	}
	if o.nullServer != "" {
		err = serveNull(ctx, o.nullServer)
	} else {
		err = run(ctx, o, os.Stdout)
	}
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errMissed):
		fmt.Fprintln(os.Stderr, "beaconbench:", err)
		os.Exit(3)
	default:
		fmt.Fprintln(os.Stderr, "beaconbench:", err)
		os.Exit(1)
	}
}

var errMissed = errors.New("a goal was missed")

func run(ctx context.Context, o options, out io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
	logf("setting up: sandbox MariaDB (durable=%v), Vtiger schema, %d users, dxtracker binary", o.durable, o.users)
	e, err := setup(ctx, o, logf)
	if err != nil {
		return err
	}
	defer e.close()

	r := report{CPUs: runtime.NumCPU(), Go: runtime.Version(), Clients: o.clients, Users: o.users, TextBytes: o.textBytes, FloodText: o.floodBody,
		Duration: o.duration, Durable: o.durable, Load1: loadAvg()}

	// 1. Baseline.
	logf("phase 1: baseline (204 without work), %d clients, %s", o.clients, o.duration)
	null, err := e.startNull(ctx)
	if err != nil {
		return err
	}
	r.Baseline, err = closedLoop(ctx, loadSpec{addr: null.addr, clients: o.clients, tokens: e.tokens, textBytes: o.textBytes,
		warmup: o.warmup, duration: o.duration, pid: null.pid(), dbPID: e.mariadbPID()})
	null.stop()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	// 2. Throughput of the daemon, limits off.
	logf("phase 2: daemon, rate limits off, %d clients, %s", o.clients, o.duration)
	d, err := e.startDaemon(ctx, "DXT_BEACON_USER_RATE=off", "DXT_BEACON_IP_RATE=off")
	if err != nil {
		return err
	}
	before, err := e.scrape(d)
	if err != nil {
		return err
	}
	r.Daemon, err = closedLoop(ctx, loadSpec{addr: d.addr, clients: o.clients, tokens: e.tokens, textBytes: o.textBytes,
		warmup: o.warmup, duration: o.duration, pid: d.pid(), dbPID: e.mariadbPID()})
	if err != nil {
		d.stop()
		return fmt.Errorf("throughput: %w", err)
	}
	after, err := e.scrape(d)
	if err != nil {
		d.stop()
		return err
	}
	r.Transactions = after["dxtracker_beacon_write_transactions_total"] - before["dxtracker_beacon_write_transactions_total"]
	r.RowsWritten = after["dxtracker_beacon_rows_written_total"] - before["dxtracker_beacon_rows_written_total"]
	r.WriteSeconds = after["dxtracker_beacon_write_seconds_total"] - before["dxtracker_beacon_write_seconds_total"]
	logf("waiting for the ingest processor to turn every stored beacon into an event")
	r.Ingest, err = e.waitIngest(ctx, d)
	if err != nil {
		d.stop()
		return err
	}
	// 2b. Latency at a moderate rate, open loop.
	logf("phase 2b: daemon, %d beacons/s open loop, %s", o.latencyRate, o.duration)
	r.Paced, err = openLoop(ctx, loadSpec{addr: d.addr, clients: 256, tokens: e.tokens, textBytes: o.textBytes,
		duration: o.duration, pid: d.pid(), dbPID: e.mariadbPID()}, float64(o.latencyRate))
	d.stop()
	if err != nil {
		return fmt.Errorf("paced: %w", err)
	}

	// 3. Floods, default limits.
	logf("phase 3: flood, default limits, %.0fx over them for %s", o.floodFactor, o.floodSeconds)
	d, err = e.startDaemon(ctx)
	if err != nil {
		return err
	}
	idle := d.rssNow()
	r.Flood, err = openLoop(ctx, loadSpec{addr: d.addr, clients: 256, tokens: e.tokens, textBytes: o.textBytes,
		duration: o.floodSeconds, pid: d.pid(), dbPID: e.mariadbPID()}, o.floodFactor*200)
	if err != nil {
		d.stop()
		return fmt.Errorf("flood: %w", err)
	}
	r.Flood.IdleRSS = idle
	r.FloodBacklog[0] = e.backlog(ctx)
	logf("phase 3b: flood at full speed, %d KiB texts, 16 addresses, %s", o.floodBody>>10, o.floodSeconds)
	r.FloodMax, err = closedLoop(ctx, loadSpec{addr: d.addr, clients: 128, tokens: e.tokens, textBytes: o.floodBody,
		duration: o.floodSeconds, pid: d.pid(), dbPID: e.mariadbPID(), sources: 16})
	r.FloodMax.IdleRSS = r.FloodMax.RSSStart // growth of this flood is measured from its own start
	r.FloodBacklog[1] = e.backlog(ctx)
	r.PeakRSS = d.peakRSS()
	d.stop()
	if err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	r.print(out)
	if o.strict && !r.goalsMet() {
		return errMissed
	}
	return nil
}
