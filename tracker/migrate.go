package tracker

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// MigrateResult says what Migrate changed, so `dxtracker migrate` can tell
// the operator that a second run was a no-op.
type MigrateResult struct {
	Applied       []int // schema versions applied by this run
	SeededConfig  []string
	SchemaVersion int
}

// Changed reports whether the run altered anything.
func (r MigrateResult) Changed() bool { return len(r.Applied) > 0 || len(r.SeededConfig) > 0 }

// LatestSchemaVersion is the version this binary creates.
func LatestSchemaVersion() int { return migrations[len(migrations)-1].version }

// Migrate creates or upgrades the tracker tables and seeds dxt_config.
// Concurrent runs (two daemons starting at once) serialise on a named lock.
func Migrate(ctx context.Context, db *sql.DB) (MigrateResult, error) {
	var res MigrateResult
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: open connection: %w", err)
	}
	defer conn.Close()

	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK('dxtracker.migrate', 60)`).Scan(&got); err != nil {
		return res, fmt.Errorf("migrate: take lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return res, fmt.Errorf("migrate: another migration holds lock dxtracker.migrate for over 60s")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK('dxtracker.migrate')`) //nolint:errcheck // the lock dies with the connection anyway

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS dxt_schema_version (
  version     INT          NOT NULL PRIMARY KEY,
  description VARCHAR(255) NOT NULL,
  applied_at  DATETIME(6)  NOT NULL
)`+tableOptions); err != nil {
		return res, fmt.Errorf("migrate: create dxt_schema_version: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM dxt_schema_version`)
	if err != nil {
		return res, fmt.Errorf("migrate: read schema version: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return res, fmt.Errorf("migrate: read schema version: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("migrate: read schema version: %w", err)
	}
	for v := range applied {
		if v > LatestSchemaVersion() {
			return res, fmt.Errorf("migrate: database has tracker schema version %d but this binary knows only up to %d; upgrade dxtracker", v, LatestSchemaVersion())
		}
	}

	for _, m := range migrations {
		if applied[m.version] {
			continue
		}
		// MySQL DDL commits implicitly, so a transaction would be a lie here;
		// idempotent statements make a half-applied step safe to rerun.
		for i, stmt := range m.statements {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return res, fmt.Errorf("migrate: version %d statement %d: %w", m.version, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO dxt_schema_version (version, description, applied_at) VALUES (?, ?, ?)`,
			m.version, m.description, time.Now().UTC()); err != nil {
			return res, fmt.Errorf("migrate: record version %d: %w", m.version, err)
		}
		res.Applied = append(res.Applied, m.version)
	}
	res.SchemaVersion = LatestSchemaVersion()

	seeded, err := seedConfig(ctx, conn)
	if err != nil {
		return res, err
	}
	res.SeededConfig = seeded
	return res, nil
}

// seedConfig inserts every missing dxt_config key with its default; values an
// administrator already set are never touched.
func seedConfig(ctx context.Context, conn *sql.Conn) ([]string, error) {
	var seeded []string
	now := time.Now().UTC()
	for _, k := range ConfigKeys() {
		def := k.Default
		if k.Name == KeyBeaconSecret {
			secret, err := NewSecret()
			if err != nil {
				return nil, err
			}
			def = secret
		}
		r, err := conn.ExecContext(ctx, `INSERT IGNORE INTO dxt_config (name, value, updated_at) VALUES (?, ?, ?)`, k.Name, def, now)
		if err != nil {
			return nil, fmt.Errorf("migrate: seed dxt_config %s: %w", k.Name, err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			seeded = append(seeded, k.Name)
		}
	}
	return seeded, nil
}

// NewSecret returns 32 random bytes as lowercase hex (the beacon HMAC key).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}
