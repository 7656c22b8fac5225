package binlog

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

type gomysqlError = mysql.MyError

// eventCacheCount bounds the events go-mysql buffers between its network
// reader and GetEvent. Its default, 10240, could hold gigabytes of large
// unwatched rows.
const eventCacheCount = 256

// item is what the reader hands the applier: a committed transaction with
// watched changes, or only a new resume point.
type item struct {
	txn      *Txn
	end      Position
	progress bool // moved by work on non-quiet tables, DDL or a rotation
	flush    bool // deliver without waiting (rotation)
}

type readResult struct {
	progressed bool
	err        error
}

func (f *Follower) syncerConfig() replication.BinlogSyncerConfig {
	host, port := splitAddr(f.cfg.Addr)
	return replication.BinlogSyncerConfig{
		ServerID:                f.cfg.ServerID,
		Flavor:                  f.flavor,
		Host:                    host,
		Port:                    port,
		User:                    f.cfg.User,
		Password:                f.cfg.Password,
		Localhost:               "dxtracker",
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         f.cfg.HeartbeatPeriod,
		ReadTimeout:             f.cfg.ReadTimeout,
		// Reconnects are ours: from the Handler's accepted position, with
		// backoff tied to ctx.
		DisableRetrySync:     true,
		MaxReconnectAttempts: 1,
		VerifyChecksum:       true,
		DiscardGTIDSet:       true, // tracked here, see gtidTracker
		EventCacheCount:      eventCacheCount,
		Logger:               f.slog,
		RowsEventDecodeFunc:  f.decodeRows,
	}
}

func splitAddr(addr string) (string, uint16) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 3306
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return host, 3306
	}
	return host, uint16(port)
}

// decodeRows is go-mysql's RowsEventDecodeFunc. It runs in go-mysql's
// network goroutine, before the event reaches the reader: it decodes the
// rows event header, which resolves the table id to the TableMapEvent that
// preceded it in the same transaction (go-mysql's parser keeps that map per
// stream), and decodes the row images only for watched tables. Other rows
// events reach the reader with Table set and Rows nil.
func (f *Follower) decodeRows(re *replication.RowsEvent, data []byte) error {
	pos, err := re.DecodeHeader(data)
	if err != nil {
		return err
	}
	if re.Table == nil || !f.isWatched(string(re.Table.Schema), string(re.Table.Table)) {
		return nil
	}
	if err := re.DecodeData(pos, data); err != nil {
		return err
	}
	n := len(re.Rows)
	if re.ColumnBitmap2 != nil { // UPDATE: before and after image per row
		n /= 2
	}
	f.rowsDecoded.Add(uint64(n))
	return nil
}

// read runs one replication connection from from until ctx ends or the
// stream breaks, sending assembled items to out.
func (f *Follower) read(ctx context.Context, from Position, out chan<- item) (res readResult) {
	syncer := replication.NewBinlogSyncer(f.syncerConfig())
	defer syncer.Close() // also KILLs the dump connection on the server
	stream, err := syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	if err != nil {
		return readResult{err: fmt.Errorf("binlog: open stream at %s: %w", from, classify(err))}
	}
	f.connID.Store(syncer.LastConnectionID())
	defer f.connected.Store(false)
	defer f.caughtUp.Store(false)

	a, err := newAssembler(f, from)
	if err != nil {
		f.log.Warn().Err(err).Str("gtid", from.GTID).Msg("binlog: start GTID unreadable; GTID text fills in from the stream")
	}
	for {
		ev, err := stream.GetEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return readResult{progressed: res.progressed, err: ctx.Err()}
			}
			return readResult{progressed: res.progressed, err: fmt.Errorf("binlog: stream after %s: %w", a.cur, classify(err))}
		}
		f.connected.Store(true)
		f.events.Add(1)
		f.bytes.Add(uint64(len(ev.RawData)))
		items, err := a.handle(ctx, ev)
		if err != nil {
			return readResult{progressed: res.progressed, err: err}
		}
		if _, ok := ev.Event.(*replication.HeartbeatEvent); ok {
			res.progressed = true
		}
		for _, it := range items {
			select {
			case out <- it:
				res.progressed = true
			case <-ctx.Done():
				return readResult{progressed: res.progressed, err: ctx.Err()}
			}
		}
	}
}

// assembler turns the event stream into transactions. It lives for one
// stream session, which always starts at a transaction boundary.
type assembler struct {
	f    *Follower
	cur  Position // the last boundary read
	gtid *gtidTracker

	inTxn    bool // between BEGIN (or a MariaDB GTID event) and its commit
	changes  []RowChange
	nonQuiet bool // the open transaction touched a table outside QuietTables
}

func newAssembler(f *Follower, from Position) (*assembler, error) {
	g, err := newGTIDTracker(f.flavor, from.GTID)
	return &assembler{f: f, cur: from, gtid: g}, err
}

