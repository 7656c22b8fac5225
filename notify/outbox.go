package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// row is one claimed dxt_outbox row.
type row struct {
	ID            uint64
	DedupeKey     string
	Kind          string
	Channel       string
	Recipient     string
	RecipientHash string
	EventID       *uint64
	Payload       []byte
	Attempts      int // including the claim that made this row "sending"
	CreatedAt     time.Time
}

const rowColumns = `id, dedupe_key, kind, channel, recipient, recipient_hash, event_id, payload, attempts, created_at`

func scanRow(rs *sql.Rows) (row, error) {
	var (
		r       row
		eventID sql.Null[uint64]
		payload sql.NullString
	)
	if err := rs.Scan(&r.ID, &r.DedupeKey, &r.Kind, &r.Channel, &r.Recipient, &r.RecipientHash, &eventID, &payload, &r.Attempts, &r.CreatedAt); err != nil {
		return row{}, err
	}
	if eventID.Valid {
		id := eventID.V
		r.EventID = &id
	}
	r.Payload = []byte(payload.String)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// limiter decides at claim time whether a recipient may get one more
// message now.
type limiter func(ctx context.Context, tx *sql.Tx, r row) (hold bool, err error)

// claim moves up to n due pending rows to "sending" (or "held", when the
// limiter says so) in one transaction and returns the rows to send. SKIP
// LOCKED lets several workers (or daemons) claim side by side without
// waiting for or taking each other's rows.
func claim(ctx context.Context, db *sql.DB, now time.Time, n int, fromDomain string, limit limiter) ([]row, []row, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, nil, fmt.Errorf("claim outbox rows: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	rs, err := tx.QueryContext(ctx, `SELECT `+rowColumns+` FROM dxt_outbox FORCE INDEX (dxt_outbox_due)
WHERE state = 'pending' AND next_attempt_at <= ?
ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED`, now.UTC(), n)
	if err != nil {
		return nil, nil, fmt.Errorf("claim outbox rows: select: %w", err)
	}
	var due []row
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			rs.Close()
			return nil, nil, fmt.Errorf("claim outbox rows: scan: %w", err)
		}
		due = append(due, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	var send, held []row
	for _, r := range due {
		hold, err := limit(ctx, tx, r)
		if err != nil {
			return nil, nil, err
		}
		if hold {
			if _, err := tx.ExecContext(ctx, `UPDATE dxt_outbox SET state = 'held', updated_at = ? WHERE id = ?`, now.UTC(), r.ID); err != nil {
				return nil, nil, fmt.Errorf("hold outbox row %d: %w", r.ID, err)
			}
			held = append(held, r)
			continue
		}
		r.Attempts++
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_outbox SET state = 'sending', attempts = ?, message_id = ?, updated_at = ? WHERE id = ?`,
			r.Attempts, MessageID(r.ID, r.DedupeKey, fromDomain), now.UTC(), r.ID); err != nil {
			return nil, nil, fmt.Errorf("claim outbox row %d: %w", r.ID, err)
		}
		send = append(send, r)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("claim outbox rows: commit: %w", err)
	}
	return send, held, nil
}

// transition moves a row this worker owns (same attempts, one of from) to
// a new state. ok is false when the row is no longer ours: another worker
// recovered and re-claimed it, or a restart moved it on.
func transition(ctx context.Context, q tracker.Querier, r row, set string, args []any, from ...string) (bool, error) {
	query := `UPDATE dxt_outbox SET ` + set + ` WHERE id = ? AND attempts = ? AND state IN (?` + repeatParams(len(from)-1) + `)`
	all := append(append([]any{}, args...), r.ID, r.Attempts)
	for _, f := range from {
		all = append(all, f)
	}
	res, err := q.ExecContext(ctx, query, all...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func repeatParams(n int) string {
	s := ""
	for range n {
		s += ", ?"
	}
	return s
}

// markDelivering is the beforeCommit step: from here on the receiver may
// have the message.
func markDelivering(ctx context.Context, db *sql.DB, r row, now time.Time) error {
	ok, err := transition(ctx, db, r, `state = 'delivering', updated_at = ?`, []any{now.UTC()}, StateSending)
	if err != nil {
		return fmt.Errorf("mark outbox row %d delivering: %w", r.ID, err)
	}
	if !ok {
		return fmt.Errorf("outbox row %d is no longer claimed by this worker: not sending it", r.ID)
	}
	return nil
}

// markSent records an accepted message. An "uncertain" row (a restart
// recovered it while this worker was still waiting for the answer) is
// corrected to sent.
func markSent(ctx context.Context, db *sql.DB, r row, now time.Time) (bool, error) {
	ok, err := transition(ctx, db, r, `state = 'sent', sent_at = ?, last_error = NULL, updated_at = ?`, []any{now.UTC(), now.UTC()},
		StateSending, StateDelivering, StateUncertain)
	if err != nil {
		return false, fmt.Errorf("mark outbox row %d sent: %w", r.ID, err)
	}
	return ok, nil
}

// markRetry puts the row back to pending, due at next.
func markRetry(ctx context.Context, db *sql.DB, r row, now, next time.Time, cause string) (bool, error) {
	ok, err := transition(ctx, db, r, `state = 'pending', next_attempt_at = ?, last_error = ?, updated_at = ?`,
		[]any{next.UTC(), clipBytes(cause, 1024), now.UTC()}, StateSending, StateDelivering)
	if err != nil {
		return false, fmt.Errorf("reschedule outbox row %d: %w", r.ID, err)
	}
	return ok, nil
}

// markFinal ends the row as failed or uncertain.
func markFinal(ctx context.Context, db *sql.DB, r row, state string, now time.Time, cause string) (bool, error) {
	ok, err := transition(ctx, db, r, `state = ?, last_error = ?, updated_at = ?`,
		[]any{state, clipBytes(cause, 1024), now.UTC()}, StateSending, StateDelivering)
	if err != nil {
		return false, fmt.Errorf("mark outbox row %d %s: %w", r.ID, state, err)
	}
	return ok, nil
}
