package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

type intakeRow struct {
	id          uint64
	kind        string
	occurredAt  time.Time
	userID      sql.NullInt64
	module      sql.NullString
	recordCount sql.NullInt64
	clientIP    sql.NullString
	userAgent   sql.NullString
	details     sql.NullString
	contentName sql.NullString
	contentType sql.NullString
	contentSize sql.NullInt64
	contentSHA  sql.NullString
	chunks      int
	// deferContent: the content is stored with the batch's other small
	// contents after the loop (copies), not by eventFromIntake.
	deferContent bool
}

// outcome is what became of one intake row.
type outcome struct {
	intakeID uint64
	eventID  uint64 // 0 for bulk-inserted events (resolved by dedupe key) and skipped rows
	note     string
	merged   bool
	evType   string
	mergeKey string // merged into an event of this batch, known by its dedupe key
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z_]{0,31}$`)

func intakeKey(id uint64) string { return fmt.Sprintf("intake:%d", id) }

func (p *Processor) applyIntake(ctx context.Context, tx *sql.Tx, items []workItem) ([]Created, error) {
	settingsOf := make(map[uint64]tracker.Settings, len(items))
	ids := make([]any, 0, len(items))
	for _, it := range items {
		if _, dup := settingsOf[it.intakeID]; !dup {
			ids = append(ids, it.intakeID)
		}
		settingsOf[it.intakeID] = it.settings
	}
	rows, err := p.lockPending(ctx, tx, ids)
	if err != nil || len(rows) == 0 {
		return nil, err
	}

	var bulk []tracker.NewEvent
	var bulkIDs []any
	var single []outcome
	var withChunks []any
	loginIPs := map[string]string{}
	copies, err := p.newCopyBatch(ctx, tx, rows, settingsOf)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.chunks > 0 {
			withChunks = append(withChunks, r.id)
		}
		st := settingsOf[r.id]
		if r.kind == IntakeKindContextMenu {
			single = append(single, contextMenuOutcome(r))
			continue
		}
		if !st.Tracks(r.kind) {
			single = append(single, outcome{intakeID: r.id, note: "tracking of " + r.kind + " is disabled in dxt_config"})
			p.Counters.IntakeSkipped.Add(1)
			continue
		}
		if r.kind == tracker.TypeCopy {
			ev, merged, err := p.copyIntake(ctx, tx, r, st, loginIPs, copies)
			if err != nil {
				return nil, err
			}
			if merged != nil {
				single = append(single, *merged)
				continue
			}
			bulk = append(bulk, ev)
			bulkIDs = append(bulkIDs, r.id)
			continue
		}
		ev, err := p.eventFromIntake(ctx, tx, r, st, loginIPs)
		if err != nil {
			return nil, err
		}
		if ev.Type == tracker.TypeScheduledReport {
			o, err := p.mergeScheduledIntake(ctx, tx, r, ev)
			if err != nil {
				return nil, err
			}
			single = append(single, o)
			continue
		}
		bulk = append(bulk, ev)
		bulkIDs = append(bulkIDs, r.id)
	}

	if err := p.storeCopyContents(ctx, tx, copies, bulk, bulkIDs); err != nil {
		return nil, err
	}
	now := p.opts.Now()
	if err := tracker.InsertEvents(ctx, tx, bulk); err != nil {
		return nil, err
	}
	if len(bulkIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_intake i JOIN dxt_event e ON e.dedupe_key = CONCAT('intake:', i.id)
SET i.processed_at = ?, i.event_id = e.id WHERE i.id IN (`+placeholders(len(bulkIDs))+`)`, append([]any{now}, bulkIDs...)...); err != nil {
			return nil, fmt.Errorf("mark intake rows processed: %w", err)
		}
	}
	for _, o := range single {
		if o.mergeKey != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE dxt_intake SET processed_at = ?, process_note = ?,
  event_id = (SELECT id FROM dxt_event WHERE dedupe_key = ?) WHERE id = ?`, now, o.note, o.mergeKey, o.intakeID); err != nil {
				return nil, fmt.Errorf("mark intake row %d merged: %w", o.intakeID, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dxt_intake SET processed_at = ?, event_id = ?, process_note = ? WHERE id = ?`,
			now, nullID(o.eventID), nullString(o.note), o.intakeID); err != nil {
			return nil, fmt.Errorf("mark intake row %d processed: %w", o.intakeID, err)
		}
	}
	// The bytes now live in dxt_content; keeping them twice helps no one.
	if len(withChunks) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dxt_intake_chunk WHERE intake_id IN (`+placeholders(len(withChunks))+`)`, withChunks...); err != nil {
			return nil, fmt.Errorf("delete moved intake chunks: %w", err)
		}
	}

	created := make([]Created, 0, len(rows))
	switch {
	case len(bulk) > 0 && (p.opts.OnCommit != nil || p.opts.BeforeCommit != nil):
		// Event ids only matter to an observer; spare the round trip otherwise.
		c, err := createdByKey(ctx, tx, bulk)
		if err != nil {
			return nil, err
		}
		created = append(created, c...)
	default:
		for _, e := range bulk {
			created = append(created, Created{Type: e.Type})
		}
	}
	for _, o := range single {
		if o.eventID != 0 {
			created = append(created, Created{EventID: o.eventID, Type: o.evType, Merged: o.merged})
		}
	}
	return created, nil
}

// lockPending reads and locks the given intake rows that are still
// unprocessed; rows another run already processed are simply absent.
func (p *Processor) lockPending(ctx context.Context, tx *sql.Tx, ids []any) ([]intakeRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// The chunk count rides along as a subquery: one round trip per batch.
	q := `SELECT i.id, i.kind, i.occurred_at, i.user_id, i.module, i.record_count, i.client_ip, i.user_agent, i.details,
  i.content_name, i.content_type, i.content_size, i.content_sha256,
  (SELECT COUNT(*) FROM dxt_intake_chunk c WHERE c.intake_id = i.id)
