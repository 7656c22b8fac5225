package chain

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/tracker"
)

// Head is the chain's newest link as dxt_chain_head records it.
type Head struct {
	Seq       uint64
	Hash      string
	AdoptUpto uint64 // events with an id up to this existed before the chain
}

// ErrNoChain means the schema has no chain (dxtracker migrate not run).
var ErrNoChain = errors.New("chain: dxt_chain_head has no row; run `dxtracker migrate`")

// LockHead reads the head and locks it until tx ends: every transaction
// that appends links takes this lock first, which makes the writers (the
// processor, retention) append one after the other.
func LockHead(ctx context.Context, tx *sql.Tx) (Head, error) {
	return readHead(ctx, tx, ` FOR UPDATE`)
}

func readHead(ctx context.Context, q tracker.Querier, suffix string) (Head, error) {
	var h Head
	err := q.QueryRowContext(ctx, `SELECT seq, hash, adopt_upto FROM dxt_chain_head WHERE id = 1`+suffix).Scan(&h.Seq, &h.Hash, &h.AdoptUpto)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNoChain
	}
	if err != nil {
		return h, fmt.Errorf("chain: read head: %w", err)
	}
	return h, nil
}

// ReadHead reads the head without locking it.
func ReadHead(ctx context.Context, q tracker.Querier) (Head, error) { return readHead(ctx, q, "") }

// link is one dxt_chain row.
type link struct {
	seq, eventID uint64
	version      uint32
	op, at       string
	fields       string
	prevHash     string
	hash         string
}

// latest is an event's newest link.
type latest struct {
	seq     uint64
	version uint32
	op      string
	fields  string
}

// mode says which events Record may link for the first time.
type mode int

const (
	// modeIngest: the processor's events; an event without a link gets
	// one (insert, or adopt for an event older than the chain).
	modeIngest mode = iota
	// modeChange: events changed by someone else (the content cap); only
	// events already in the chain get a link.
	modeChange
	// modeAdopt: events older than the chain, linked once.
	modeAdopt
)

// appender collects the links of one transaction after LockHead.
type appender struct {
	head  Head
	at    string
	links []link
}

func newAppender(head Head, now time.Time) *appender {
	return &appender{head: head, at: now.UTC().Truncate(time.Microsecond).Format(goDateFormat)}
}

func (a *appender) add(eventID uint64, version uint32, op, fields string) {
	prev := a.head.Hash
	seq := a.head.Seq + 1
	l := link{seq: seq, eventID: eventID, version: version, op: op, at: a.at, fields: fields, prevHash: prev}
	l.hash = LinkHash(prev, seq, eventID, version, op, a.at, fields)
	a.links = append(a.links, l)
	a.head.Seq, a.head.Hash = seq, l.hash
}

