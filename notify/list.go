package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Paging limits of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ErrBadState means a filter named a state that does not exist.
var ErrBadState = errors.New("unknown notification state")

// Filter selects outbox rows for List. Zero values do not filter.
type Filter struct {
	State   string
	EventID uint64
	Limit   int    // 0 = DefaultListLimit, capped at MaxListLimit
	Before  uint64 // rows with a smaller id (the previous page's next_before)
}

// Notification is one outbox row as the API shows it: no payload, and a
// webhook URL reduced to scheme and host (its path may hold a token).
type Notification struct {
	ID            uint64     `json:"id"`
	Kind          string     `json:"kind"`
	Channel       string     `json:"channel"`
	Recipient     string     `json:"recipient"`
	EventID       *uint64    `json:"event_id"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"` // pending rows only
	LastError     *string    `json:"last_error"`
	MessageID     *string    `json:"message_id"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	SentAt        *time.Time `json:"sent_at"`
}

// List returns outbox rows, newest first, and the id to pass as Before for
// the next page (0 on the last page).
func List(ctx context.Context, q tracker.Querier, f Filter) ([]Notification, uint64, error) {
	if f.State != "" && !slices.Contains(States, f.State) {
		return nil, 0, fmt.Errorf("%w %q (want one of %s)", ErrBadState, f.State, strings.Join(States, ", "))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var (
		where []string
		args  []any
	)
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, f.State)
	}
	if f.EventID != 0 {
		where = append(where, "event_id = ?")
		args = append(args, f.EventID)
	}
	if f.Before != 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	query := `SELECT id, kind, channel, recipient, event_id, state, attempts, next_attempt_at, last_error, message_id, created_at, updated_at, sent_at FROM dxt_outbox`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list notifications: %w", err)
	}
	defer rs.Close()
	out := []Notification{}
	for rs.Next() {
		var (
			n           Notification
			eventID     sql.Null[uint64]
			next, sent  sql.NullTime
			lastErr, id sql.NullString
		)
		if err := rs.Scan(&n.ID, &n.Kind, &n.Channel, &n.Recipient, &eventID, &n.State, &n.Attempts, &next, &lastErr, &id,
			&n.CreatedAt, &n.UpdatedAt, &sent); err != nil {
			return nil, 0, fmt.Errorf("list notifications: %w", err)
		}
		if eventID.Valid {
			v := eventID.V
			n.EventID = &v
		}
		if n.Channel == ChannelWebhook {
			n.Recipient = redactURL(n.Recipient)
		}
		if next.Valid && n.State == StatePending {
			t := next.Time.UTC()
			n.NextAttemptAt = &t
		}
		if lastErr.Valid {
			n.LastError = &lastErr.String
		}
		if id.Valid {
			n.MessageID = &id.String
		}
		if sent.Valid {
			t := sent.Time.UTC()
			n.SentAt = &t
		}
		n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
		out = append(out, n)
	}
	if err := rs.Err(); err != nil {
		return nil, 0, fmt.Errorf("list notifications: %w", err)
	}
	var next uint64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
