package binlog

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Backoff bounds for reconnects and for retrying the Handler.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
	// shutdownFlushTimeout bounds the last ApplyBatch after ctx is cancelled.
	shutdownFlushTimeout = 15 * time.Second
)

// Follower follows the server's binlog as a replica and hands committed
// transactions on watched tables to a Handler, in batches. See Run.
type Follower struct {
	cfg     Config
	db      *sql.DB
	log     zerolog.Logger
	slog    *slog.Logger
	h       Handler
	tables  map[string]tableInfo       // watched and quiet tables of cfg.Schema
	ddlName map[string]bool            // watched names, lower case, for DDL detection
	keep    map[string]map[string]bool // table -> columns kept (Config.Columns)
	now     func() time.Time
	// batchWait is how long the applier holds a batch for more while the
	// stream is behind: maxBatchWait (tests change it).
	batchWait time.Duration

	running atomic.Bool

	// Owned by Run and, one session at a time, its reader goroutine.
	flavor   string
	columns  map[string][]column // watched table -> columns in ordinal order
	reloaded map[string]int      // table -> column count a reload already failed to match

	events, bytes, rowsDecoded atomic.Uint64
	reconnects                 atomic.Int64
	lastEventUnix              atomic.Int64
	caughtUp                   atomic.Bool
	connected                  atomic.Bool
	connID                     atomic.Uint32 // server thread id of the replication connection

	mu       sync.Mutex
	position Position // accepted by the Handler
	readPos  Position // last boundary the reader got to
}

// New returns a Follower. It does no I/O; Run does. db is used for the
// start-up checks, positions and column names (information_schema); the
// stream itself uses cfg.Addr, cfg.User and cfg.Password.
func New(cfg Config, db *sql.DB, log zerolog.Logger, h Handler) *Follower {
	cfg = cfg.withDefaults()
	log = log.With().Str("component", "binlog").Logger()
	f := &Follower{
		cfg: cfg, db: db, log: log, slog: newSlogLogger(log), h: h,
		tables: map[string]tableInfo{}, ddlName: map[string]bool{},
		now: time.Now, batchWait: maxBatchWait, columns: map[string][]column{}, reloaded: map[string]int{},
	}
	for _, t := range cfg.QuietTables {
		f.tables[t] = tableInfo{name: t, class: tableQuiet}
	}
	for _, t := range cfg.Tables {
		f.tables[t] = tableInfo{name: t, class: tableWatched}
		f.ddlName[strings.ToLower(t)] = true
	}
	for t, cols := range cfg.Columns {
		if f.keep == nil {
			f.keep = map[string]map[string]bool{}
		}
		f.keep[t] = map[string]bool{}
		for _, c := range cols {
			f.keep[t][c] = true
		}
	}
	return f
}

// Status is safe to call from any goroutine.
func (f *Follower) Status() Status {
	f.mu.Lock()
	pos, read := f.position, f.readPos
	f.mu.Unlock()
	s := Status{
		Connected:    f.connected.Load(),
		Position:     pos,
		ReadPosition: read,
		Reconnects:   f.reconnects.Load(),
		EventsRead:   f.events.Load(),
		BytesRead:    f.bytes.Load(),
		RowsDecoded:  f.rowsDecoded.Load(),
	}
	if ts := f.lastEventUnix.Load(); ts != 0 {
		s.LastEventTime = time.Unix(ts, 0).UTC()
		if !f.caughtUp.Load() {
			s.LagSeconds = max(0, f.now().Sub(s.LastEventTime).Seconds())
		}
	}
	return s
}

func (f *Follower) setPosition(p Position) {
	f.mu.Lock()
	f.position = p
	f.mu.Unlock()
}

func (f *Follower) accepted() Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.position
}

// Run follows the binlog from start until ctx ends, then delivers what it
// had fully read and returns nil. A zero start means the server's current
// position; the Handler then gets a change-less batch with that position
// at once, so that a checkpoint exists.
//
// If start's file is gone from the server (purged), Run logs an error,
// calls Handler.Resync(start, current) and follows from current; the same
// happens when the server reports error 1236 for a position it no longer
// has. Broken streams are reopened with capped, jittered backoff from the
// last position the Handler accepted. Run returns an error only for
// problems a retry cannot fix (errors.Is(err, ErrSetup)): bad credentials
// or privileges, binary log off, binlog_format or binlog_row_image wrong,
// or an invalid Config.
func (f *Follower) Run(ctx context.Context, start Position) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("binlog: Run called while already running")
	}
	defer f.running.Store(false)
	if err := f.cfg.validate(); err != nil {
		return err
	}
	bo := newBackoff(minBackoff, maxBackoff)
	var (
		resume       Position
		initialFlush bool
	)
	for {
		var err error
		resume, initialFlush, err = f.prepare(ctx, start)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrSetup) {
			return err
		}
		d := bo.next()
		f.log.Warn().Err(err).Dur("retry_in", d).Msg("binlog: start-up failed, retrying")
		if !sleep(ctx, d) {
			return nil
		}
	}
	f.setPosition(resume)
	f.log.Info().Str("flavor", f.flavor).Str("from", resume.String()).Str("schema", f.cfg.Schema).
		Strs("tables", f.cfg.Tables).Msg("binlog: following")

	bo.reset()
	for {
		progressed, err := f.session(ctx, resume, initialFlush)
		initialFlush = false
		resume = f.accepted()
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			bo.reset()
		}
		if errors.Is(err, ErrSetup) {
			return err
		}
		if serverErrno(err) == erSourceFatalReading {
			gone, oldest, lerr := f.positionGone(ctx, resume)
			if lerr == nil && gone {
				resume, err = f.resync(ctx, resume, oldest)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				continue
			}
		}
		f.reconnects.Add(1)
		d := bo.next()
		f.log.Warn().Err(err).Str("resume", resume.String()).Dur("retry_in", d).
			Msg("binlog: stream broke, reconnecting")
		if !sleep(ctx, d) {
			return nil
		}
	}
}

