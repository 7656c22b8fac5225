package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/config"
)

// splitFlags separates a command's own flags (names in own, each taking a
// value unless listed in bools) from the config flags, which config.Load parses.
func splitFlags(args []string, own map[string]bool, bools map[string]bool) (mine, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name = name[:eq]
			if own[name] || bools[name] {
				mine = append(mine, a)
			} else {
				rest = append(rest, a)
			}
			continue
		}
		switch {
		case bools[name]:
			mine = append(mine, a)
		case own[name]:
			mine = append(mine, a)
			if i+1 < len(args) {
				mine = append(mine, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return mine, rest
}

// loadConfig reads the configuration and builds the logger.
func loadConfig(args, env []string, logOut io.Writer) (config.Config, zerolog.Logger, []string, error) {
	cfg, rest, err := config.Load(args, env)
	if err != nil {
		return cfg, zerolog.Nop(), nil, err
	}
	log := cfg.Logger(logOut)
	for _, w := range cfg.Warnings {
		log.Warn().Str("warning", w).Msg("configuration")
	}
	return cfg, log, rest, nil
}

// openDB opens the Vtiger database and waits up to wait until it answers
// (the daemon waits for a database that boots with it; tools fail fast).
// The error says what to check, because it is the first thing a new
// installation meets.
func openDB(ctx context.Context, cfg config.Config, log zerolog.Logger, wait time.Duration) (*sql.DB, *mysql.Config, error) {
	mc, err := cfg.MySQL()
	if err != nil {
		return nil, nil, err
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql_dsn: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)

	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return db, mc, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			db.Close()
			return nil, nil, fmt.Errorf("cannot reach the database at %s as user %q: %w (check that MariaDB/MySQL runs, that mysql_dsn is right and that the user may connect from this host)", mc.Addr, mc.User, err)
		}
		log.Warn().Err(err).Int("attempt", attempt).Str("addr", mc.Addr).Msg("database not reachable yet, retrying")
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(min(attempt, 5)) * time.Second):
		}
	}
}

// toolSession is what the one-shot commands (migrate, doctor, token, events,
// vtiger) share: the configuration, a logger and a database that answered.
type toolSession struct {
	cfg config.Config
	log zerolog.Logger
	db  *sql.DB
	mc  *mysql.Config
}

// openTool loads the configuration from args and env and opens the
// database without waiting for it (tools fail fast). Close the db.
func openTool(ctx context.Context, args, env []string, logOut io.Writer) (toolSession, error) {
	cfg, log, _, err := loadConfig(args, env, logOut)
	if err != nil {
		return toolSession{}, err
	}
	db, mc, err := openDB(ctx, cfg, log, 0)
	if err != nil {
		return toolSession{}, err
	}
	return toolSession{cfg: cfg, log: log, db: db, mc: mc}, nil
}