// flush writes the links, points the linked events at their link and moves
// the head: with pointEvents, two statements whatever the number of links
// (up to perStmt).
func (a *appender) flush(ctx context.Context, tx *sql.Tx, pointEvents bool) error {
	if len(a.links) == 0 {
		return nil
	}
	for rest := a.links; len(rest) > 0; {
		n := min(perStmt, len(rest))
		if err := insertLinks(ctx, tx, rest[:n]); err != nil {
			return fmt.Errorf("chain: append %d links: %w", n, err)
		}
		rest = rest[n:]
	}
	first, last := a.links[0].seq, a.head.Seq
	switch {
	case !pointEvents:
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_chain_head SET seq = ?, hash = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = 1`,
			a.head.Seq, a.head.Hash); err != nil {
			return fmt.Errorf("chain: move head to %d: %w", a.head.Seq, err)
		}
	case oneLinkPerEvent(a.links):
		// Point each event at its link and move the head in one statement.
		// The links are joined by their seq range, just inserted (a primary
		// key range in the buffer pool: cheaper than sending the values
		// again as a derived table). The head is on the outer side of the
		// joins, so it moves even when no event is left to point at.
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_chain_head h
LEFT JOIN dxt_chain c ON c.seq BETWEEN ? AND ? AND c.op <> 'purge'
LEFT JOIN dxt_event e ON e.id = c.event_id
SET h.seq = ?, h.hash = ?, h.updated_at = UTC_TIMESTAMP(6), e.chain_seq = c.seq, e.chain_hash = c.hash
WHERE h.id = 1`, first, last, a.head.Seq, a.head.Hash); err != nil {
			return fmt.Errorf("chain: point events at links %d..%d and move the head: %w", first, last, err)
		}
	default:
		// Several links of one event (a rewrite): point it at the newest,
		// given as values.
		ptrs := pointers(a.links)
		for len(ptrs) > 0 {
			n := min(perStmt, len(ptrs))
			var sb strings.Builder
			sb.WriteString(`UPDATE dxt_event e JOIN `)
			args := pointerTable(&sb, ptrs[:n])
			sb.WriteString(` ON e.id = v.id SET e.chain_seq = v.seq, e.chain_hash = v.hash`)
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("chain: point events at links %d..%d: %w", first, last, err)
			}
			ptrs = ptrs[n:]
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_chain_head SET seq = ?, hash = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = 1`,
			a.head.Seq, a.head.Hash); err != nil {
			return fmt.Errorf("chain: move head to %d: %w", a.head.Seq, err)
		}
	}
	return nil
}

// perStmt bounds the rows one statement writes.
const perStmt = 500

// preparedFrom is the number of links from which a multi-row INSERT is
// sent as a server-side prepared statement: the values then travel in the
// binary protocol and the server parses a text of placeholders, not tens
// of kilobytes of literals, which is worth the extra round trip.
const preparedFrom = 32

// insertLinks appends links in one multi-row INSERT.
func insertLinks(ctx context.Context, tx *sql.Tx, links []link) error {
	var sb strings.Builder
	sb.Grow(90 + 18*len(links))
	sb.WriteString(`INSERT INTO dxt_chain (seq, event_id, version, op, at, fields, prev_hash, hash) VALUES `)
	args := make([]any, 0, 8*len(links))
	for i, l := range links {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`(?,?,?,?,?,?,?,?)`)
		args = append(args, l.seq, l.eventID, l.version, l.op, l.at, l.fields, l.prevHash, l.hash)
	}
	if len(links) < preparedFrom {
		_, err := tx.ExecContext(ctx, sb.String(), args...)
		return err
	}
	stmt, err := tx.PrepareContext(ctx, sb.String())
	if err != nil {
		return err
	}
	defer stmt.Close()
	_, err = stmt.ExecContext(ctx, args...)
	return err
}

// oneLinkPerEvent reports whether no event has two links in links.
func oneLinkPerEvent(links []link) bool {
	seen := make(map[uint64]struct{}, len(links))
	for _, l := range links {
		if _, dup := seen[l.eventID]; dup {
			return false
		}
		seen[l.eventID] = struct{}{}
	}
	return true
}

// pointers returns, per event, its newest link of links that is not a
// purge, in the order of links.
func pointers(links []link) []link {
	newest := make(map[uint64]int, len(links))
	for i, l := range links {
		if l.op != OpPurge {
			newest[l.eventID] = i
		}
	}
	out := make([]link, 0, len(newest))
	for i, l := range links {
		if j, ok := newest[l.eventID]; ok && j == i {
			out = append(out, l)
		}
	}
	return out
}

// pointerTable writes a derived table v(id, seq, hash) of ptrs and returns
// its arguments.
func pointerTable(sb *strings.Builder, ptrs []link) []any {
	args := make([]any, 0, 3*len(ptrs))
	sb.WriteByte('(')
	for i, p := range ptrs {
		if i == 0 {
			sb.WriteString(`SELECT CAST(? AS UNSIGNED) AS id, CAST(? AS UNSIGNED) AS seq, ? AS hash`)
		} else {
			sb.WriteString(` UNION ALL SELECT CAST(? AS UNSIGNED), CAST(? AS UNSIGNED), ?`)
		}
		args = append(args, p.eventID, p.seq, p.hash)
	}
	sb.WriteString(`) v`)
	return args
}

// latestLinks returns the newest link of each of the events ids.
func latestLinks(ctx context.Context, q tracker.Querier, ids []any) (map[uint64]latest, error) {
	out := make(map[uint64]latest, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in := placeholders(len(ids))
	rows, err := q.QueryContext(ctx, `SELECT l.event_id, l.seq, l.version, l.op, l.fields FROM dxt_chain l
