package tracker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NewEvent is what a producer hands to InsertEvent.
type NewEvent struct {
	OccurredAt  time.Time
	Type        string
	UserID      *int64
	UserName    *string
	Module      *string
	RecordCount *int64
	IP          *string
	UserAgent   *string
	Source      string
	Details     map[string]any
	ContentID   *uint64
	ReportID    *int64
	DedupeKey   string
}

const insertColumns = `(occurred_at, type, user_id, user_name, module, record_count, ip, user_agent, source, details, content_id, report_id, dedupe_key, created_at)`

const insertValues = `(?,?,?,?,?,?,?,?,?,?,?,?,?,UTC_TIMESTAMP(6))`

func eventArgs(e NewEvent) ([]any, error) {
	details, err := json.Marshal(orEmpty(e.Details))
	if err != nil {
		return nil, fmt.Errorf("encode details of event %s: %w", e.DedupeKey, err)
	}
	if e.DedupeKey == "" {
		return nil, errors.New("event without dedupe key")
	}
	return []any{e.OccurredAt.UTC(), e.Type, e.UserID, e.UserName, e.Module, e.RecordCount, Clip(e.IP, 45), Clip(e.UserAgent, 512),
		e.Source, string(details), e.ContentID, e.ReportID, e.DedupeKey}, nil
}

// InsertEvent writes one event unless an event with the same dedupe key
// exists; either way it returns that event's id. inserted is false for a
// duplicate, which callers treat as "already done".
func InsertEvent(ctx context.Context, q Querier, e NewEvent) (id uint64, inserted bool, err error) {
	args, err := eventArgs(e)
	if err != nil {
		return 0, false, err
	}
	// LAST_INSERT_ID(id) on the duplicate path hands back the existing id.
	res, err := q.ExecContext(ctx, `INSERT INTO dxt_event `+insertColumns+` VALUES `+insertValues+`
ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)`, args...)
	if err != nil {
		return 0, false, fmt.Errorf("insert event %s: %w", e.DedupeKey, err)
	}
	lid, err := res.LastInsertId()
	if err != nil {
		return 0, false, fmt.Errorf("insert event %s: read id: %w", e.DedupeKey, err)
	}
	n, _ := res.RowsAffected()
	return uint64(lid), n == 1, nil
}

// InsertEvents writes many events in multi-row statements; events whose
// dedupe key exists are left as they are.
func InsertEvents(ctx context.Context, q Querier, evs []NewEvent) error {
	const perStmt = 200
	for len(evs) > 0 {
		n := min(perStmt, len(evs))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO dxt_event ` + insertColumns + ` VALUES `)
		args := make([]any, 0, n*13)
		for i, e := range evs[:n] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(insertValues)
			a, err := eventArgs(e)
			if err != nil {
				return err
			}
			args = append(args, a...)
		}
		sb.WriteString(` ON DUPLICATE KEY UPDATE id = id`)
		if _, err := q.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert %d events: %w", n, err)
		}
		evs = evs[n:]
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Clip shortens s to at most n bytes without cutting a UTF-8 sequence.
func Clip(s *string, n int) *string {
	if s == nil || len(*s) <= n {
		return s
	}
	t := strings.ToValidUTF8((*s)[:n], "")
	return &t
}

// AddSource returns the comma-separated source list with s added once.
func AddSource(list, s string) string {
	for _, p := range strings.Split(list, ",") {
		if p == s {
			return list
		}
	}
	if list == "" {
		return s
	}
	return list + "," + s
}

// HasSource reports whether the comma-separated list contains s.
func HasSource(list, s string) bool { return AddSource(list, s) == list }

// Checkpoint is a stored binlog position.
type Checkpoint struct {
	File string
	Pos  uint64
	GTID string
}

// LoadCheckpoint returns the checkpoint called name; ok is false if none.
func LoadCheckpoint(ctx context.Context, q Querier, name string) (cp Checkpoint, ok bool, err error) {
	var gtid sql.NullString
	err = q.QueryRowContext(ctx, `SELECT file, pos, gtid FROM dxt_checkpoint WHERE name = ?`, name).Scan(&cp.File, &cp.Pos, &gtid)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	cp.GTID = gtid.String
	return cp, true, nil
}

// SaveCheckpoint stores the checkpoint; call it inside the transaction that
// made the effects of everything before it durable.
func SaveCheckpoint(ctx context.Context, q Querier, name string, cp Checkpoint) error {
	_, err := q.ExecContext(ctx, `INSERT INTO dxt_checkpoint (name, file, pos, gtid, updated_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE file = VALUES(file), pos = VALUES(pos), gtid = VALUES(gtid), updated_at = VALUES(updated_at)`,
		name, cp.File, cp.Pos, nullStr(cp.GTID))
	if err != nil {
		return fmt.Errorf("save checkpoint %s at %s:%d: %w", name, cp.File, cp.Pos, err)
	}
	return nil
}
