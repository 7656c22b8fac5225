package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

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
	if _, err := sandbox.CreateVtigerDatabase(ctx, srv, schemaName); err != nil {
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

// writePos is the server's binlog write position without its GTID: SHOW
// MASTER STATUS alone. binlog.CurrentPosition also calls BINLOG_GTID_POS,
// which on MariaDB 10.x reads the binlog file from its start up to the
// offset: too heavy to poll while a gigabyte file grows.
func writePos(ctx context.Context, db *sql.DB) (binlog.Position, error) {
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return binlog.Position{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return binlog.Position{}, err
	}
	if !rows.Next() {
		return binlog.Position{}, errors.Join(errors.New("SHOW MASTER STATUS: no row (binary log off?)"), rows.Err())
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil || len(vals) < 2 {
		return binlog.Position{}, errors.Join(errors.New("SHOW MASTER STATUS: unexpected columns"), err)
	}
	pos, err := strconv.ParseUint(vals[1].String, 10, 32)
	if err != nil {
		return binlog.Position{}, fmt.Errorf("SHOW MASTER STATUS: position %q: %w", vals[1].String, err)
	}
	return binlog.Position{File: vals[0].String, Pos: uint32(pos)}, nil
}

// rangeBytes is the binlog bytes from start to end, over file boundaries.
func rangeBytes(ctx context.Context, db *sql.DB, start, end binlog.Position) (int64, error) {
	if start.File == end.File {
		return int64(end.Pos) - int64(start.Pos), nil
	}
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var total int64
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		size, err := strconv.ParseInt(vals[1].String, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("SHOW BINARY LOGS: size %q of %s: %w", vals[1].String, vals[0].String, err)
		}
		p := binlog.Position{File: vals[0].String}
		switch {
		case p.File == start.File:
			total += size - int64(start.Pos)
		case p.File == end.File:
			total += int64(end.Pos)
		case p.Compare(start) > 0 && p.Compare(end) < 0:
			total += size
		}
	}
	return total, rows.Err()
}
