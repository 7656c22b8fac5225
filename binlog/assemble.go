package binlog

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
)

// assembler turns the event stream into transactions. It lives for one
// stream session, which always starts at a transaction boundary, and runs
// in the session's reader goroutine.
type assembler struct {
	f    *Follower
	cur  Position // the last boundary read; its GTID is left empty, see boundary
	gtid *gtidTracker

	inTxn    bool // between BEGIN (or a MariaDB GTID event) and its commit
	changes  []RowChange
	nonQuiet bool // the open transaction touched a table outside QuietTables

	// pending: cur moved past the last item handed over (commits without
	// watched changes); pendingProgress: by work on non-quiet tables.
	pending, pendingProgress bool

	ready []item // items completed by the last handled event

	// For the reader to publish once per batch of events.
	lastTS     uint32 // header time of the last event that counts as news
	caughtUp   bool   // the last such event was a heartbeat
	heartbeat  bool   // a heartbeat arrived since the reader last looked
	progressed bool   // the session did useful work
}

func newAssembler(f *Follower, from Position) (*assembler, error) {
	g, err := newGTIDTracker(f.flavor, from.GTID)
	cur := from
	cur.GTID = ""
	return &assembler{f: f, cur: cur, gtid: g}, err
}

// boundary is cur with the GTID state there. The GTID text is built only
// for positions handed to the applier, never for every commit.
func (a *assembler) boundary() Position {
	p := a.cur
	p.GTID = a.gtid.String()
	return p
}

// takePending returns an item moving End to cur, if cur moved past the
// last item handed over.
func (a *assembler) takePending() (item, bool) {
	if !a.pending {
		return item{}, false
	}
	it := item{end: a.boundary(), progress: a.pendingProgress}
	a.pending, a.pendingProgress = false, false
	return it, true
}

// push queues it for the reader, folding in the pending position (it.end
// is at or past it).
func (a *assembler) push(it item) {
	it.progress = it.progress || a.pendingProgress
	a.pending, a.pendingProgress = false, false
	a.ready = append(a.ready, it)
}

func (a *assembler) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	synthetic := h.Timestamp == 0 || h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0
	switch e := ev.Event.(type) {
	case *replication.HeartbeatEvent:
		a.caughtUp, a.heartbeat, a.progressed = true, true, true
		return nil
	case *replication.RotateEvent:
		// Replayed at every (re)connect with old timestamps: not news.
		a.rotate(e, synthetic)
		return nil
	case *replication.FormatDescriptionEvent:
		return nil // as a rotate event
	}
	if !synthetic {
		a.lastTS, a.caughtUp = h.Timestamp, false
	}

	switch e := ev.Event.(type) {
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
		a.commit(ev)
	case *replication.RowsEvent:
		a.rows(ctx, e)
	case *replication.TransactionPayloadEvent: // MySQL binlog compression
		for _, inner := range e.Events {
			if err := a.handle(ctx, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

// rotate follows a RotateEvent. A synthetic one, sent when a dump starts,
// names the file being read and changes nothing; one naming another file
// is sent when the server moves on from a binlog that has no real rotate
// event (after a crash or restart) and counts like a real one.
func (a *assembler) rotate(e *replication.RotateEvent, synthetic bool) {
	name := string(e.NextLogName)
	if name == "" || (synthetic && name == a.cur.File) {
		return
	}
	if a.inTxn || len(a.changes) > 0 {
		a.f.log.Warn().Str("file", a.cur.File).Str("next", name).Int("changes", len(a.changes)).
			Msg("binlog: rotation inside an open transaction; dropping its partial changes")
	}
	a.reset()
	a.cur = Position{File: name, Pos: uint32(e.Position)}
	if a.cur.Pos < 4 {
		a.cur.Pos = 4
	}
	a.progressed = true
	a.push(item{end: a.boundary(), progress: true, flush: true})
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

func (a *assembler) query(ctx context.Context, ev *replication.BinlogEvent, e *replication.QueryEvent) error {
	q := bytes.TrimSpace(e.Query)
	switch {
	case bytes.EqualFold(q, []byte("BEGIN")), bytes.EqualFold(q, []byte("START TRANSACTION")):
		a.inTxn = true
		return nil
	case bytes.EqualFold(q, []byte("COMMIT")), bytes.EqualFold(q, []byte("ROLLBACK")):
		// ROLLBACK closes a transaction whose non-transactional changes
		// were logged anyway.
		a.commit(ev)
		return nil
	}
	if text := string(q); ddlMentions(text, a.f.ddlName) {
		if err := a.f.reloadColumns(ctx); err != nil {
			return fmt.Errorf("binlog: reload column names after DDL at %s: %w", a.cur, err)
		}
		a.f.log.Info().Str("query", truncate(text, 200)).Msg("binlog: DDL on a watched table; column names reloaded")
	}
	a.nonQuiet = true
	if !a.inTxn { // a statement outside BEGIN ... COMMIT is a transaction of its own (DDL)
		a.commit(ev)
	}
	return nil
}

// commit closes the open transaction. One with watched changes becomes an
// item; any other only moves the pending position.
func (a *assembler) commit(ev *replication.BinlogEvent) {
	a.gtid.commit()
	if ev.Header.LogPos > 0 { // 0 only on odd servers: keep the previous boundary (re-read, never skipped)
		a.cur.Pos = ev.Header.LogPos
	}
	a.progressed = true
	if len(a.changes) == 0 {
		a.pending = true
		a.pendingProgress = a.pendingProgress || a.nonQuiet
		a.reset()
		return
	}
	end := a.boundary()
	a.push(item{
		txn:      &Txn{Changes: a.changes, End: end, Timestamp: time.Unix(int64(ev.Header.Timestamp), 0).UTC()},
		end:      end,
		progress: true,
	})
	a.reset()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