FROM dxt_intake i WHERE i.id IN (` + placeholders(len(ids)) + `) AND i.processed_at IS NULL ORDER BY i.id FOR UPDATE`
	rs, err := tx.QueryContext(ctx, q, ids...)
	if err != nil {
		return nil, fmt.Errorf("read intake rows: %w", err)
	}
	defer rs.Close()
	var out []intakeRow
	for rs.Next() {
		var r intakeRow
		if err := rs.Scan(&r.id, &r.kind, &r.occurredAt, &r.userID, &r.module, &r.recordCount, &r.clientIP, &r.userAgent,
			&r.details, &r.contentName, &r.contentType, &r.contentSize, &r.contentSHA, &r.chunks); err != nil {
			return nil, fmt.Errorf("read intake rows: %w", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read intake rows: %w", err)
	}
	return out, nil
}

// eventFromIntake builds the event for one intake row, storing its content.
// Bad producer data never fails the batch: it is recorded as a warning on
// the event, so nothing is lost and nothing is silently accepted.
func (p *Processor) eventFromIntake(ctx context.Context, tx *sql.Tx, r intakeRow, st tracker.Settings, loginIPs map[string]string) (tracker.NewEvent, error) {
	var warnings []string
	details := map[string]any{}
	if r.details.Valid && strings.TrimSpace(r.details.String) != "" {
		dec := json.NewDecoder(strings.NewReader(r.details.String))
		dec.UseNumber()
		err := dec.Decode(&details)
		if err == nil {
			// Text after the object ({"a":1}{"b":2}, {"a":1} x) would be
			// lost without a word: the whole column is malformed then.
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("data after the JSON object")
			}
		}
		if err != nil || details == nil {
			details = map[string]any{"raw_details": r.details.String}
			warnings = append(warnings, "details is not a JSON object")
		}
	}
	details["intake_id"] = r.id

	ev := tracker.NewEvent{
		OccurredAt: r.occurredAt.UTC(),
		Type:       r.kind,
		Source:     tracker.SourceProbe,
		DedupeKey:  intakeKey(r.id),
		UserAgent:  strPtr(r.userAgent.String),
	}
	if !kindPattern.MatchString(r.kind) {
		details["raw_kind"] = r.kind
		ev.Type = "unknown"
		warnings = append(warnings, "intake kind is not a known event type")
	}
	if r.userID.Valid {
		ev.UserID = ptr(r.userID.Int64)
		u, ok, err := p.dir.User(ctx, r.userID.Int64)
		if err != nil {
			return ev, fmt.Errorf("intake %d: look up user %d: %w", r.id, r.userID.Int64, err)
		}
		if ok {
			ev.UserName = ptr(u.UserName)
		} else {
			warnings = append(warnings, fmt.Sprintf("user id %d is not in vtiger_users", r.userID.Int64))
		}
	} else {
		warnings = append(warnings, "intake row names no user")
	}
	if r.module.Valid && r.module.String != "" {
		ev.Module = ptr(r.module.String)
		ok, err := p.dir.ModuleExists(ctx, r.module.String)
		if err != nil {
			return ev, fmt.Errorf("intake %d: check module %q: %w", r.id, r.module.String, err)
		}
		if !ok {
			warnings = append(warnings, fmt.Sprintf("module %q is not in vtiger_tab", r.module.String))
		}
	}
	if r.recordCount.Valid {
		if r.recordCount.Int64 < 0 {
			warnings = append(warnings, "negative record count ignored")
		} else {
			ev.RecordCount = ptr(r.recordCount.Int64)
		}
	}
	if rid, ok := asInt64(details["report_id"]); ok {
		ev.ReportID = ptr(rid)
	}

	switch {
	case r.clientIP.Valid && r.clientIP.String != "":
		ev.IP = ptr(r.clientIP.String)
		if ev.UserName != nil {
			if err := p.flagIPMismatch(ctx, *ev.UserName, r.clientIP.String, details, loginIPs); err != nil {
				return ev, fmt.Errorf("intake %d: %w", r.id, err)
			}
		}
	case ev.UserName != nil && r.kind != tracker.TypeScheduledReport:
		// A cron run has no client; the runner's last login says nothing about it.
		ip, err := p.loginIP(ctx, *ev.UserName, loginIPs)
		if err != nil {
			return ev, fmt.Errorf("intake %d: %w", r.id, err)
		}
		if ip != "" {
			ev.IP = ptr(ip)
			details["ip_source"] = "login_history"
		}
	}

	if (r.chunks > 0 || r.contentSize.Valid) && !r.deferContent {
		w, err := p.storeContent(ctx, tx, r, st, details, &ev)
		if err != nil {
			return ev, err
		}
		warnings = append(warnings, w...)
	}
	if len(warnings) > 0 {
		details["warnings"] = warnings
		p.log.Warn().Uint64("intake_id", r.id).Strs("warnings", warnings).Msg("intake row accepted with warnings")
	}
	ev.Details = details
	return ev, nil
}

func (p *Processor) storeContent(ctx context.Context, tx *sql.Tx, r intakeRow, st tracker.Settings, details map[string]any, ev *tracker.NewEvent) ([]string, error) {
	if !st.CaptureContent {
		details["content_discarded"] = "capture_content is off"
		return nil, nil
	}
	truncated := details["truncated"] == true
	if r.chunks == 0 && r.contentSize.Int64 > 0 && !truncated {
		return []string{fmt.Sprintf("content of %d bytes announced but no chunk arrived", r.contentSize.Int64)}, nil
	}
	// Count -1: read seq 0, 1, ... until one is missing, so a gap in a
	// hostile or broken producer's chunks ends the content instead of
	// failing the batch forever.
	src := tracker.NewChunkReader(ctx, tx, `SELECT data FROM dxt_intake_chunk WHERE intake_id = ? AND seq = ?`, r.id, -1)
	meta, err := tracker.WriteContent(ctx, tx, tracker.ContentInput{
		Name: r.contentName.String, MediaType: r.contentType.String, Truncated: truncated,
	}, src)
	if err != nil {
		return nil, fmt.Errorf("intake %d: %w", r.id, err)
	}
	ev.ContentID = ptr(meta.ID)
	return p.checkContent(r, meta, src.ChunksRead(), truncated, details), nil
}

// checkContent compares stored content with what the producer declared
// and records any difference on the event.
func (p *Processor) checkContent(r intakeRow, meta tracker.ContentMeta, chunksRead int, truncated bool, details map[string]any) []string {
	p.Counters.ContentBytes.Add(uint64(meta.Size))
	var warnings []string
	if chunksRead != r.chunks {
		warnings = append(warnings, fmt.Sprintf("content chunks are not numbered 0..%d; stored the first %d", r.chunks-1, chunksRead))
	}
	if truncated {
		details["content_truncated"] = true
		if r.contentSize.Valid {
			details["content_original_size"] = r.contentSize.Int64
		}
		return warnings
	}
	if r.contentSHA.Valid && !strings.EqualFold(r.contentSHA.String, meta.SHA256) {
		details["content_integrity"] = "sha256_mismatch"
		details["content_sha256_declared"] = r.contentSHA.String
		warnings = append(warnings, "sha256 of the received content differs from the producer's")
		p.Counters.HashMismatches.Add(1)
	} else if r.contentSize.Valid && r.contentSize.Int64 != meta.Size {
		details["content_integrity"] = "size_mismatch"
		warnings = append(warnings, fmt.Sprintf("received %d content bytes, producer declared %d", meta.Size, r.contentSize.Int64))
	}
	return warnings
}

func createdByKey(ctx context.Context, tx *sql.Tx, evs []tracker.NewEvent) ([]Created, error) {
	keys := make([]any, len(evs))
	for i, e := range evs {
		keys[i] = e.DedupeKey
	}
	rs, err := tx.QueryContext(ctx, `SELECT id, type FROM dxt_event WHERE dedupe_key IN (`+placeholders(len(keys))+`) ORDER BY id`, keys...)
	if err != nil {
		return nil, fmt.Errorf("read created events: %w", err)
	}
	defer rs.Close()
	var out []Created
	for rs.Next() {
		var c Created
		if err := rs.Scan(&c.EventID, &c.Type); err != nil {
			return nil, fmt.Errorf("read created events: %w", err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	var b bytes.Buffer
	b.Grow(2 * n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
	}
	return b.String()
}

func nullID(id uint64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
