package tracker

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
)

// Access log actions.
const (
	ActionContentDownload = "content_download"
	ActionConfigUpdate    = "config_update"
)

// Auth methods recorded in the access log.
const (
	AuthToken = "token"
	AuthBasic = "basic"
)

// AccessEntry is one row of dxt_access_log: who read captured content (or
// changed settings) through the API, from where, and with what result.
// ID and At are set by the database side; LogAccess ignores ID and uses the
// current time when At is zero.
type AccessEntry struct {
	ID         uint64    `json:"id"`
	At         time.Time `json:"at"`
	Principal  string    `json:"principal"`
	AuthMethod string    `json:"auth_method"`
	Action     string    `json:"action"`
	EventID    *uint64   `json:"event_id"`
	RemoteIP   string    `json:"remote_ip"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
}

// Paging limits of ListAccess.
const (
	DefaultAccessLimit = 100
	MaxAccessLimit     = 1000
)

// LogAccess appends one entry to the access log.
func LogAccess(ctx context.Context, q Querier, e AccessEntry) error {
	_, err := RecordAccess(ctx, q, e)
	return err
}

// RecordAccess is LogAccess returning the new row's id, for a caller that
// may need to correct the status later (SetAccessStatus).
func RecordAccess(ctx context.Context, q Querier, e AccessEntry) (uint64, error) {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	var ip sql.NullString
	if e.RemoteIP != "" {
		ip = sql.NullString{String: clip(e.RemoteIP, 45), Valid: true}
	}
	res, err := q.ExecContext(ctx, `INSERT INTO dxt_access_log (at, principal, auth_method, action, event_id, remote_ip, path, status)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UTC(), clip(e.Principal, 255), clip(e.AuthMethod, 16), clip(e.Action, 32), e.EventID, ip, clip(e.Path, 1024), e.Status)
	if err != nil {
		return 0, fmt.Errorf("access log: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("access log: read id: %w", err)
	}
	return uint64(id), nil
}

// SetAccessStatus corrects the status of entry id, e.g. when a download
// logged as 200 broke off half way.
func SetAccessStatus(ctx context.Context, q Querier, id uint64, status int) error {
	if _, err := q.ExecContext(ctx, `UPDATE dxt_access_log SET status = ? WHERE id = ?`, status, id); err != nil {
		return fmt.Errorf("access log %d: set status: %w", id, err)
	}
	return nil
}

// ListAccess returns up to limit entries, newest first, and the cursor of the
// next page ("" on the last page). A malformed cursor gives ErrBadCursor.
func ListAccess(ctx context.Context, q Querier, limit int, cursor string) ([]AccessEntry, string, error) {
	if limit <= 0 {
		limit = DefaultAccessLimit
	}
	limit = min(limit, MaxAccessLimit)
	query := `SELECT id, at, principal, auth_method, action, event_id, remote_ip, path, status FROM dxt_access_log`
	var args []any
	if cursor != "" {
		before, err := decodeAccessCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		query += ` WHERE id < ?`
		args = append(args, before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list access log: %w", err)
	}
	defer rows.Close()
	out := []AccessEntry{}
	for rows.Next() {
		var (
			e       AccessEntry
			eventID sql.Null[uint64]
			ip      sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.At, &e.Principal, &e.AuthMethod, &e.Action, &eventID, &ip, &e.Path, &e.Status); err != nil {
			return nil, "", fmt.Errorf("list access log: %w", err)
		}
		e.At = e.At.UTC()
		if eventID.Valid {
			id := eventID.V
			e.EventID = &id
		}
		e.RemoteIP = ip.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list access log: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeAccessCursor(out[limit-1].ID)
	}
	return out, next, nil
}

func encodeAccessCursor(id uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeAccessCursor(s string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("%w: not a cursor from this list", ErrBadCursor)
	}
	id := binary.BigEndian.Uint64(b)
	if id == 0 {
		return 0, fmt.Errorf("%w: position out of range", ErrBadCursor)
	}
	return id, nil
}

// clip cuts s to at most n characters (not bytes: the columns count
// characters), keeping it valid UTF-8.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // replaces invalid bytes with U+FFFD
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