// prepare checks the server, loads column names and settles where to
// start. initialFlush asks for the start position to be delivered at once.
func (f *Follower) prepare(ctx context.Context, start Position) (resume Position, initialFlush bool, err error) {
	info, err := checkServer(ctx, f.db, f.cfg)
	if err != nil {
		return Position{}, false, err
	}
	f.flavor = info.flavor
	if err := f.reloadColumns(ctx); err != nil {
		return Position{}, false, err
	}
	for _, t := range f.cfg.Tables {
		if _, ok := f.columns[t]; !ok {
			f.log.Warn().Str("schema", f.cfg.Schema).Str("table", t).
				Msg("binlog: watched table does not exist (yet); its column names load when it appears")
		}
	}
	if start.IsZero() {
		cur, err := CurrentPosition(ctx, f.db)
		return cur, true, err
	}
	gone, oldest, err := f.positionGone(ctx, start)
	if err != nil {
		return Position{}, false, err
	}
	if gone {
		cur, err := f.resync(ctx, start, oldest)
		return cur, false, err
	}
	return start, false, nil
}

func (f *Follower) reloadColumns(ctx context.Context) error {
	cols, err := loadColumns(ctx, f.db, f.cfg.Schema, f.cfg.Tables)
	if err != nil {
		return err
	}
	f.columns = cols
	clear(f.reloaded)
	return nil
}

// positionGone reports whether the server no longer has the events at p:
// its file was purged, or the file is shorter than p.Pos. oldest is the
// oldest binlog file the server has.
func (f *Follower) positionGone(ctx context.Context, p Position) (gone bool, oldest string, err error) {
	logs, err := binaryLogs(ctx, f.db)
	if err != nil {
		return false, "", err
	}
	if len(logs) > 0 {
		oldest = logs[0].name
	}
	for _, l := range logs {
		if l.name == p.File {
			return l.size != 0 && uint64(p.Pos) > l.size, oldest, nil
		}
	}
	return true, oldest, nil
}

// resync hands the gap [from, current) to the Handler, retrying until it
// succeeds, and returns current, where streaming goes on.
func (f *Follower) resync(ctx context.Context, from Position, oldest string) (Position, error) {
	bo := newBackoff(minBackoff, maxBackoff)
	var to Position
	for {
		var err error
		if to, err = CurrentPosition(ctx, f.db); err == nil {
			break
		}
		if errors.Is(err, ErrSetup) {
			return Position{}, err
		}
		if ctx.Err() != nil {
			return Position{}, ctx.Err()
		}
		d := bo.next()
		f.log.Warn().Err(err).Dur("retry_in", d).Msg("binlog: cannot read the current position for resync, retrying")
		if !sleep(ctx, d) {
			return Position{}, ctx.Err()
		}
	}
	f.log.Error().Str("checkpoint_file", from.File).Str("checkpoint", from.String()).
		Str("oldest_available", oldest).Str("resync_to", to.String()).
		Msg("binlog: the checkpoint's binlog file is no longer on the server (purged); " +
			"events between the checkpoint and the oldest available binlog were not seen; " +
			"reconciliation from the tables runs now")
	bo.reset()
	for {
		err := f.h.Resync(ctx, from, to)
		if err == nil {
			f.setPosition(to)
			f.log.Info().Str("from", to.String()).Msg("binlog: resync done")
			return to, nil
		}
		if ctx.Err() != nil {
			return Position{}, ctx.Err()
		}
		d := bo.next()
		f.log.Warn().Err(err).Dur("retry_in", d).Msg("binlog: handler resync failed, retrying")
		if !sleep(ctx, d) {
			return Position{}, ctx.Err()
		}
	}
}

// session runs one replication connection: a reader goroutine assembles
// transactions into a bounded channel, and this goroutine applies them in
// batches until the reader stops (error or ctx) and everything it queued
// is applied. progressed tells whether the stream did useful work.
func (f *Follower) session(ctx context.Context, from Position, initialFlush bool) (progressed bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan item, f.cfg.MaxBatchTxns)
	res := make(chan readResult, 1)
	budget := newByteBudget(f.cfg.MaxPendingBytes)
	go func() {
		defer close(ch)
		res <- f.read(sctx, from, ch, budget)
	}()
	f.apply(ctx, ch, from, initialFlush)
	r := <-res
	return r.progressed, r.err
}

// tableClass is what a table of the stream is to the Follower.
type tableClass int

const (
	tableOther   tableClass = iota
	tableWatched            // in Config.Tables: rows decoded and delivered
	tableQuiet              // in Config.QuietTables: changes are not progress
)

type tableInfo struct {
	name  string
	class tableClass
}

// tableKind classifies a table as the binlog names it. name is the
// configured name (no allocation) for watched and quiet tables.
func (f *Follower) tableKind(schema, table []byte) (name string, class tableClass) {
	if string(schema) != f.cfg.Schema {
		return "", tableOther
	}
	t := f.tables[string(table)]
	return t.name, t.class
}
