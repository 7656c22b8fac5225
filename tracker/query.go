package tracker

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Paging limits of ListEvents.
const (
	DefaultEventLimit = 50
	MaxEventLimit     = 1000
)

var (
	// ErrBadCursor means a pagination cursor was not made by this program
	// (edited, truncated, or from another list). Callers answer 400.
	ErrBadCursor = errors.New("malformed cursor")
	// ErrNotFound means the row asked for by id does not exist.
	ErrNotFound = errors.New("not found")
)

// EventFilter selects events for ListEvents. Empty strings and nil pointers
// do not filter. From is inclusive, To exclusive. User matches user_name.
type EventFilter struct {
	Type, User, Module, IP string
	From, To               *time.Time
	MinRecords             *int64
	ReportID               *int64 // scheduled and report exports of one report
	Limit                  int    // 0 = DefaultEventLimit; capped at MaxEventLimit
	Cursor                 string // next_cursor of the previous page, "" = newest
}

// eventColumns is the SELECT list scanEvent reads, over dxt_event e LEFT
// JOIN dxt_content c.
const eventColumns = `e.id, e.occurred_at, e.type, e.user_id, e.user_name, e.module, e.record_count,
  e.ip, e.user_agent, e.source, e.details, e.content_id, e.report_id, e.notify_state, c.name, c.size`

type rowScanner interface{ Scan(dest ...any) error }

func scanEvent(r rowScanner) (Event, error) {
	var (
		e                                    Event
		occurred                             time.Time
		userID, recordCount, reportID, cSize sql.NullInt64
		userName, module, ip, ua, cName      sql.NullString
		details                              sql.NullString
		contentID                            sql.Null[uint64]
		notifyState                          string
	)
	err := r.Scan(&e.ID, &occurred, &e.Type, &userID, &userName, &module, &recordCount,
		&ip, &ua, &e.Source, &details, &contentID, &reportID, &notifyState, &cName, &cSize)
	if err != nil {
		return Event{}, err
	}
	e.OccurredAt = occurred.UTC()
	e.UserID = nullInt(userID)
	e.UserName = nullString(userName)
	e.Module = nullString(module)
	e.RecordCount = nullInt(recordCount)
	e.IP = nullString(ip)
	e.UserAgent = nullString(ua)
	e.Details = detailsJSON(details.String)
	e.ReportID = nullInt(reportID)
	if contentID.Valid {
		id := contentID.V
		e.ContentID = &id
		e.HasContent = true
		e.ContentName = nullString(cName)
		e.ContentSize = nullInt(cSize)
	}
	e.Notified = notifyState == "sent"
	return e, nil
}

