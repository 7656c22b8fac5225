// Package ingest turns what the binlog and the intake tables say into
// tracking-log events, exactly once: the event rows, the intake rows'
// processed_at and the binlog checkpoint commit in one transaction.
package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// Tables the processor reacts to; every other table's rows are never decoded.
var WatchedTables = []string{
	"dxt_intake", "dxt_config", "dxt_rule",
	"vtiger_schedulereports", "vtiger_users", "vtiger_loginhistory",
}

// WatchedColumns are the columns of the watched tables the processor reads
// from the binlog where it reads fewer than all: an intake row is read
// from its table, the binlog only says which.
var WatchedColumns = map[string][]string{"dxt_intake": {"id"}, "dxt_rule": {"id"}}

// QuietTables are written by the daemon itself for bookkeeping only; a
// transaction touching nothing else is not progress worth a checkpoint.
var QuietTables = []string{"dxt_checkpoint", "dxt_event", "dxt_content", "dxt_content_chunk", "dxt_schedule_state", "dxt_access_log", "dxt_api_token", "dxt_outbox"}

// Directory is the Vtiger knowledge the processor needs.
type Directory interface {
	User(ctx context.Context, id int64) (vtiger.User, bool, error)
	InvalidateUsers()
	ModuleExists(ctx context.Context, name string) (bool, error)
	LastLoginIP(ctx context.Context, userName string) (string, bool, error)
	Report(ctx context.Context, id int64) (vtiger.Report, bool, error)
	Schedules(ctx context.Context) ([]vtiger.Schedule, error)
	ResolveRecipients(ctx context.Context, s vtiger.Schedule, companyDomains []string) ([]vtiger.Recipient, error)
	CompanyDomains(ctx context.Context, configured []string) ([]string, error)
}

// Options tune a Processor.
type Options struct {
	// CheckpointName keys the dxt_checkpoint row (one per follower).
	CheckpointName string
	// MergeWindow is how far apart the binlog and the probe may see the
	// same scheduled-report run and still be merged into one event.
	MergeWindow time.Duration
	// IntakeBatch bounds the intake rows handled in one transaction.
	IntakeBatch int
	// Now is the clock (tests inject one).
	Now func() time.Time
	// OnCommit is called after each commit with the events it created.
	OnCommit func(created []Created)
	// BeforeCommit is called inside each transaction that created or
	// merged events, after them and before the checkpoint and COMMIT:
	// whatever it writes (rule matches, notification outbox rows) commits
	// or rolls back with the events, exactly once. An error rolls back the
	// batch, which is retried.
	BeforeCommit func(ctx context.Context, tx *sql.Tx, created []Created) error
	// OnRollback is called when a transaction that ran BeforeCommit did
	// not commit, so caches built during it can be dropped.
	OnRollback func()
	// OnRulesChanged is called when the binlog shows a change of dxt_rule
	// (any daemon's API, or SQL by hand), before the batch is applied.
	OnRulesChanged func()
}

// Created describes an event a commit created or merged into.
type Created struct {
	EventID uint64
	Type    string
	Merged  bool
	// Settings are the settings in force at the change that made the
	// event, in binlog order: a dxt_config change earlier in the same
	// batch applies. nil only for a Created not made by the processor.
	Settings *tracker.Settings
}

// Counters are cumulative, for metrics.
type Counters struct {
	EventsByType   sync.Map // type -> *atomic.Uint64
	IntakeSkipped  atomic.Uint64
	IntakeMerged   atomic.Uint64
	ContentBytes   atomic.Uint64
	HashMismatches atomic.Uint64
	Batches        atomic.Uint64
}

func (c *Counters) addEvent(t string) {
	v, _ := c.EventsByType.LoadOrStore(t, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
}

// Processor applies binlog batches and intake rows. It is not safe for
// concurrent use: one goroutine (the follower's applier) drives it.
type Processor struct {
	db   *sql.DB
	dir  Directory
	log  zerolog.Logger
	opts Options

	raw      map[string]string // dxt_config as last committed
	settings atomic.Pointer[tracker.Settings]
	loaded   atomic.Bool // settings read from dxt_config at least once
	Counters Counters
}

var _ binlog.Handler = (*Processor)(nil)

// New returns a Processor; it does no I/O until Start.
func New(db *sql.DB, dir Directory, log zerolog.Logger, opts Options) *Processor {
	if opts.CheckpointName == "" {
		opts.CheckpointName = "main"
	}
	if opts.MergeWindow <= 0 {
		opts.MergeWindow = 10 * time.Minute
	}
	if opts.IntakeBatch <= 0 {
		opts.IntakeBatch = 500
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Now().UTC() }
	}
	p := &Processor{db: db, dir: dir, log: log.With().Str("component", "ingest").Logger(), opts: opts}
	s := tracker.ParseSettings(nil)
	p.settings.Store(&s)
	return p
}

