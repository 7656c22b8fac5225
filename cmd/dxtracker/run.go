package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/dxtracker/dxtracker/alerting"
	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/leader"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/retention"
	"github.com/dxtracker/dxtracker/rules"
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
	// The level set now and by SIGHUP is the process-wide one; the logger
	// itself lets everything through to it.
	zerolog.SetGlobalLevel(levelOf(cfg))
	log = log.Level(zerolog.TraceLevel)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := func() (config.Config, error) {
		c, _, err := config.Load(args, env)
		return c, err
	}
	err = runDaemonWith(ctx, cfg, log, reload, hup)
	if err != nil {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

// runDaemon wires the components and runs them until ctx is cancelled or
// one of them fails; a failing component stops the others, so the process
// never stays alive with a dead worker. reload, if not nil, reads the
// configuration again (SIGHUP).
func runDaemon(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return runDaemonWith(ctx, cfg, log, nil, nil)
}

func runDaemonWith(ctx context.Context, cfg config.Config, log zerolog.Logger, reload func() (config.Config, error), hup <-chan os.Signal) error {
	certs, err := newCertSwitch(cfg)
	if err != nil {
		return err
	}
	mail := &mailSwitch{}
	if err := mail.set(cfg); err != nil {
		return err
	}
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
	engine := rules.NewEngine(db, log)
	var proc *ingest.Processor
	procSettings := func() tracker.Settings { return proc.Settings() }
	worker := notify.NewWorker(db, mail, procSettings, log, notify.Options{
		From: cfg.SMTPFrom, WebhookSecret: cfg.WebhookSecret, Renderer: notify.NewRenderer(cfg.VtigerURL),
		SendTimeout: cfg.SMTPTimeout + 30*time.Second, RetryBase: cfg.NotifyRetryBase,
	})
	alerts := alerting.New(engine, procSettings, worker.Notify, log)
	// The chain links each event after the rules recorded their matches
	// on it (its Options runs alerting's BeforeCommit first).
	chainHook := chain.New(db, log)
	proc = ingest.New(db, dir, log, chainHook.Options(alerts.Options(ingest.Options{MergeWindow: cfg.ScheduleMergeWindow})))
	digester := notify.NewDigester(db, procSettings, log, notify.DigestOptions{Wake: worker.Notify})
	anchorer := chain.NewAnchorer(db, procSettings, log, chain.AnchorOptions{Wake: worker.Notify, Database: mc.DBName})
	purger := retention.New(db, log, retention.Options{})
	elector := leader.New(db, leader.LockName(mc.DBName), log, leader.Options{})
	settings := &liveSettings{db: db, proc: proc, dir: dir, elector: elector, log: log}
	follower := binlog.New(binlog.Config{
		Addr:            mc.Addr,
		User:            mc.User,
		Password:        mc.Passwd,
		ServerID:        cfg.ServerID,
		Flavor:          flavor(cfg.Flavor),
		Schema:          mc.DBName,
		Tables:          ingest.WatchedTables,
		QuietTables:     ingest.QuietTables,
		Columns:         ingest.WatchedColumns,
		HeartbeatPeriod: cfg.Heartbeat,
	}, db, log, proc)

	// Beacons read beacon_secret, track_copy and copy_max_chars from the
	// settings in force (the leader's processor updates them from the
	// binlog, a standby polls): a rotated secret refuses old tokens within
	// a second.
	beacons := beacon.New(db, dir, settings.Get, log, beacon.Options{
		TrustedProxies:  cfg.TrustedProxies,
		AllowedOrigins:  cfg.AllowedOrigins,
		UserLimit:       beacon.Limit{Rate: cfg.BeaconUserRate, Burst: cfg.BeaconUserBurst},
		IPLimit:         beacon.Limit{Rate: cfg.BeaconIPRate, Burst: cfg.BeaconIPBurst},
		QueueSize:       cfg.BeaconQueue,
		MaxPendingBytes: int64(cfg.BeaconMemoryMB) << 20,
		Writers:         cfg.BeaconWriters,
		DrainTimeout:    cfg.ShutdownTimeout,
	})

	ready := readiness{f: follower, elector: elector, extra: []func(map[string]any){notificationDetails(worker)}}
	srv := api.New(db, dir, ready, log,
		api.WithCollectors(newMetrics(follower, proc, db, alerts, engine), beacons.Collector(), purger.Collector()),
		api.WithRules(engine),
		api.WithHandler(beacon.Path, beacons),
		api.WithQuietRoute(beacon.Path), // a line per copy is noise; refusals are summed up by the beacon service
		api.WithShutdownTimeout(cfg.ShutdownTimeout))

	// Beacons and the API are served from the first request on: they need
	// the settings (beacon_secret) before the listeners open, not once the
	// processor or the standby's poll got to them.
	if err := settings.refresh(ctx); err != nil {
		return fmt.Errorf("read the settings in dxt_config: %w", err)
	}
	ln, err := listen(cfg.Listen, certs.config())
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another dxtracker running? change listen)", cfg.Listen, err)
	}
	var bln net.Listener
	if cfg.BeaconListen != "" {
		if bln, err = listen(cfg.BeaconListen, certs.config()); err != nil {
			ln.Close()
			return fmt.Errorf("beacon_listen on %s: %w (is another dxtracker running? change beacon_listen)", cfg.BeaconListen, err)
		}
		log.Info().Str("beacon_listen", bln.Addr().String()).Msg("serving beacons only")
	}
	log.Info().Str("listen", ln.Addr().String()).Str("lock", leader.LockName(mc.DBName)).
		Msg("serving API and beacons; following the binlog while holding the lock")

	// On SIGTERM (ctx) every part stops at once: the listeners stop
	// accepting, new beacons get 503, and the beacon writer drains its
	// queue into the database while the HTTP servers wait for the
	// requests in flight, which are answered after their commit.
	g, gctx := errgroup.WithContext(ctx)
	// The leader (one daemon per database) follows the binlog, delivers
	// notifications, makes the digest and purges old events; a standby
	// serves the API and beacons and takes over when the lock frees. Each
	// term starts from the shared checkpoint.
	g.Go(func() error {
		return elector.Run(gctx, func(lctx context.Context) error {
			if err := chainHook.Start(lctx); err != nil {
				if lctx.Err() != nil {
					return nil
				}
				return err
			}
			start, err := proc.Start(lctx)
			if err != nil {
				if lctx.Err() != nil {
					return nil
				}
				return err
			}
			log.Info().Str("resume", start.String()).Msg("leading: following the binlog")
			lg, lgctx := errgroup.WithContext(lctx)
			lg.Go(func() error {
				if err := follower.Run(lgctx, start); err != nil {
					return fmt.Errorf("binlog follower: %w", err)
				}
				return nil
			})
			lg.Go(func() error { return worker.Run(lgctx) })
			lg.Go(func() error { return digester.Run(lgctx) })
			lg.Go(func() error { return anchorer.Run(lgctx) })
			lg.Go(func() error { return purger.Run(lgctx, proc.Settings) })
			return lg.Wait()
		})
	})
	g.Go(func() error { return settings.Run(gctx) })
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
	sup := &supervisor{log: log, elector: elector, follower: follower, cfg: cfg, reload: reload, hup: hup, mail: mail, certs: certs}
	g.Go(func() error { return sup.Run(gctx) })
	return g.Wait()
}

func flavor(f string) string {
	if f == "auto" {
		return ""
	}
	return f
}
