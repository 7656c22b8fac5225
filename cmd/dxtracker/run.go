package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func cmdRun(ctx context.Context, args, env []string, stderr io.Writer) error {
	cfg, log, rest, err := loadConfig(args, env, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("run takes no arguments, got %q", rest)}
	}
	log.Info().Str("version", version).Str("commit", commit).Interface("config", cfg.Redacted()).Msg("starting")
	err = runDaemon(ctx, cfg, log)
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

	metrics := newMetrics(follower, proc)
	srv := api.New(db, dir, readiness{follower}, log, api.WithCollectors(metrics))

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another dxtracker running? change listen)", cfg.Listen, err)
	}
	log.Info().Str("listen", ln.Addr().String()).Str("resume", start.String()).Msg("serving API; following binlog")

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := follower.Run(gctx, start); err != nil {
			return fmt.Errorf("binlog follower: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := srv.Serve(gctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("api: %w", err)
		}
		return nil
	})
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