// Settings returns the settings in force.
func (p *Processor) Settings() tracker.Settings { return *p.settings.Load() }

// Start loads the settings and the checkpoint and processes intake rows
// left unprocessed while the daemon was down. It returns where the binlog
// stream must resume (on a first start, the position before the scans).
func (p *Processor) Start(ctx context.Context) (binlog.Position, error) {
	if err := p.reloadSettings(ctx); err != nil {
		return binlog.Position{}, err
	}
	cp, ok, err := tracker.LoadCheckpoint(ctx, p.db, p.opts.CheckpointName)
	if err != nil {
		return binlog.Position{}, err
	}
	start := binlog.Position{File: cp.File, Pos: uint32(cp.Pos), GTID: cp.GTID}
	if !ok {
		// First start: take the stream position BEFORE the scans, so a row
		// committed in between is seen by the stream (and skipped by the
		// scan or the stream as already processed), never by neither.
		if start, err = binlog.CurrentPosition(ctx, p.db); err != nil {
			return binlog.Position{}, fmt.Errorf("read the current binlog position: %w", err)
		}
		// Remember every schedule's state so the first delivery seen later
		// is judged against a baseline.
		if _, err := p.ReconcileSchedules(ctx); err != nil {
			return binlog.Position{}, err
		}
	}
	if _, err := p.ReconcileIntake(ctx); err != nil {
		return binlog.Position{}, err
	}
	return start, nil
}

func (p *Processor) reloadSettings(ctx context.Context) error {
	raw, err := tracker.ReadConfig(ctx, p.db)
	if err != nil {
		return fmt.Errorf("load settings: %w (run `dxtracker migrate`?)", err)
	}
	p.raw = raw
	s := tracker.ParseSettings(raw)
	p.settings.Store(&s)
	p.loaded.Store(true)
	return nil
}

// Loaded reports whether Settings come from dxt_config yet (Start reads
// them); before that they are the built-in defaults, without beacon_secret.
func (p *Processor) Loaded() bool { return p.loaded.Load() }

// ApplyBatch implements binlog.Handler.
func (p *Processor) ApplyBatch(ctx context.Context, b binlog.Batch) error {
	raw := p.raw
	settings := p.Settings()
	settingsChanged := false
	gen := 0 // settings generation within the batch
	var items []workItem
	for _, txn := range b.Txns {
		for _, ch := range txn.Changes {
			switch ch.Table {
			case "dxt_config":
				if ch.Action == binlog.Delete {
					continue
				}
				if !settingsChanged {
					raw = cloneMap(raw)
					settingsChanged = true
				}
				raw[asString(ch.After["name"])] = asString(ch.After["value"])
				settings = tracker.ParseSettings(raw)
				gen++
			case "dxt_intake":
				if ch.Action != binlog.Insert {
					continue
				}
				if id, ok := asInt64(ch.After["id"]); ok {
					items = append(items, workItem{intakeID: uint64(id), settings: settings, gen: gen})
				}
			case "vtiger_schedulereports":
				if it, ok := p.scheduleItem(ch, txn.Timestamp, settings); ok {
					it.gen = gen
					items = append(items, it)
				}
			case "vtiger_users":
				p.dir.InvalidateUsers()
			case "dxt_rule":
				if p.opts.OnRulesChanged != nil {
					p.opts.OnRulesChanged()
				}
			}
		}
	}

	cp := tracker.Checkpoint{File: b.End.File, Pos: uint64(b.End.Pos), GTID: b.End.GTID}
	var created []Created
	var err error
	if len(items) == 0 {
		// Nothing to write but the position: one statement, no transaction.
		err = tracker.SaveCheckpoint(ctx, p.db, p.opts.CheckpointName, cp)
	} else {
		err = p.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			created, err = p.applyItems(ctx, tx, items)
			if err != nil {
				return err
			}
			return tracker.SaveCheckpoint(ctx, tx, p.opts.CheckpointName, cp)
		})
	}
	if err != nil {
		return err
	}
	if settingsChanged {
		p.raw = raw
		p.settings.Store(&settings)
		p.log.Info().Msg("settings reloaded from dxt_config")
	}
	p.Counters.Batches.Add(1)
	p.committed(created)
	return nil
}

