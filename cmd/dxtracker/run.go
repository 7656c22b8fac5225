package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func cmdRun(ctx context.Context, args, env []string, stderr io.Writer) error {
	limits, env, err := beaconLimits(env)
	if err != nil {
		return err
	}
	cfg, log, rest, err := loadConfig(args, env, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("run takes no arguments, got %q", rest)}
	}
	log.Info().Str("version", version).Str("commit", commit).Interface("config", cfg.Redacted()).
		Interface("beacon_limits", limits).Msg("starting")
	err = runDaemonWith(ctx, cfg, limits, log)
	if err != nil {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

// runDaemon wires the components and runs them until ctx is cancelled or
// one of them fails; a failing component stops the others, so the process
// never stays alive with a dead worker.
func runDaemon(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return runDaemonWith(ctx, cfg, defaultBeaconSettings(), log)
}

// runDaemonWith is runDaemon with the beacon limits.
func runDaemonWith(ctx context.Context, cfg config.Config, limits beaconSettings, log zerolog.Logger) error {
	db, mc, err := openDB(ctx, cfg, log, 30*time.Second)
	if err != nil {
		return err
	}
	defer db.Close()

	res, err := tracker.Migrate(ctx, db)
	if err != nil {
		return err
	}
	if res.Changed() {
		log.Info().Ints("applied", res.Applied).Strs("seeded", res.SeededConfig).Int("schema_version", res.SchemaVersion).Msg("tracker schema migrated")
	}

	dir := vtiger.NewDirectory(db, log)
	proc := ingest.New(db, dir, log, ingest.Options{MergeWindow: cfg.ScheduleMergeWindow})
	start, err := proc.Start(ctx)
	if err != nil {
		return err
	}
	follower := binlog.New(binlog.Config{
		Addr:            mc.Addr,
		User:            mc.User,
		Password:        mc.Passwd,
		ServerID:        cfg.ServerID,
		Flavor:          flavor(cfg.Flavor),
		Schema:          mc.DBName,
		Tables:          ingest.WatchedTables,
		QuietTables:     ingest.QuietTables,
		HeartbeatPeriod: cfg.Heartbeat,
	}, db, log, proc)

	// Beacons read beacon_secret, track_copy and copy_max_chars from the
	// processor's settings, which it updates from the binlog: a rotated
	// secret refuses old tokens with the next beacon.
	beacons := beacon.New(db, dir, proc.Settings, log, beacon.Options{
		TrustedProxies:  cfg.TrustedProxies,
		AllowedOrigins:  cfg.AllowedOrigins,
		UserLimit:       limits.User,
		IPLimit:         limits.IP,
		QueueSize:       limits.Queue,
		MaxPendingBytes: limits.PendingBytes,
		Writers:         limits.Writers,
		DrainTimeout:    cfg.ShutdownTimeout,
	})

	metrics := newMetrics(follower, proc)
	srv := api.New(db, dir, readiness{follower}, log,
		api.WithCollectors(metrics, beacons.Collector()),
		api.WithHandler(beacon.Path, beacons),
		api.WithQuietRoute(beacon.Path), // a line per copy is noise; refusals are summed up by the beacon service
		api.WithShutdownTimeout(cfg.ShutdownTimeout))

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another dxtracker running? change listen)", cfg.Listen, err)
	}
	var bln net.Listener
	if cfg.BeaconListen != "" {
		if bln, err = net.Listen("tcp", cfg.BeaconListen); err != nil {
			ln.Close()
			return fmt.Errorf("beacon_listen on %s: %w (is another dxtracker running? change beacon_listen)", cfg.BeaconListen, err)
		}
		log.Info().Str("beacon_listen", bln.Addr().String()).Msg("serving beacons only")
	}
	log.Info().Str("listen", ln.Addr().String()).Str("resume", start.String()).Msg("serving API and beacons; following binlog")

	// On SIGTERM (ctx) every part stops at once: the listeners stop
	// accepting, new beacons get 503, and the beacon writer drains its
	// queue into the database while the HTTP servers wait for the
	// requests in flight, which are answered after their commit.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := follower.Run(gctx, start); err != nil {
			return fmt.Errorf("binlog follower: %w", err)
		}
		return nil
	})
	g.Go(func() error { return beacons.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(gctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("api: %w", err)
		}
		return nil
	})
	if bln != nil {
		g.Go(func() error {
			if err := beacons.Serve(gctx, bln, cfg.ShutdownTimeout); err != nil {
				return fmt.Errorf("beacon listener: %w", err)
			}
			return nil
		})
	}
	return g.Wait()
}