JOIN (SELECT event_id, MAX(version) AS v FROM dxt_chain WHERE event_id IN (`+in+`) GROUP BY event_id) m
  ON m.event_id = l.event_id AND m.v = l.version`, ids...)
	if err != nil {
		return nil, fmt.Errorf("chain: read latest links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var l latest
		if err := rows.Scan(&id, &l.seq, &l.version, &l.op, &l.fields); err != nil {
			return nil, fmt.Errorf("chain: read latest links: %w", err)
		}
		out[id] = l
	}
	return out, rows.Err()
}

// linkedEvent is an event as record reads it, with its newest link.
type linkedEvent struct {
	eventRow
	prev   latest
	linked bool
}

// linkedColumns and linkedFrom read the events with their content and
// their newest link: the one with the highest version, as latestLinks
// finds it (the unique key (event_id, version) answers the MAX with one
// index dive per event).
const (
	linkedColumns = eventColumns + `, l.seq, l.version, l.op, l.fields`
	linkedFrom    = eventFrom + `
LEFT JOIN dxt_chain l ON l.event_id = e.id AND l.version = (SELECT MAX(m.version) FROM dxt_chain m WHERE m.event_id = e.id)`
)

// headRow is the head as the first member of lockAndRead's UNION: the
// columns of linkedColumns (non-NULL where scanEvent needs a value; the
// row is told apart by the head columns that follow), then the head.
const headRow = `SELECT CAST(0 AS UNSIGNED), '', '', NULL, NULL, NULL, NULL, NULL, NULL, '', '', NULL, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, h.seq, h.hash, h.adopt_upto FROM dxt_chain_head h WHERE h.id = 1 FOR UPDATE`

// unionLockUnsupported is set once the server refused a locking read in a
// UNION member; lockAndRead then locks the head in a statement of its own.
var unionLockUnsupported atomic.Bool

// lockAndRead locks the head (FOR UPDATE, as LockHead) and reads the
// events ids that exist, in id order, each with its newest link: one
// statement, the head's SELECT first, then the events'.
func lockAndRead(ctx context.Context, tx *sql.Tx, ids []uint64) (Head, []linkedEvent, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	events := `SELECT ` + linkedColumns + `, NULL, NULL, NULL` + linkedFrom + ` WHERE e.id IN (` + placeholders(len(ids)) + `)`
	if unionLockUnsupported.Load() {
		head, err := LockHead(ctx, tx)
		if err != nil {
			return head, nil, err
		}
		evs, _, _, err := scanLinked(tx.QueryContext(ctx, events, args...))
		return head, evs, err
	}
	evs, head, found, err := scanLinked(tx.QueryContext(ctx, `(`+headRow+`) UNION ALL (`+events+`)`, args...))
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1064 || me.Number == 1221 || me.Number == 1235) {
		// A syntax error: nothing ran. Lock and read apart from now on.
		unionLockUnsupported.Store(true)
		return lockAndRead(ctx, tx, ids)
	}
	if err != nil {
		return head, nil, err
	}
	if !found {
		return head, nil, ErrNoChain
	}
	return head, evs, nil
}

// scanLinked scans the rows of lockAndRead's statement: the events sorted
// by id, and the head row if there is one.
func scanLinked(rows *sql.Rows, err error) (evs []linkedEvent, head Head, found bool, _ error) {
	if err != nil {
		return nil, head, false, fmt.Errorf("chain: read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, hSeq, hAdopt sql.NullInt64
		var version sql.NullInt64
		var op, fields, hHash sql.NullString
		r, err := scanEvent(rows, &seq, &version, &op, &fields, &hSeq, &hHash, &hAdopt)
		if err != nil {
			return nil, head, false, fmt.Errorf("chain: read events: %w", err)
		}
		if hSeq.Valid {
			head, found = Head{Seq: uint64(hSeq.Int64), Hash: hHash.String, AdoptUpto: uint64(hAdopt.Int64)}, true
			continue
		}
		ev := linkedEvent{eventRow: r, linked: seq.Valid}
		if seq.Valid {
			ev.prev = latest{seq: uint64(seq.Int64), version: uint32(version.Int64), op: op.String, fields: fields.String}
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, head, false, fmt.Errorf("chain: read events: %w", err)
	}
	slices.SortFunc(evs, func(a, b linkedEvent) int { return cmp.Compare(a.f.ID, b.f.ID) })
	return evs, head, found, nil
}

// record appends a link for every event of ids whose current fields differ
// from its newest link (or that has none, as m allows). Call it in the
// transaction that changed the events, after the changes.
func record(ctx context.Context, tx *sql.Tx, ids []uint64, m mode, now time.Time) (int, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] == 0 {
		ids = ids[1:]
	}
	if len(ids) == 0 {
		return 0, nil
	}
	head, evs, err := lockAndRead(ctx, tx, ids)
	if err != nil {
		return 0, err
	}
	a := newAppender(head, now)
	for i := range evs {
		r := &evs[i]
		fields, err := r.encode()
		if err != nil {
			return 0, err
		}
		l, linked := r.prev, r.linked
		switch {
		case linked && l.op != OpPurge:
			if l.fields == fields {
				continue // unchanged (a replay, or a change of notify_state only)
			}
			a.add(r.f.ID, l.version+1, OpUpdate, fields)
		case m == modeChange:
			continue // not in the chain: nothing attests it, nothing to extend
		case linked: // purged before, present again (an id reused after a server reset)
			a.add(r.f.ID, l.version+1, OpInsert, fields)
		case m == modeAdopt || r.f.ID <= head.AdoptUpto:
			a.add(r.f.ID, 1, OpAdopt, fields)
		default:
			a.add(r.f.ID, 1, OpInsert, fields)
		}
	}
	return len(a.links), a.flush(ctx, tx, true)
}

// RecordChanges appends a link for each event of ids that is in the chain
// and whose attested fields changed. Writers other than the processor call
// it in the transaction of their change (the content cap does).
func RecordChanges(ctx context.Context, tx *sql.Tx, ids []uint64) error {
	_, err := record(ctx, tx, ids, modeChange, time.Now())
	return err
}

// RecordPurge appends a purge link for each event of ids that is in the
// chain; call it in the transaction that deletes them, with the id of the
// dxt_purge row.
func RecordPurge(ctx context.Context, tx *sql.Tx, purgeID uint64, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	head, err := LockHead(ctx, tx)
	if err != nil {
		return err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	prev, err := latestLinks(ctx, tx, args)
	if err != nil {
		return err
	}
	a := newAppender(head, time.Now())
	f := purgeFields(purgeID)
	for _, id := range ids {
		if l, ok := prev[id]; ok && l.op != OpPurge {
			a.add(id, l.version+1, OpPurge, f)
		}
	}
	return a.flush(ctx, tx, false)
}

// Anchor is where the stored chain begins: the last link deleted by
// retention (Seq 0 and GenesisHash when none was).
type Anchor struct {
	Seq     uint64
	Hash    string
	PurgeID uint64
}

// CurrentAnchor reads the newest pruning anchor from dxt_purge.
func CurrentAnchor(ctx context.Context, q tracker.Querier) (Anchor, error) {
	a := Anchor{Hash: GenesisHash}
	err := q.QueryRowContext(ctx, `SELECT chain_seq, chain_hash, id FROM dxt_purge WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC, id DESC LIMIT 1`).
		Scan(&a.Seq, &a.Hash, &a.PurgeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Anchor{Hash: GenesisHash}, nil
	}
	if err != nil {
		return a, fmt.Errorf("chain: read purge anchor: %w", err)
	}
	return a, nil
}

// Prune deletes the oldest links nobody needs any more, at most max of
// them: those before the newest link of every remaining event. It records
// the last deleted link (seq and hash) in the dxt_purge row purgeID, in
// the same transaction, so the chain stays verifiable from there. It
// returns how many links it deleted.
func Prune(ctx context.Context, tx *sql.Tx, purgeID uint64, max int) (int64, error) {
	head, err := LockHead(ctx, tx)
	if err != nil {
		return 0, err
	}
	anchor, err := CurrentAnchor(ctx, tx)
	if err != nil {
		return 0, err
	}
	var minSeq sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(chain_seq) FROM dxt_event`).Scan(&minSeq); err != nil {
		return 0, fmt.Errorf("chain: find the oldest needed link: %w", err)
	}
	upto := head.Seq
	if minSeq.Valid {
		upto = uint64(minSeq.Int64) - 1
	}
	if max > 0 {
		upto = min(upto, anchor.Seq+uint64(max))
	}
	if upto <= anchor.Seq {
		return 0, nil
	}
	// Never prune the evidence of a deletion: a link that is its event's
	// newest, not a purge, and whose event is gone stays (verify reports it).
	var dangling sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(l.seq) FROM dxt_chain l LEFT JOIN dxt_event e ON e.id = l.event_id
