// Package retention deletes what the tracker no longer needs to keep: events
// older than retention_days (with their captured content, outbox rows and
// the processed intake rows), and, when content_max_mb is set, the oldest
// captured content beyond that size. It runs on the cron schedule of
// dxt_config (retention_schedule, retention_timezone) in the elected leader
// only, and writes one dxt_purge audit row per purge.
//
// Every purge works in small batches: a keyset read picks the next rows
// (no locks), then one short READ COMMITTED transaction deletes exactly
// those rows by primary key and adds them to the audit row; a pause between
// batches leaves the server to the live ingest. No statement ever deletes a
// range of the whole table.
package retention

import (
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Purge kinds (dxt_purge.kind).
const (
	KindAge        = "age"
	KindContentCap = "content_cap"
)

// Purge states (dxt_purge.status).
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// ErrBusy means another purge of the same database is running (in this
// process or in another daemon).
var ErrBusy = errors.New("retention: another purge of this database is running")

// Options configure a Purger. The zero value works.
type Options struct {
	// Now is the clock the cutoff is computed from (time.Now).
	Now func() time.Time
	// BatchPause is the pause between two batches, which leaves the server
	// to the live ingest (20ms).
	BatchPause time.Duration
	// MaxBatchBytes bounds the stored (compressed) content bytes one batch
	// deletes, whatever the number of rows (64 MiB); a batch always takes
	// at least one row.
	MaxBatchBytes int64
	// LockWaitTimeout is the purge session's innodb_lock_wait_timeout: a
	// batch that waits that long for a row the ingest holds is rolled back
	// and retried (5s).
	LockWaitTimeout time.Duration
	// Recheck is how often Run reads the schedule settings again (1 minute);
	// Reload makes it read them at once.
	Recheck time.Duration

	// afterBatch is a test hook, called after each committed batch
	// (phase events, intake or content) with the time its transaction took.
	afterBatch func(phase string, batch int, took time.Duration)
}

// Purger runs purges. Build it with New; it does no I/O until PurgeNow or
// Run.
type Purger struct {
	db     *sql.DB
	log    zerolog.Logger
	opts   Options
	reload chan struct{}

	running sync.Mutex // one purge at a time in this process

	mu    sync.Mutex
	stats Stats
	cron  *cron.Cron // the scheduler of Run; nil when none
}

// New builds a Purger.
func New(db *sql.DB, log zerolog.Logger, opts Options) *Purger {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BatchPause < 0 {
		opts.BatchPause = 0
	} else if opts.BatchPause == 0 {
		opts.BatchPause = 20 * time.Millisecond
	}
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = 64 << 20
	}
	if opts.LockWaitTimeout <= 0 {
		opts.LockWaitTimeout = 5 * time.Second
	}
	if opts.Recheck <= 0 {
		opts.Recheck = time.Minute
	}
	return &Purger{
		db:     db,
		log:    log.With().Str("component", "retention").Logger(),
		opts:   opts,
		reload: make(chan struct{}, 1),
	}
}

// Purge is the outcome of one purge: what its dxt_purge row says, plus
// timings.
type Purge struct {
	ID                  uint64 // dxt_purge.id
	Kind                string
	Cutoff              time.Time // age: events before it are purged
	RetentionDays       int64
	ContentCapBytes     int64
	ConfiguredBy        string // dxt_config.updated_by of the key in force
	ConfiguredAt        time.Time
	MinEventID          uint64 // of the events deleted (age) or changed (content_cap); 0 = none
	MaxEventID          uint64
	MinOccurredAt       time.Time
	MaxOccurredAt       time.Time
	EventsDeleted       int64
	EventsUpdated       int64 // content_cap: events whose content was removed
	ContentsDeleted     int64
	ContentBytesDeleted int64 // stored (compressed) bytes
	IntakeRowsDeleted   int64
	OutboxRowsDeleted   int64
	Batches             int
	Status              string
	Error               string

	Took time.Duration
	// MaxBatch is the longest batch transaction, BEGIN to COMMIT: the
	// longest time any row lock of this purge was held.
	MaxBatch time.Duration
}

// Report is what PurgeNow did: always an age purge, and a content cap
// purge when content_max_mb is set.
type Report struct {
	Age        Purge
	ContentCap *Purge
}

// MaxBatch is the longest batch transaction of the report.
func (r Report) MaxBatch() time.Duration {
	m := r.Age.MaxBatch
	if r.ContentCap != nil {
		m = max(m, r.ContentCap.MaxBatch)
	}
	return m
}

// Stats are the Purger's counters since it was built, for metrics.
type Stats struct {
	Purges              uint64 // purges finished (age and content_cap each count)
	Failures            uint64 // purges that ended in an error (or were cancelled)
	Skipped             uint64 // scheduled runs skipped because a purge was running
	Batches             uint64
	EventsDeleted       uint64
	EventsUpdated       uint64
	ContentsDeleted     uint64
	ContentBytesDeleted uint64
	IntakeRowsDeleted   uint64
	OutboxRowsDeleted   uint64
	Running             bool
	LastFinished        time.Time     // zero: none yet
	LastStatus          string        // done or failed
	LastMaxBatch        time.Duration // longest batch transaction of the last purge
	NextRun             time.Time     // next scheduled run; zero: no usable schedule
}

// Stats returns a snapshot of the counters.
func (p *Purger) Stats() Stats {
	p.mu.Lock()
	st, c := p.stats, p.cron
	p.mu.Unlock()
	st.NextRun = nextRun(c)
	return st
}

func (p *Purger) count(pg *Purge) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.stats
	s.Purges++
	if pg.Status != StatusDone {
		s.Failures++
	}
	s.Batches += uint64(pg.Batches)
	s.EventsDeleted += uint64(pg.EventsDeleted)
	s.EventsUpdated += uint64(pg.EventsUpdated)
	s.ContentsDeleted += uint64(pg.ContentsDeleted)
	s.ContentBytesDeleted += uint64(pg.ContentBytesDeleted)
	s.IntakeRowsDeleted += uint64(pg.IntakeRowsDeleted)
	s.OutboxRowsDeleted += uint64(pg.OutboxRowsDeleted)
	s.LastFinished = p.opts.Now()
	s.LastStatus = pg.Status
	s.LastMaxBatch = pg.MaxBatch
}

func (p *Purger) setRunning(b bool) {
	p.mu.Lock()
	p.stats.Running = b
	p.mu.Unlock()
}
