package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// updateEventState derives dxt_event.notify_state from the event's outbox
// rows: failed when any row failed or is uncertain, pending while any is
// still on its way (a row folded into a summary is on its way until the
// summary is sent), sent when all are; notified_at is the last sent_at.
func updateEventState(ctx context.Context, q tracker.Querier, eventID uint64) error {
	rs, err := q.QueryContext(ctx, `SELECT state, sent_at FROM dxt_outbox WHERE event_id = ?`, eventID)
	if err != nil {
		return fmt.Errorf("notify state of event %d: %w", eventID, err)
	}
	var (
		n                  int
		failed, inProgress bool
		last               sql.NullTime
	)
	for rs.Next() {
		var state string
		var sent sql.NullTime
		if err := rs.Scan(&state, &sent); err != nil {
			rs.Close()
			return fmt.Errorf("notify state of event %d: %w", eventID, err)
		}
		n++
		switch state {
		case StateFailed, StateUncertain:
			failed = true
		case StateSent:
		case StateSummarized:
			if !sent.Valid {
				inProgress = true
			}
		default:
			inProgress = true
		}
		if sent.Valid && (!last.Valid || sent.Time.After(last.Time)) {
			last = sent
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("notify state of event %d: %w", eventID, err)
	}
	if n == 0 {
		return nil
	}
	state := EventSent
	switch {
	case failed:
		state = EventFailed
	case inProgress:
		state = EventPending
	}
	var at *time.Time
	if last.Valid {
		t := last.Time.UTC()
		at = &t
	}
	if _, err := q.ExecContext(ctx, `UPDATE dxt_event SET notify_state = ?, notified_at = ? WHERE id = ?`, state, at, eventID); err != nil {
		return fmt.Errorf("set notify state of event %d: %w", eventID, err)
	}
	return nil
}
