package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/leader"
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
	tlsConf, err := serverTLS(cfg)
	if err != nil {
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
	proc := ingest.New(db, dir, log, ingest.Options{MergeWindow: cfg.ScheduleMergeWindow})
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
	// processor's settings, which it updates from the binlog: a rotated
	// secret refuses old tokens with the next beacon.
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

	metrics := newMetrics(follower, proc)
	srv := api.New(db, dir, readiness{f: follower, elector: elector}, log,
		api.WithCollectors(metrics, beacons.Collector()),
		api.WithHandler(beacon.Path, beacons),
		api.WithQuietRoute(beacon.Path), // a line per copy is noise; refusals are summed up by the beacon service
		api.WithShutdownTimeout(cfg.ShutdownTimeout))

	ln, err := listen(cfg.Listen, tlsConf)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another dxtracker running? change listen)", cfg.Listen, err)
	}
	var bln net.Listener
	if cfg.BeaconListen != "" {
		if bln, err = listen(cfg.BeaconListen, tlsConf); err != nil {
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
	// The leader (one daemon per database) follows the binlog; a standby
	// serves the API and beacons and takes over when the lock frees.
	// Each term starts from the shared checkpoint.
	g.Go(func() error {
		return elector.Run(gctx, func(lctx context.Context) error {
			start, err := proc.Start(lctx)
			if err != nil {
				if lctx.Err() != nil {
					return nil
				}
				return err
			}
			log.Info().Str("resume", start.String()).Msg("leading: following the binlog")
			if err := follower.Run(lctx, start); err != nil {
				return fmt.Errorf("binlog follower: %w", err)
			}
			return nil
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
	return g.Wait()
}

func flavor(f string) string {
	if f == "auto" {
		return ""
	}
	return f
}

// serverTLS loads the listeners' certificate when tls_cert and tls_key are
// set (config ensures both or neither); nil means plain HTTP.
func serverTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, &config.Error{Key: "tls_cert", Problem: fmt.Sprintf("cannot load the certificate %s with the key %s: %v (both must be PEM files readable by the daemon's user, the key matching the certificate)", cfg.TLSCert, cfg.TLSKey, err),
			Example: "tls_cert = \"/etc/dxtracker/tls/cert.pem\" and tls_key = \"/etc/dxtracker/tls/key.pem\""}
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// listen opens a TCP listener, speaking TLS when tlsConf is set.
func listen(addr string, tlsConf *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil || tlsConf == nil {
		return ln, err
	}
	return tls.NewListener(ln, tlsConf), nil
}
