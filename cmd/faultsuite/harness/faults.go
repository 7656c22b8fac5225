package harness

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FlushBinlogs runs FLUSH BINARY LOGS: the server closes the current file
// and opens the next one.
func (e *Env) FlushBinlogs(ctx context.Context) error {
	_, err := e.DB.ExecContext(ctx, `FLUSH BINARY LOGS`)
	return err
}

// RestartMariaDB stops MariaDB gracefully and starts it again.
func (e *Env) RestartMariaDB(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return e.Srv.Restart(ctx)
}

// CrashMariaDB kills MariaDB with SIGKILL and starts it again (crash
// recovery). With durable settings no committed transaction is lost.
func (e *Env) CrashMariaDB(ctx context.Context) error {
	if err := e.Srv.Kill(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	return e.Srv.Restart(ctx)
}

// MasterFile is the binlog file the server writes now.
func (e *Env) MasterFile(ctx context.Context) (string, error) {
	rows, err := e.DB.QueryContext(ctx, `SHOW MASTER STATUS`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "", fmt.Errorf("SHOW MASTER STATUS: no row (binlog off?)")
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	return string(vals[0]), nil
}

// FirstBinlog is the oldest binlog file the server still has.
func (e *Env) FirstBinlog(ctx context.Context) (string, error) {
	rows, err := e.DB.QueryContext(ctx, `SHOW BINARY LOGS`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return "", fmt.Errorf("SHOW BINARY LOGS: no row")
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	return string(vals[0]), nil
}

// PurgeAll flushes the binary logs and purges every file but the newest,
// retrying while a lingering dump thread still holds one. It returns the
// file the server keeps.
func (e *Env) PurgeAll(ctx context.Context) (string, error) {
	for i := 0; i < 2; i++ {
		if err := e.FlushBinlogs(ctx); err != nil {
			return "", err
		}
	}
	file, err := e.MasterFile(ctx)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.DB.ExecContext(ctx, `PURGE BINARY LOGS TO '`+file+`'`); err != nil {
			return "", err
		}
		first, err := e.FirstBinlog(ctx)
		if err != nil {
			return "", err
		}
		if first == file {
			return file, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("binlog still starts at %s after purging to %s", first, file)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// DumpThreads lists the ids of the server's binlog dump threads (one per
// connected replica: the daemon's).
func (e *Env) DumpThreads(ctx context.Context) ([]int64, error) {
	rows, err := e.DB.QueryContext(ctx, `SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') ORDER BY ID`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// KillDumpThread kills the daemon's replication connection and waits until
// it has reconnected (a new dump thread). It returns the killed id and how
// long the reconnection took.
func (e *Env) KillDumpThread(ctx context.Context, within time.Duration) (int64, time.Duration, error) {
	var ids []int64
	deadline := time.Now().Add(within)
	for {
		var err error
		if ids, err = e.DumpThreads(ctx); err != nil {
			return 0, 0, err
		}
		if len(ids) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no binlog dump thread to kill after %s", within)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
	victim := ids[len(ids)-1]
	if _, err := e.DB.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", victim)); err != nil {
		return victim, 0, fmt.Errorf("KILL CONNECTION %d: %w", victim, err)
	}
	killed := time.Now()
	deadline = killed.Add(within)
	for {
		now, err := e.DumpThreads(ctx)
		if err != nil {
			return victim, 0, err
		}
		for _, id := range now {
			if id > victim {
				return victim, time.Since(killed), nil
			}
		}
		if time.Now().After(deadline) {
			return victim, time.Since(killed), fmt.Errorf("the daemon did not reconnect within %s of KILL %d", within, victim)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return victim, 0, err
		}
	}
}