func flavor(f string) string {
	if f == "auto" {
		return ""
	}
	return f
}

// readiness reports ready once the binlog stream is connected and caught up
// to within a bounded lag.
type readiness struct{ f *binlog.Follower }

// maxReadyLag is the lag beyond which the daemon is not "ready": events it
// shows are that much behind.
const maxReadyLag = 60 * time.Second

func (r readiness) Ready() (bool, map[string]any) {
	st := r.f.Status()
	ok := st.Connected && st.LagSeconds < maxReadyLag.Seconds()
	return ok, map[string]any{
		"binlog_connected":   st.Connected,
		"binlog_position":    st.Position.String(),
		"binlog_lag_seconds": st.LagSeconds,
		"reconnects":         st.Reconnects,
		"role":               "active",
	}
}

// beaconSettings are the beacon endpoint's abuse limits.
type beaconSettings struct {
	User         beacon.Limit `json:"user"`
	IP           beacon.Limit `json:"ip"`
	Queue        int          `json:"queue"`
	PendingBytes int64        `json:"pending_bytes"`
	Writers      int          `json:"writers"`
}

// beaconEnv are the environment variables of the beacon limits. They are
// read here, not by package config, until config grows these keys; they are
// taken out of env so config does not warn about unknown DXT_ variables.
type beaconVar struct {
	name, example, what string
	set                 func(*beaconSettings, float64)
	isInt               bool
}

var beaconEnv = []beaconVar{
	{"DXT_BEACON_USER_RATE", "20", "beacons per second per Vtiger user, or off", func(b *beaconSettings, v float64) { b.User.Rate = v }, false},
	{"DXT_BEACON_USER_BURST", "60", "beacons a user may send at once", func(b *beaconSettings, v float64) { b.User.Burst = int(v) }, true},
	{"DXT_BEACON_IP_RATE", "200", "beacons per second per client address, or off", func(b *beaconSettings, v float64) { b.IP.Rate = v }, false},
	{"DXT_BEACON_IP_BURST", "400", "beacons an address may send at once", func(b *beaconSettings, v float64) { b.IP.Burst = int(v) }, true},
	{"DXT_BEACON_QUEUE", "8192", "beacons that may wait for the database writer", func(b *beaconSettings, v float64) { b.Queue = int(v) }, true},
	{"DXT_BEACON_MEMORY_MB", "64", "MiB all beacons in flight may take", func(b *beaconSettings, v float64) { b.PendingBytes = int64(v) << 20 }, true},
	{"DXT_BEACON_WRITERS", "2", "beacon transactions under way at once", func(b *beaconSettings, v float64) { b.Writers = int(v) }, true},
}

func defaultBeaconSettings() beaconSettings {
	return beaconSettings{User: beacon.DefaultUserLimit, IP: beacon.DefaultIPLimit,
		Queue: beacon.DefaultQueueSize, PendingBytes: beacon.DefaultMaxPendingBytes, Writers: beacon.DefaultWriters}
}

// beaconLimits reads the beacon limits from env (defaults: 20/s burst 60
// per user, 200/s burst 400 per address, a queue of 8192, 64 MiB, 2
// writers) and
// returns env without them. A bad value is a configuration error (exit 78).
func beaconLimits(env []string) (beaconSettings, []string, error) {
	b := defaultBeaconSettings()
	rest := make([]string, 0, len(env))
	for _, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		i := slices.IndexFunc(beaconEnv, func(e beaconVar) bool { return e.name == name })
		if i < 0 {
			rest = append(rest, kv)
			continue
		}
		e := beaconEnv[i]
		if val == "" {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(e.name, "DXT_"))
		if !e.isInt && strings.EqualFold(val, "off") {
			e.set(&b, -1)
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || v <= 0 || v > 1e9 || (e.isInt && v != float64(int64(v))) {
			kind := "a positive number"
			if e.isInt {
				kind = "a positive whole number"
			}
			return b, nil, &config.Error{Key: key, Problem: fmt.Sprintf("must be %s (%s), got %q from %s", kind, e.what, val, e.name),
				Example: e.name + "=" + e.example}
		}
		e.set(&b, v)
	}
	return b, rest, nil
}