// detailsJSON keeps the API's details field valid JSON whatever a hand-edited
// row holds: empty becomes {}, anything unparsable is shown as a string.
func detailsJSON(s string) json.RawMessage {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage(`{}`)
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

func nullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// ListEvents returns one page of events, newest first by (occurred_at, id),
// and the cursor of the next page ("" on the last page). Paging is by keyset,
// so a page deep in a list of millions costs what the first one does, and
// rows inserted meanwhile never shift a page (no gaps, no duplicates).
//
// Each equality filter has an index (type|user_name|module|ip|report_id,
// occurred_at, id); the query names the candidate indexes so the server
// reads the index backwards from the cursor and stops after Limit+1 rows,
// with no filesort, even when its statistics are stale.
func ListEvents(ctx context.Context, q Querier, f EventFilter) (events []Event, nextCursor string, err error) {
	query, args, limit, err := eventListQuery(f)
	if err != nil {
		return nil, "", err
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	events = make([]Event, 0, min(limit+1, 256))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list events: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	if len(events) > limit {
		events = events[:limit]
		last := events[limit-1]
		nextCursor = encodeEventCursor(last.OccurredAt, last.ID)
	}
	return events, nextCursor, nil
}

// eventListQuery builds the statement of ListEvents: every value from f is a
// bound parameter; only fixed column and index names enter the text.
func eventListQuery(f EventFilter) (query string, args []any, limit int, err error) {
	limit = f.Limit
	if limit <= 0 {
		limit = DefaultEventLimit
	}
	limit = min(limit, MaxEventLimit)

	var (
		where   []string
		indexes []string
	)
	eq := func(col, index, v string) {
		if v != "" {
			where = append(where, "e."+col+" = ?")
			args = append(args, v)
			indexes = append(indexes, index)
		}
	}
	eq("type", "dxt_event_type", f.Type)
	eq("user_name", "dxt_event_user", f.User)
	eq("module", "dxt_event_module", f.Module)
	eq("ip", "dxt_event_ip", f.IP)
	if f.ReportID != nil {
		where = append(where, "e.report_id = ?")
		args = append(args, *f.ReportID)
		indexes = append(indexes, "dxt_event_report")
	}
	if len(indexes) == 0 {
		indexes = append(indexes, "dxt_event_time")
	}
	if f.From != nil {
		where = append(where, "e.occurred_at >= ?")
		args = append(args, f.From.UTC())
	}
	if f.To != nil {
		where = append(where, "e.occurred_at < ?")
		args = append(args, f.To.UTC())
	}
	if f.MinRecords != nil {
		where = append(where, "e.record_count >= ?")
		args = append(args, *f.MinRecords)
	}
	if f.Cursor != "" {
		at, id, err := decodeEventCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, err
		}
		// The first term is a plain range on the index's time column, the
		// OR narrows the tie on equal timestamps.
		where = append(where, "e.occurred_at <= ? AND (e.occurred_at < ? OR e.id < ?)")
		args = append(args, at, at, id)
	}

	var sb strings.Builder
	sb.WriteString("SELECT ")
	sb.WriteString(eventColumns)
	// Index names come from the fixed list above, never from input.
	sb.WriteString("\nFROM dxt_event e FORCE INDEX (" + strings.Join(indexes, ", ") + ")")
	sb.WriteString("\nLEFT JOIN dxt_content c ON c.id = e.content_id")
	if len(where) > 0 {
		sb.WriteString("\nWHERE " + strings.Join(where, "\n  AND "))
	}
	sb.WriteString("\nORDER BY e.occurred_at DESC, e.id DESC\nLIMIT ?")
	args = append(args, limit+1)
	return sb.String(), args, limit, nil
}

// GetEvent returns the event with id; ok is false if there is none.
func GetEvent(ctx context.Context, q Querier, id uint64) (Event, bool, error) {
	row := q.QueryRowContext(ctx, "SELECT "+eventColumns+"\nFROM dxt_event e LEFT JOIN dxt_content c ON c.id = e.content_id\nWHERE e.id = ?", id)
	e, err := scanEvent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("get event %d: %w", id, err)
	}
	return e, true, nil
}

// Event cursors are 16 bytes, base64url without padding: occurred_at as
// Unix microseconds and the event id, both big-endian. Opaque to clients;
// they only hand back what they were given.
const eventCursorLen = 16

// Bounds of a DATETIME(6) column, in Unix microseconds.
var (
	minCursorMicros = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

func encodeEventCursor(at time.Time, id uint64) string {
	var b [eventCursorLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UTC().UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], id)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeEventCursor(s string) (time.Time, uint64, error) {
	if len(s) > 64 {
		return time.Time{}, 0, fmt.Errorf("%w: too long", ErrBadCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != eventCursorLen {
		return time.Time{}, 0, fmt.Errorf("%w: not a cursor from this list", ErrBadCursor)
	}
	micros := int64(binary.BigEndian.Uint64(b[:8]))
	id := binary.BigEndian.Uint64(b[8:])
	if micros < minCursorMicros || micros > maxCursorMicros || id == 0 {
		return time.Time{}, 0, fmt.Errorf("%w: position out of range", ErrBadCursor)
	}
	return time.UnixMicro(micros).UTC(), id, nil
}

// GetEvents returns the events with the given ids, in id order; ids that
// do not exist are absent. One query, for a batch of new events.
func GetEvents(ctx context.Context, q Querier, ids []uint64) ([]Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, "SELECT "+eventColumns+"\nFROM dxt_event e LEFT JOIN dxt_content c ON c.id = e.content_id\nWHERE e.id IN (?"+strings.Repeat(",?", len(ids)-1)+") ORDER BY e.id", args...)
	if err != nil {
		return nil, fmt.Errorf("get %d events: %w", len(ids), err)
	}
	defer rows.Close()
	out := make([]Event, 0, len(ids))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("get %d events: %w", len(ids), err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get %d events: %w", len(ids), err)
	}
	return out, nil
}
