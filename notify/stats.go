package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stats is the state of the outbox, for /metrics and readyz.
type Stats struct {
	// ByState counts rows per state (every state present, 0 included).
	ByState map[string]int64 `json:"by_state"`
	// OldestPendingAge is how long the oldest due pending row has waited
	// since it was written (0 when none is due).
	OldestPendingAge time.Duration `json:"-"`
	// OldestPendingSeconds is OldestPendingAge in seconds, for JSON.
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
	// Failed and Uncertain need an administrator's attention.
	Failed    int64 `json:"failed"`
	Uncertain int64 `json:"uncertain"`
}

// Attention is the number of rows that did not reach their recipient for
// sure (failed + uncertain).
func (s Stats) Attention() int64 { return s.Failed + s.Uncertain }

// ReadStats counts the outbox. now is the reference for the pending age.
func ReadStats(ctx context.Context, db *sql.DB, now time.Time) (Stats, error) {
	st := Stats{ByState: map[string]int64{}}
	for _, s := range States {
		st.ByState[s] = 0
	}
	rs, err := db.QueryContext(ctx, `SELECT state, COUNT(*) FROM dxt_outbox FORCE INDEX (dxt_outbox_due) GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	for rs.Next() {
		var state string
		var n int64
		if err := rs.Scan(&state, &n); err != nil {
			rs.Close()
			return st, fmt.Errorf("outbox stats: %w", err)
		}
		st.ByState[state] = n
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	var oldest sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT MIN(created_at) FROM dxt_outbox FORCE INDEX (dxt_outbox_due)
WHERE state = 'pending' AND next_attempt_at <= ?`, now.UTC()).Scan(&oldest); err != nil {
		return st, fmt.Errorf("outbox stats: oldest pending: %w", err)
	}
	if oldest.Valid {
		st.OldestPendingAge = max(0, now.Sub(oldest.Time))
		st.OldestPendingSeconds = st.OldestPendingAge.Seconds()
	}
	st.Failed, st.Uncertain = st.ByState[StateFailed], st.ByState[StateUncertain]
	return st, nil
}

// Stats counts the worker's outbox now.
func (w *Worker) Stats(ctx context.Context) (Stats, error) {
	return ReadStats(ctx, w.db, w.opts.Now())
}
