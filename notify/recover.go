package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Messages left in last_error by recovery.
const (
	errInterruptedSending    = "interrupted before the receiver got the whole message; sent again"
	errInterruptedDelivering = "interrupted while the receiver had the whole message: it may or may not have been accepted, so it is not sent again; check with the recipient"
)

// recoverRows repairs rows a stopped worker left behind. With olderThan 0
// (at start: this process owns no row yet) it takes every row; otherwise
// only rows untouched for olderThan, so a live worker elsewhere keeps its
// own. "sending" goes back to pending: the receiver never got the final
// dot (or the request), so sending again cannot duplicate. "delivering"
// becomes "uncertain": never sent again. It returns how many rows each
// became and recomputes the events concerned.
func recoverRows(ctx context.Context, db *sql.DB, now time.Time, olderThan time.Duration) (requeued, uncertain int64, err error) {
	cutoff := now.UTC()
	if olderThan > 0 {
		cutoff = cutoff.Add(-olderThan)
	} else {
		cutoff = cutoff.Add(time.Hour * 24 * 365 * 100) // every row
	}
	res, err := db.ExecContext(ctx, `UPDATE dxt_outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ?
WHERE state = 'sending' AND updated_at < ?`, now.UTC(), errInterruptedSending, now.UTC(), cutoff)
	if err != nil {
		return 0, 0, fmt.Errorf("recover outbox rows left sending: %w", err)
	}
	requeued, _ = res.RowsAffected()

	rs, err := db.QueryContext(ctx, `SELECT id, event_id, kind, payload FROM dxt_outbox WHERE state = 'delivering' AND updated_at < ?`, cutoff)
	if err != nil {
		return requeued, 0, fmt.Errorf("recover outbox rows left delivering: %w", err)
	}
	type left struct {
		id      uint64
		eventID sql.Null[uint64]
		kind    string
		payload sql.NullString
	}
	var rows []left
	for rs.Next() {
		var l left
		if err := rs.Scan(&l.id, &l.eventID, &l.kind, &l.payload); err != nil {
			rs.Close()
			return requeued, 0, fmt.Errorf("recover outbox rows left delivering: %w", err)
		}
		rows = append(rows, l)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return requeued, 0, fmt.Errorf("recover outbox rows left delivering: %w", err)
	}
	for _, l := range rows {
		res, err := db.ExecContext(ctx, `UPDATE dxt_outbox SET state = 'uncertain', last_error = ?, updated_at = ? WHERE id = ? AND state = 'delivering'`,
			errInterruptedDelivering, now.UTC(), l.id)
		if err != nil {
			return requeued, uncertain, fmt.Errorf("mark outbox row %d uncertain: %w", l.id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		uncertain++
		if l.kind == KindSummary {
			if err := settleSummarized(ctx, db, []byte(l.payload.String), false, now); err != nil {
				return requeued, uncertain, err
			}
		}
		if l.eventID.Valid {
			if err := updateEventState(ctx, db, l.eventID.V); err != nil {
				return requeued, uncertain, err
			}
		}
	}
	return requeued, uncertain, nil
}