func (a *assembler) handle(ctx context.Context, ev *replication.BinlogEvent) ([]item, error) {
	h := ev.Header
	synthetic := h.Timestamp == 0 || h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0
	switch ev.Event.(type) {
	case *replication.HeartbeatEvent:
		a.f.caughtUp.Store(true)
		return nil, nil
	case *replication.FormatDescriptionEvent, *replication.RotateEvent:
		// Replayed at every (re)connect with old timestamps: not news.
	default:
		if !synthetic {
			a.f.lastEventUnix.Store(int64(h.Timestamp))
			a.f.caughtUp.Store(false)
		}
	}

	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		return a.rotate(e, synthetic), nil
	case *replication.MariadbGTIDListEvent:
		if !synthetic {
			a.gtid.mergeMariaDBList(e.GTIDs)
		}
	case *replication.PreviousGTIDsEvent:
		a.gtid.mergeMySQL(e.GTIDSets)
	case *replication.MariadbGTIDEvent:
		a.begin(e)
		a.inTxn = !e.IsStandalone() // a standalone event (DDL) has no COMMIT
	case *replication.GTIDEvent, *replication.GtidTaggedLogEvent:
		a.begin(e) // MySQL: BEGIN follows, or a DDL statement alone
	case *replication.QueryEvent:
		return a.query(ctx, ev, e)
	case *replication.XIDEvent:
		return a.commit(ev), nil
	case *replication.RowsEvent:
		return nil, a.rows(ctx, e)
	case *replication.TransactionPayloadEvent: // MySQL binlog compression
		var items []item
		for _, inner := range e.Events {
			it, err := a.handle(ctx, inner)
			if err != nil {
				return nil, err
			}
			items = append(items, it...)
		}
		return items, nil
	}
	return nil, nil
}

// rotate follows a RotateEvent. A synthetic one, sent when a dump starts,
// names the file being read and changes nothing; one naming another file
// is sent when the server moves on from a binlog that has no real rotate
// event (after a crash or restart) and counts like a real one.
func (a *assembler) rotate(e *replication.RotateEvent, synthetic bool) []item {
	name := string(e.NextLogName)
	if name == "" || (synthetic && name == a.cur.File) {
		return nil
	}
	if a.inTxn || len(a.changes) > 0 {
		a.f.log.Warn().Str("file", a.cur.File).Str("next", name).Int("changes", len(a.changes)).
			Msg("binlog: rotation inside an open transaction; dropping its partial changes")
	}
	a.reset()
	a.cur = Position{File: name, Pos: uint32(e.Position), GTID: a.gtid.String()}
	if a.cur.Pos < 4 {
		a.cur.Pos = 4
	}
	return []item{{end: a.cur, progress: true, flush: true}}
}

func (a *assembler) begin(ev replication.Event) {
	if a.inTxn || len(a.changes) > 0 {
		a.f.log.Warn().Str("after", a.cur.String()).Int("changes", len(a.changes)).
			Msg("binlog: transaction without commit event; dropping its partial changes")
	}
	a.reset()
	a.gtid.begin(ev)
}

func (a *assembler) reset() {
	a.inTxn, a.changes, a.nonQuiet = false, nil, false
}

func (a *assembler) query(ctx context.Context, ev *replication.BinlogEvent, e *replication.QueryEvent) ([]item, error) {
	q := strings.TrimSpace(string(e.Query))
	switch strings.ToUpper(q) {
	case "BEGIN", "START TRANSACTION":
		a.inTxn = true
		return nil, nil
	case "COMMIT", "ROLLBACK":
		// ROLLBACK closes a transaction whose non-transactional changes
		// were logged anyway.
		return a.commit(ev), nil
	}
	if ddlMentions(q, a.f.ddlName) {
		if err := a.f.reloadColumns(ctx); err != nil {
			return nil, fmt.Errorf("binlog: reload column names after DDL at %s: %w", a.cur, err)
		}
		a.f.log.Info().Str("query", truncate(q, 200)).Msg("binlog: DDL on a watched table; column names reloaded")
	}
	a.nonQuiet = true
	if !a.inTxn { // a statement outside BEGIN ... COMMIT is a transaction of its own (DDL)
		return a.commit(ev), nil
	}
	return nil, nil
}

func (a *assembler) commit(ev *replication.BinlogEvent) []item {
	a.gtid.commit()
	end := a.cur
	if ev.Header.LogPos > 0 { // 0 only on odd servers: keep the previous boundary (re-read, never skipped)
		end.Pos = ev.Header.LogPos
	}
	end.GTID = a.gtid.String()
	a.cur = end
	it := item{end: end, progress: a.nonQuiet || len(a.changes) > 0}
	if len(a.changes) > 0 {
		it.txn = &Txn{Changes: a.changes, End: end, Timestamp: time.Unix(int64(ev.Header.Timestamp), 0).UTC()}
	}
	a.reset()
	return []item{it}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
