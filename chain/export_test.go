package chain

import (
	"context"
	"database/sql"
	"time"
)

// ForgeInsertForTest appends a correctly hashed link for event id at the
// end of the chain, as an attacker who knows the algorithm can.
func ForgeInsertForTest(ctx context.Context, tx *sql.Tx, id uint64) error {
	_, err := record(ctx, tx, []uint64{id}, modeIngest, time.Now())
	return err
}

// RewriteForTest renumbers and rehashes the whole chain after the
// retention anchor, as an attacker with database rights who knows the
// algorithm can: every link, event pointer and the head become consistent.
func RewriteForTest(ctx context.Context, tx *sql.Tx) error {
	anchor, err := CurrentAnchor(ctx, tx)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT event_id, version, op, DATE_FORMAT(at, `+dateFormat+`), fields FROM dxt_chain WHERE seq > ? ORDER BY seq`, anchor.Seq)
	if err != nil {
		return err
	}
	var ls []link
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.eventID, &l.version, &l.op, &l.at, &l.fields); err != nil {
			rows.Close()
			return err
		}
		ls = append(ls, l)
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_chain WHERE seq > ?`, anchor.Seq); err != nil {
		return err
	}
	a := &appender{head: Head{Seq: anchor.Seq, Hash: anchor.Hash}}
	for _, l := range ls {
		a.at = l.at
		a.add(l.eventID, l.version, l.op, l.fields)
	}
	return a.flush(ctx, tx, true)
}

// SeparateHeadLockForTest makes the writers lock the head in a statement of
// its own, as they do on a server that refuses a locking read in a UNION
// member, until restore is called.
func SeparateHeadLockForTest() (restore func()) {
	was := unionLockUnsupported.Swap(true)
	return func() { unionLockUnsupported.Store(was) }
}

// ReadForAppendForTest runs the writers' first statement: it locks the head
// and reads the events ids with their newest links.
func ReadForAppendForTest(ctx context.Context, tx *sql.Tx, ids ...uint64) (Head, int, error) {
	head, evs, err := lockAndRead(ctx, tx, ids)
	return head, len(evs), err
}
