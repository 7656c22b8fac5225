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
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
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
	case err == nil:
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

// runThroughput reads the fill range with each reader, --runs times,
// interleaved so that a noisy neighbour hurts all of them alike; the
// fastest run of each counts.
func runThroughput(ctx context.Context, e *env, o options, fill fillResult, res *results) error {
	var raws, canals, fols []streamResult
	for i := range o.runs {
		e.log.Info().Int("run", i+1).Msg("phase 2a: throughput, raw stream")
		raw, err := runRaw(ctx, e, fill.Start, fill.End)
		if err != nil {
			return fmt.Errorf("raw: %w", err)
		}
		raws = append(raws, raw)
		e.log.Info().Int("run", i+1).Msg("phase 2b: throughput, go-mysql canal")
		cn, err := runCanal(ctx, e, fill.Start, fill.End)
		if err != nil {
			return fmt.Errorf("canal: %w", err)
		}
		canals = append(canals, cn)
		e.log.Info().Int("run", i+1).Msg("phase 2c: throughput, follower + processor")
		if i > 0 {
			if err := resetProcessed(ctx, e); err != nil {
				return err
			}
		}
		fr, err := runFollowerThroughput(ctx, e, fill, profilePath(o, fmt.Sprintf("follower-%d.pprof", i+1)))
		if err != nil {
			return fmt.Errorf("follower: %w", err)
		}
		fols = append(fols, fr)
	}
	raw := best(raws)
	raw.finish(raw, fill.Bytes)
	cn, fr := best(canals), best(fols)
	cn.finish(raw, fill.Bytes)
	fr.finish(raw, fill.Bytes)
	res.Raw, res.Canal, res.Follower = &raw, &cn, &fr
	return nil
}

// best is the fastest run, with every run's time attached.
func best(runs []streamResult) streamResult {
	b := runs[0]
	var all []float64
	for _, r := range runs {
		all = append(all, r.Seconds)
		if r.Seconds < b.Seconds {
			b = r
		}
	}
	b.RunSeconds = all
	return b
}

func profilePath(o options, name string) string {
	if o.profileDir == "" {
		return ""
	}
	return filepath.Join(o.profileDir, name)
}

// loadAvg is the 1-minute load average (0 when unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// env is the sandbox server and the Vtiger database on it.
type env struct {
	srv     *sandbox.Server
	db      *sql.DB
	schema  string
	addr    string
	version string
	log     zerolog.Logger
	verbose bool
}

const schemaName = "vtiger"

// Replica server ids; the sandbox server is 1.
const (
	rawServerID      = 201
	canalServerID    = 202
	followerServerID = 301
)

func startEnv(ctx context.Context, o options, log zerolog.Logger) (*env, error) {
	sbLog := zerolog.Nop()
	if o.verbose {
		sbLog = log
	}
	began := time.Now()
	srv, err := sandbox.Start(ctx, sandbox.Options{ServerID: 1, Log: sbLog, ExtraArgs: []string{
		// Generation speed: no flush per commit, room for the data in memory.
		"--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0",
		"--innodb-buffer-pool-size=2G", "--innodb-log-file-size=1G",
		"--max-connections=200",
	}})
	if err != nil {
		return nil, err
	}
	e := &env{srv: srv, schema: schemaName, addr: fmt.Sprintf("127.0.0.1:%d", srv.Port()), log: log, verbose: o.verbose}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	if err := sandbox.CreateDatabase(ctx, srv, schemaName); err != nil {
		return nil, err
	}
	if err := sandbox.LoadVtigerMinimal(ctx, srv.DSN(schemaName)); err != nil {
		return nil, err
	}
	cfg, err := mysql.ParseDSN(srv.DSN(schemaName))
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	e.db = sql.OpenDB(conn)
	e.db.SetMaxIdleConns(32)
	if _, err := tracker.Migrate(ctx, e.db); err != nil {
		return nil, err
	}
	if err := e.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&e.version); err != nil {
		return nil, err
	}
	log.Info().Str("server", e.version).Str("addr", e.addr).Str("datadir", srv.DataDir()).
		Dur("took", time.Since(began)).Msg("sandbox ready, vtiger schema loaded, tracker migrated")
	ok = true
	return e, nil
}

// componentLog is the logger handed to the follower and the processor: their
// info lines at -v only, warnings always.
func (e *env) componentLog() zerolog.Logger {
	if e.verbose {
		return e.log
	}
	return e.log.Level(zerolog.WarnLevel)
}

func (e *env) close() {
	if e.db != nil {
		_ = e.db.Close()
	}
	if err := e.srv.Close(); err != nil {
		e.log.Warn().Err(err).Msg("sandbox cleanup")
		return
	}
	e.log.Info().Msg("sandbox stopped and removed")
}
