package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Event is what the rules look at: one dxt_event row, already inserted
// (ID set), with the few details some kinds need pulled out.
type Event struct {
	ID          uint64
	OccurredAt  time.Time
	Type        string
	UserName    string // "" when the user is unknown: no per-user rule applies
	Module      string
	RecordCount *int64 // nil when unknown
	IP          string

	// From details of a scheduled_report: how many recipients are outside
	// the company's domains, and their addresses.
	ExternalCount      int
	ExternalRecipients []string
}

// EventFromNew builds the Event of a row just written by
// tracker.InsertEvent (or InsertEvents) with the given id.
func EventFromNew(id uint64, e tracker.NewEvent) Event {
	ev := Event{ID: id, OccurredAt: e.OccurredAt.UTC(), Type: e.Type,
		UserName: deref(e.UserName), Module: deref(e.Module), RecordCount: e.RecordCount, IP: deref(e.IP)}
	ev.ExternalCount, ev.ExternalRecipients = externals(e.Details)
	return ev
}

// EventFromRow builds the Event of a row read back with the tracker
// package's queries.
func EventFromRow(e tracker.Event) Event {
	ev := Event{ID: e.ID, OccurredAt: e.OccurredAt.UTC(), Type: e.Type,
		UserName: deref(e.UserName), Module: deref(e.Module), RecordCount: e.RecordCount, IP: deref(e.IP)}
	var details map[string]any
	if json.Unmarshal(e.Details, &details) == nil {
		ev.ExternalCount, ev.ExternalRecipients = externals(details)
	}
	return ev
}

// LoadEvent reads event id through q (the ingest transaction sees its own
// rows). Use it after a merge changed an event (a probe capture joined to a
// scheduled delivery), to evaluate the merged row.
func LoadEvent(ctx context.Context, q tracker.Querier, id uint64) (Event, error) {
	var (
		ev               Event
		user, module, ip sql.NullString
		records          sql.NullInt64
		details          string
	)
	err := q.QueryRowContext(ctx, `SELECT id, occurred_at, type, user_name, module, record_count, ip, details
FROM dxt_event WHERE id = ?`, id).Scan(&ev.ID, &ev.OccurredAt, &ev.Type, &user, &module, &records, &ip, &details)
	if err != nil {
		return Event{}, fmt.Errorf("load event %d for the rules: %w", id, err)
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	ev.UserName, ev.Module, ev.IP = user.String, module.String, ip.String
	if records.Valid {
		ev.RecordCount = &records.Int64
	}
	var m map[string]any
	if json.Unmarshal([]byte(details), &m) == nil {
		ev.ExternalCount, ev.ExternalRecipients = externals(m)
	}
	return ev, nil
}

// externals reads details.external_recipients and the addresses flagged
// external in details.recipients. It accepts both the maps ingest builds
// and what encoding/json decodes.
func externals(details map[string]any) (int, []string) {
	if details == nil {
		return 0, nil
	}
	count := int(number(details["external_recipients"]))
	var addrs []string
	add := func(r map[string]any) {
		if ext, _ := r["external"].(bool); ext {
			if a, _ := r["email"].(string); a != "" {
				addrs = append(addrs, a)
			}
		}
	}
	switch list := details["recipients"].(type) {
	case []map[string]any:
		for _, r := range list {
			add(r)
		}
	case []any:
		for _, x := range list {
			if r, ok := x.(map[string]any); ok {
				add(r)
			}
		}
	}
	// The count is what ingest decided; the list is only for the reason.
	// An event with flagged addresses but no count still has them.
	count = max(count, len(addrs))
	return count, addrs
}

func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// userKey is how per-user state is keyed: the database compares user
// names case-insensitively (utf8mb4_unicode_ci), so memory does too.
func userKey(name string) string { return strings.ToLower(name) }