// Resync implements binlog.Handler: the binlog between from and to is gone,
// so the tables themselves say what happened.
func (p *Processor) Resync(ctx context.Context, from, to binlog.Position) error {
	p.log.Warn().Str("checkpoint", from.String()).Str("resume", to.String()).
		Msg("reconciling from tables because the binlog after the checkpoint was purged")
	if err := p.reloadSettings(ctx); err != nil {
		return err
	}
	p.dir.InvalidateUsers()
	n, err := p.ReconcileSchedules(ctx)
	if err != nil {
		return err
	}
	m, err := p.ReconcileIntake(ctx)
	if err != nil {
		return err
	}
	p.log.Warn().Int("schedule_events", n).Int("intake_rows", m).Msg("reconciliation after purge done")
	return p.inTx(ctx, func(tx *sql.Tx) error {
		return tracker.SaveCheckpoint(ctx, tx, p.opts.CheckpointName,
			tracker.Checkpoint{File: to.File, Pos: uint64(to.Pos), GTID: to.GTID})
	})
}

// ReconcileIntake processes every intake row still unprocessed, oldest
// first, in batches. It is how rows written while the daemon was down, or
// whose binlog is gone, still become events.
//
// It stops at the newest row that existed when it began: rows inserted
// later commit after the stream's resume position and reach the processor
// through the binlog. Without the bound a producer writing faster than a
// batch commits kept the scan (and the daemon's start) going forever.
func (p *Processor) ReconcileIntake(ctx context.Context) (int, error) {
	var last uint64
	if err := p.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM dxt_intake`).Scan(&last); err != nil {
		return 0, fmt.Errorf("find the newest intake row: %w", err)
	}
	total := 0
	after := uint64(0)
	for {
		ids, err := p.pendingIntake(ctx, after, last)
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		items := make([]workItem, len(ids))
		settings := p.Settings()
		for i, id := range ids {
			items[i] = workItem{intakeID: id, settings: settings}
		}
		var created []Created
		if err := p.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			created, err = p.applyItems(ctx, tx, items)
			return err
		}); err != nil {
			return total, err
		}
		p.committed(created)
		total += len(ids)
		after = ids[len(ids)-1]
	}
}

func (p *Processor) pendingIntake(ctx context.Context, after, last uint64) ([]uint64, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT id FROM dxt_intake WHERE processed_at IS NULL AND id > ? AND id <= ? ORDER BY id LIMIT ?`, after, last, p.opts.IntakeBatch)
	if err != nil {
		return nil, fmt.Errorf("find unprocessed intake rows: %w", err)
	}
	defer rows.Close()
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find unprocessed intake rows: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (p *Processor) committed(created []Created) {
	for _, c := range created {
		if !c.Merged {
			p.Counters.addEvent(c.Type)
		}
	}
	if p.opts.OnCommit != nil && len(created) > 0 {
		p.opts.OnCommit(created)
	}
}

// workItem is one unit of work inside a batch, kept in binlog order.
type workItem struct {
	intakeID uint64
	settings tracker.Settings
	gen      int // settings generation in the batch: runs of intake rows never span two
	sched    *scheduleChange
}

func (p *Processor) applyItems(ctx context.Context, tx *sql.Tx, items []workItem) ([]Created, error) {
	created, err := p.applyWork(ctx, tx, items)
	if err != nil || len(created) == 0 || p.opts.BeforeCommit == nil {
		return created, err
	}
	if err := p.opts.BeforeCommit(ctx, tx, created); err != nil {
		return nil, fmt.Errorf("after creating %d events: %w", len(created), err)
	}
	return created, nil
}

func (p *Processor) applyWork(ctx context.Context, tx *sql.Tx, items []workItem) ([]Created, error) {
	var created []Created
	// Runs of intake rows are handled together (few round trips); schedule
	// changes keep their place in the order, which the merge relies on.
	for i := 0; i < len(items); {
		if items[i].sched != nil {
			c, err := p.applySchedule(ctx, tx, *items[i].sched, items[i].settings)
			if err != nil {
				return nil, err
			}
			created = append(created, withSettings(c, items[i].settings)...)
			i++
			continue
		}
		j := i
		for j < len(items) && items[j].sched == nil && items[j].gen == items[i].gen && j-i < p.opts.IntakeBatch {
			j++
		}
		c, err := p.applyIntake(ctx, tx, items[i:j])
		if err != nil {
			return nil, err
		}
		created = append(created, withSettings(c, items[i].settings)...)
		i = j
	}
	return created, nil
}

// withSettings tags events with the settings they were made under.
func withSettings(c []Created, st tracker.Settings) []Created {
	for k := range c {
		c[k].Settings = &st
	}
	return c
}

// inTx runs fn in a READ COMMITTED transaction: the processor locks exactly
// the intake rows it handles, and must take no gap locks that would make a
// producer's INSERT (Vtiger's request) wait or deadlock.
func (p *Processor) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := p.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		p.rolledBack()
		return err
	}
	if err := tx.Commit(); err != nil {
		p.rolledBack()
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (p *Processor) rolledBack() {
	if p.opts.OnRollback != nil {
		p.opts.OnRollback()
	}
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
