// Command dxtbench measures the daemon's binlog pipeline (binlog.Follower +
// ingest.Processor) against baselines on the same binlog range of a private
// MariaDB, and prints a table with ratios:
//
//	go run ./cmd/dxtbench            # full run: ~200 MB range, 1 GiB backlog
//	go run ./cmd/dxtbench --quick    # CI size: ~20 MB range, 100 MiB backlog
//
// Phases: fill (a Vtiger-like binlog), throughput (raw stream, go-mysql
// canal, the follower, each over the same range), latency (commit to event
// visible under background load) and catch-up (a backlog after a stop).
//
// Exit codes: 0 done, 1 error, 2 bad flags, 3 a goal was missed with --strict.
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
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Exit codes.
const (
	exitError  = 1
	exitUsage  = 2
	exitMissed = 3
)

var (
	errUsage  = errors.New("bad command line")
	errMissed = errors.New("one or more goals were not met")
)

type options struct {
	quick          bool
	events         int64
	writers        int
	backlogMB      int64
	latencySeconds int
	latencyRate    int
	backgroundRate int
	jsonPath       string
	phases         map[string]bool
	runs           int
	perTrip        int
	profileDir     string
	seed           uint64
	strict         bool
	verbose        bool
	hold           bool
}

// Row events per binlog MiB of the generator's mix (measured: ~910 bytes per
// one-row transaction with MariaDB's annotate, GTID, table map and XID
// events), so that the default ranges come out near 200 MB and 20 MB.
const eventsPerMiB = 1150

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	var phases string
	fs := flag.NewFlagSet("dxtbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.quick, "quick", false, "CI-size run: ~20 MB range, 100 MiB backlog, 5 s latency phase")
	fs.Int64Var(&o.events, "events", 0, "row events (one-row autocommit statements) in the fill range (default ~200 MB of binlog; --quick ~20 MB)")
	fs.IntVar(&o.writers, "writers", 8, "parallel writer connections for the fill and the backlog")
	fs.Int64Var(&o.backlogMB, "backlog-mb", 0, "binlog MiB written while the follower is stopped (default 1024; --quick 100)")
	fs.IntVar(&o.latencySeconds, "latency-seconds", 0, "seconds of intake rows in the latency phase (default 20; --quick 5)")
	fs.IntVar(&o.latencyRate, "latency-rate", 50, "intake rows per second in the latency phase")
	fs.IntVar(&o.backgroundRate, "background-rate", 5000, "paced row events per second on unwatched tables during the latency phase")
	fs.StringVar(&o.jsonPath, "json", "", "write the results as JSON to this file")
	fs.StringVar(&phases, "phases", "throughput,latency,catchup", "phases to run after the fill (comma separated)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data")
	fs.IntVar(&o.runs, "runs", 3, "read the range this many times per reader, interleaved; the fastest run counts")
	fs.IntVar(&o.perTrip, "batch", 8, "statements per round trip for the fill and the backlog (each statement stays its own autocommit transaction)")
	fs.StringVar(&o.profileDir, "cpuprofile", "", "write CPU profiles of the follower runs (throughput, catch-up) into this directory")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when a goal is not met")
	fs.BoolVar(&o.hold, "hold", false, "keep the sandbox up after the run until Ctrl+C, to inspect it (mariadb-binlog --read-from-remote-server)")
	fs.BoolVar(&o.verbose, "v", false, "debug logging (follower, processor, sandbox)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(out, "unexpected arguments: %q\n", fs.Args())
		return o, errUsage
	}
	o.phases = map[string]bool{}
	for _, p := range strings.Split(phases, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "":
		case "throughput", "latency", "catchup":
			o.phases[p] = true
		default:
			fmt.Fprintf(out, "unknown phase %q (want throughput, latency, catchup)\n", p)
			return o, errUsage
		}
	}
	fillMiB, backlog, latency := int64(200), int64(1024), 20
	if o.quick {
		fillMiB, backlog, latency = 20, 100, 5
	}
	if o.events <= 0 {
		o.events = fillMiB * eventsPerMiB
	}
	if o.backlogMB <= 0 {
		o.backlogMB = backlog
	}
	if o.latencySeconds <= 0 {
		o.latencySeconds = latency
	}
	if o.writers <= 0 || o.latencyRate <= 0 || o.backgroundRate < 0 || o.runs <= 0 || o.perTrip <= 0 {
		fmt.Fprintln(out, "--writers, --latency-rate, --runs and --batch must be positive, --background-rate not negative")
		return o, errUsage
	}
	return o, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(exitUsage)
	case errors.Is(err, errMissed):
		fmt.Fprintln(os.Stderr, "dxtbench:", err)
		os.Exit(exitMissed)
	default:
		fmt.Fprintln(os.Stderr, "dxtbench:", err)
		os.Exit(exitError)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := zerolog.InfoLevel
	if o.verbose {
		level = zerolog.DebugLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000"}).
		Level(level).With().Timestamp().Logger()

	e, err := startEnv(ctx, o, log)
	if err != nil {
		return err
	}
	defer e.close()

	res := &results{Mode: "full", Started: time.Now().UTC(), GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), Server: e.version, Writers: o.writers, Seed: o.seed, Runs: o.runs,
		LoadStart: loadAvg()}
	if l := res.LoadStart; l > float64(res.CPUs) {
		log.Warn().Float64("load1", l).Int("cpus", res.CPUs).
			Msg("the machine is busy: absolute figures are noisy; ratios of the best of --runs hold up better")
	}
	if o.quick {
		res.Mode = "quick"
	}
	g := newGenerator(e, o.seed)

	log.Info().Int64("events", o.events).Int("writers", o.writers).Msg("phase 1: fill")
	fill, err := g.run(ctx, plan{Writers: o.writers, Limit: o.events, IntakeEvery: 100, Sentinel: true, Label: "fill", PerTrip: o.perTrip})
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	res.Fill = fill
	log.Info().Str("start", fill.Start.String()).Str("end", fill.End.String()).
		Float64("mib", mib(fill.Bytes)).Int64("intake", fill.Intake).Float64("seconds", fill.Seconds).
		Msg("fill done")

	if o.phases["throughput"] {
		if err := runThroughput(ctx, e, o, fill, res); err != nil {
			return err
		}
	}
	if o.phases["latency"] {
		log.Info().Int("seconds", o.latencySeconds).Int("intake_per_s", o.latencyRate).
			Int("background_per_s", o.backgroundRate).Msg("phase 3: latency")
		if res.Latency, err = runLatency(ctx, e, g, o); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if o.phases["catchup"] {
		log.Info().Int64("backlog_mib", o.backlogMB).Msg("phase 4: catch-up")
		if res.Catchup, err = runCatchup(ctx, e, g, o); err != nil {
			return fmt.Errorf("catch-up: %w", err)
		}
	}
	res.Finished = time.Now().UTC()
	res.LoadEnd = loadAvg()
	res.Table = buildTable(res)
	printTable(stdout, res)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, res); err != nil {
			return err
		}
		log.Info().Str("file", o.jsonPath).Msg("results written")
	}
	if o.hold {
		log.Info().Str("addr", e.addr).Str("user", "root").Str("database", e.schema).
			Msg("holding the sandbox; Ctrl+C removes it")
		<-ctx.Done()
	}
	if o.strict && !allMet(res.Table) {
		return errMissed
	}
	return nil
}
