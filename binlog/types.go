package binlog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Row is one row image: column name -> value, as go-mysql decodes it with
// the settings this package uses (ParseTime off, decimals as text, TIMESTAMP
// rendered in UTC):
//
//	NULL                                   nil
//	TINYINT/SMALLINT/MEDIUMINT/INT/BIGINT  int8/int16/int32/int32/int64 (uint8 ... uint64 when UNSIGNED)
//	FLOAT, DOUBLE                          float32, float64
//	DECIMAL                                string, e.g. "12.50"
//	DATETIME, TIMESTAMP                    string "2006-01-02 15:04:05[.ffffff]" (TIMESTAMP in UTC; zero date "0000-00-00 00:00:00")
//	DATE, TIME                             string
//	YEAR                                   int
//	CHAR, VARCHAR                          string
//	TEXT, BLOB, JSON, GEOMETRY             []byte (TEXT and BLOB look the same in the binlog)
//	ENUM, SET                              int64 (1-based index, bit set)
//	BIT                                    int64
//
// A Row holds only the columns the event carried: with binlog_row_image=FULL
// (required at start-up) that is every column.
type Row map[string]any

// Action is what a RowChange did.
type Action int

// The row actions.
const (
	Insert Action = iota + 1
	Update
	Delete
)

func (a Action) String() string {
	switch a {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// RowChange is one changed row of a watched table. Before is nil for Insert,
// After is nil for Delete.
type RowChange struct {
	Table         string
	Action        Action
	Before, After Row
}

// Txn is one committed transaction with changes on watched tables.
type Txn struct {
	Changes []RowChange // in binlog order
	// End is the position just after the transaction's commit event.
	End Position
	// Timestamp is the commit event's header time (second precision), UTC.
	Timestamp time.Time
}

// Batch is what the Handler applies at once: whole transactions only.
type Batch struct {
	Txns []Txn // only transactions with changes on watched tables; may be empty
	// End is the resume point after the whole batch. It may be past the last
	// Txn's End: transactions without watched changes and rotations only
	// move End.
	End Position
}

// Handler persists what the Follower reads. Both methods must be idempotent:
// after a reconnect or a restart the same transactions can arrive again.
type Handler interface {
	// ApplyBatch makes the batch durable together with b.End as the
	// checkpoint (one database transaction). When it returns nil the
	// Follower never delivers anything before b.End again in this Run. An
	// error makes the Follower retry the same batch with backoff; it never
	// skips a batch.
	ApplyBatch(ctx context.Context, b Batch) error
	// Resync is called when the checkpoint's binlog file is gone (purged):
	// the events between from and to were not seen. The handler reconciles
	// from the tables and stores to as the checkpoint. Errors are retried
	// like ApplyBatch errors.
	Resync(ctx context.Context, from, to Position) error
}

// Config configures a Follower. Zero durations and counts take the defaults
// named below.
type Config struct {
	Addr           string   // host:port of the server (port 3306 when absent)
	User, Password string   // needs REPLICATION SLAVE (binlog dump) on the server
	ServerID       uint32   // replica server id, unique among the server's replicas, not the server's own
	Flavor         string   // "mariadb" | "mysql" | "" = detect via SELECT VERSION()
	Schema         string   // the one database whose tables are watched
	Tables         []string // table names in Schema, exactly as the server stores them (case matters)
	// QuietTables are tables of Schema whose changes are not progress:
	// transactions that touch only these (and watched tables' changes are
	// always delivered) do not cause a change-less batch. List the tables
	// the Handler writes in ApplyBatch (its checkpoint table at least), or
	// every idle flush causes the next one.
	QuietTables []string
	// Columns, when it names a watched table, keeps only those columns of
	// its rows (the others are decoded by go-mysql but not kept): a
	// handler that needs a row's id only should not hold its TEXT columns
	// while it is behind.
	Columns         map[string][]string
	HeartbeatPeriod time.Duration // server heartbeat when idle, default 5s
	// ReadTimeout: a stream that sent no event (heartbeats included) for
	// this long is dead and reconnected; it also bounds connecting.
	// Default 3×HeartbeatPeriod.
	ReadTimeout  time.Duration
	MaxBatchTxns int // at most this many Txns per Batch, default 500
	// MaxPendingBytes bounds the transactions read but not yet applied,
	// measured as the raw binlog bytes they were decoded from (decoded
	// rows take a few times that). A single larger transaction still
	// passes, alone. Default 8 MiB.
	MaxPendingBytes int64
	// IdleFlush is how often, at most, a change-less batch is delivered to
	// advance the checkpoint past transactions on other tables. Default 1s.
	IdleFlush time.Duration
}

// Default values for Config fields left zero.
const (
	DefaultHeartbeatPeriod = 5 * time.Second
	DefaultMaxBatchTxns    = 500
	DefaultIdleFlush       = time.Second
	DefaultMaxPendingBytes = 8 << 20
)

func (c Config) withDefaults() Config {
	if c.HeartbeatPeriod <= 0 {
		c.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 3 * c.HeartbeatPeriod
	}
	if c.MaxBatchTxns <= 0 {
		c.MaxBatchTxns = DefaultMaxBatchTxns
	}
	if c.IdleFlush <= 0 {
		c.IdleFlush = DefaultIdleFlush
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = DefaultMaxPendingBytes
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("binlog: Addr is empty (want host:port of the MySQL/MariaDB server)"))
	}
	if c.ServerID == 0 {
		errs = append(errs, errors.New("binlog: ServerID is 0 (want a replica server id unique on this server, e.g. 4242)"))
	}
	if c.Schema == "" {
		errs = append(errs, errors.New("binlog: Schema is empty (want the database to watch, e.g. vtiger)"))
	}
	switch c.Flavor {
	case "", flavorMariaDB, flavorMySQL:
	default:
		errs = append(errs, fmt.Errorf("binlog: Flavor %q unknown (want mariadb, mysql or empty to detect)", c.Flavor))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return nil
}

// Status is a snapshot of the Follower for health checks and metrics.
type Status struct {
	Connected bool // the replication stream is open and delivering events
	// Position is the resume point the Handler last accepted (or the start
	// position before the first batch).
	Position Position
	// ReadPosition is the last transaction boundary read from the stream,
	// past transactions on other tables the Handler never sees; with the
	// server's binlog size it tells how far behind the reading is.
	ReadPosition Position
	// LastEventTime is the header time of the last binlog event read
	// (heartbeats and synthetic events excluded).
	LastEventTime time.Time
	// LagSeconds is now - LastEventTime, 0 when the server's heartbeat says
	// the stream is caught up.
	LagSeconds float64
	Reconnects int64 // stream sessions that ended with an error and were retried
	EventsRead uint64
	BytesRead  uint64
	// RowsDecoded counts rows of watched tables decoded (an UPDATE's before
	// and after images count once). Rows of other tables are never decoded.
	RowsDecoded uint64
}

// ErrSetup marks errors a restart cannot fix: server settings (binary log
// off, binlog_format or binlog_row_image wrong), credentials, privileges or
// configuration. Run returns such errors wrapped; test with errors.Is.
var ErrSetup = errors.New("binlog: server or configuration needs fixing")