WHERE l.seq > ? AND l.seq <= ? AND l.op <> 'purge' AND e.id IS NULL
  AND NOT EXISTS (SELECT 1 FROM dxt_chain n WHERE n.event_id = l.event_id AND n.version > l.version)`, anchor.Seq, upto).Scan(&dangling); err != nil {
		return 0, fmt.Errorf("chain: look for deleted events before pruning: %w", err)
	}
	if dangling.Valid {
		upto = uint64(dangling.Int64) - 1
		if upto <= anchor.Seq {
			return 0, nil
		}
	}
	var seq uint64
	var hash string
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM dxt_chain WHERE seq <= ? ORDER BY seq DESC LIMIT 1`, upto).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && seq <= anchor.Seq) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("chain: read link %d: %w", upto, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM dxt_chain WHERE seq <= ?`, seq)
	if err != nil {
		return 0, fmt.Errorf("chain: delete links up to %d: %w", seq, err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE dxt_purge SET chain_seq = ?, chain_hash = ? WHERE id = ?`, seq, hash, purgeID); err != nil {
		return 0, fmt.Errorf("chain: record anchor %d in purge %d: %w", seq, purgeID, err)
	}
	return n, nil
}

// Adopt links, once, the events that existed before the chain (schema
// version 5 recorded their highest id), in id order and batches of batch.
// The daemon calls it before it processes anything; it returns how many
// events it linked.
func Adopt(ctx context.Context, db *sql.DB, batch int) (int, error) {
	if batch <= 0 {
		batch = 1000
	}
	head, err := ReadHead(ctx, db)
	if err != nil {
		return 0, err
	}
	total := 0
	var after uint64
	for {
		rows, err := db.QueryContext(ctx, `SELECT id FROM dxt_event WHERE chain_seq IS NULL AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
			after, head.AdoptUpto, batch)
		if err != nil {
			return total, fmt.Errorf("chain: find events to adopt: %w", err)
		}
		var ids []uint64
		for rows.Next() {
			var id uint64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return total, fmt.Errorf("chain: find events to adopt: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("chain: find events to adopt: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
		if err != nil {
			return total, fmt.Errorf("chain: adopt: %w", err)
		}
		n, err := record(ctx, tx, ids, modeAdopt, time.Now())
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			_ = tx.Rollback()
			return total, fmt.Errorf("chain: adopt events %d..%d: %w", ids[0], ids[len(ids)-1], err)
		}
		total += n
		after = ids[len(ids)-1]
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
