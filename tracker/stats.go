package tracker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Groupings Stats knows.
const (
	GroupByUser   = "user"
	GroupByModule = "module"
	GroupByType   = "type"
	GroupByDay    = "day"
)

// ErrBadGroupBy means Stats was asked for a grouping it does not know.
var ErrBadGroupBy = errors.New("group_by must be one of user, module, type, day")

// StatRow is one group of Stats: the user name, module, event type or day
// (YYYY-MM-DD, UTC), the number of events and the sum of their known record
// counts. Events without a user or module are grouped under "".
type StatRow struct {
	Key     string `json:"key"`
	Events  int64  `json:"events"`
	Records int64  `json:"records"`
}

// statGroups maps a grouping to its SQL expression; only these fixed strings
// ever reach the query text.
var statGroups = map[string]string{
	GroupByUser:   "COALESCE(user_name, '')",
	GroupByModule: "COALESCE(module, '')",
	GroupByType:   "type",
	GroupByDay:    "DATE_FORMAT(occurred_at, '%Y-%m-%d')",
}

// Stats counts events and records in [from, to) (either bound may be nil)
// per groupBy. Days come oldest first; other groupings by most events first.
func Stats(ctx context.Context, q Querier, from, to *time.Time, groupBy string) ([]StatRow, error) {
	expr, ok := statGroups[groupBy]
	if !ok {
		return nil, fmt.Errorf("%w, got %q", ErrBadGroupBy, groupBy)
	}
	var (
		where []string
		args  []any
	)
	if from != nil {
		where = append(where, "occurred_at >= ?")
		args = append(args, from.UTC())
	}
	if to != nil {
		where = append(where, "occurred_at < ?")
		args = append(args, to.UTC())
	}
	query := "SELECT " + expr + " AS k, COUNT(*), COALESCE(SUM(record_count), 0) FROM dxt_event"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " GROUP BY k"
	if groupBy == GroupByDay {
		query += " ORDER BY k"
	} else {
		query += " ORDER BY COUNT(*) DESC, k"
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("event stats by %s: %w", groupBy, err)
	}
	defer rows.Close()
	out := []StatRow{}
	for rows.Next() {
		var r StatRow
		if err := rows.Scan(&r.Key, &r.Events, &r.Records); err != nil {
			return nil, fmt.Errorf("event stats by %s: %w", groupBy, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event stats by %s: %w", groupBy, err)
	}
	return out, nil
}
