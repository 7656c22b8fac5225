package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// stormWindow is the period of the per-recipient limit.
const stormWindow = time.Minute

// maxSummaryItems bounds the events listed one by one in a summary.
const maxSummaryItems = 500

// summaryPayload is dxt_outbox.payload of a kind=summary row.
type summaryPayload struct {
	Lang  string     `json:"lang"`
	Limit int64      `json:"limit"`
	Rows  []uint64   `json:"rows"` // the held outbox rows it stands for
	Items []heldItem `json:"items"`
	More  int64      `json:"more,omitempty"` // held events not listed
}

// heldItem is one held event as the summary lists it.
type heldItem struct {
	EventID uint64    `json:"event_id"`
	At      time.Time `json:"at"`
	User    string    `json:"user"`
	Type    string    `json:"type"`
	Module  string    `json:"module"`
	Records *int64    `json:"records"`
}

// stormLimiter holds an event e-mail when its recipient already had max
// messages in the last minute, or has rows held (they go out together in
// the summary, in order). Summaries and digests are never held; webhooks
// have no limit (a SIEM wants every event).
func stormLimiter(settings func() tracker.Settings, now func() time.Time) limiter {
	return func(ctx context.Context, tx *sql.Tx, r row) (bool, error) {
		if r.Channel != ChannelEmail || r.Kind != KindEvent {
			return false, nil
		}
		max := settings().NotifyMaxPerMinute
		if max <= 0 {
			return false, nil
		}
		var sent, inFlight, held int64
		err := tx.QueryRowContext(ctx, `SELECT
  (SELECT COUNT(*) FROM dxt_outbox WHERE recipient_hash = ? AND sent_at > ? AND state = 'sent'),
  (SELECT COUNT(*) FROM dxt_outbox WHERE recipient_hash = ? AND sent_at IS NULL AND state IN ('sending', 'delivering')),
  (SELECT COUNT(*) FROM dxt_outbox WHERE recipient_hash = ? AND sent_at IS NULL AND state = 'held')`,
			r.RecipientHash, now().UTC().Add(-stormWindow), r.RecipientHash, r.RecipientHash).Scan(&sent, &inFlight, &held)
		if err != nil {
			return false, fmt.Errorf("storm limit of outbox row %d: %w", r.ID, err)
		}
		return held > 0 || sent+inFlight >= max, nil
	}
}

// summarizeHeld writes one summary for every recipient whose window has
// room again, in the transaction that marks its held rows summarized. It
// returns the number of summaries written.
func summarizeHeld(ctx context.Context, db *sql.DB, s tracker.Settings, now time.Time) (int, error) {
	rs, err := db.QueryContext(ctx, `SELECT DISTINCT recipient_hash FROM dxt_outbox FORCE INDEX (dxt_outbox_due) WHERE state = 'held'`)
	if err != nil {
		return 0, fmt.Errorf("find held notifications: %w", err)
	}
	var hashes []string
	for rs.Next() {
		var h string
		if err := rs.Scan(&h); err != nil {
			rs.Close()
			return 0, fmt.Errorf("find held notifications: %w", err)
		}
		hashes = append(hashes, h)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("find held notifications: %w", err)
	}
	written := 0
	for _, h := range hashes {
		ok, err := summarizeRecipient(ctx, db, h, s, now)
		if err != nil {
			return written, err
		}
		if ok {
			written++
		}
	}
	return written, nil
}

func summarizeRecipient(ctx context.Context, db *sql.DB, recipientHash string, s tracker.Settings, now time.Time) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("summarize held notifications: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	rs, err := tx.QueryContext(ctx, `SELECT o.id, o.recipient, e.id, e.occurred_at, e.user_name, e.type, e.module, e.record_count
FROM dxt_outbox o LEFT JOIN dxt_event e ON e.id = o.event_id
WHERE o.recipient_hash = ? AND o.state = 'held' ORDER BY o.id FOR UPDATE`, recipientHash)
	if err != nil {
		return false, fmt.Errorf("summarize held notifications: %w", err)
	}
	p := summaryPayload{Lang: s.NotifyLanguage, Limit: s.NotifyMaxPerMinute}
	recipient := ""
	for rs.Next() {
		var (
			id                uint64
			evID              sql.Null[uint64]
			at                sql.NullTime
			user, typ, module sql.NullString
			records           sql.NullInt64
		)
		if err := rs.Scan(&id, &recipient, &evID, &at, &user, &typ, &module, &records); err != nil {
			rs.Close()
			return false, fmt.Errorf("summarize held notifications: %w", err)
		}
		p.Rows = append(p.Rows, id)
		if len(p.Items) >= maxSummaryItems {
			p.More++
			continue
		}
		it := heldItem{EventID: evID.V, At: at.Time.UTC(), User: user.String, Type: typ.String, Module: module.String}
		if records.Valid {
			n := records.Int64
			it.Records = &n
		}
		p.Items = append(p.Items, it)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return false, fmt.Errorf("summarize held notifications: %w", err)
	}
	if len(p.Rows) == 0 {
		return false, nil
	}
	// Room again? Count after locking the held rows, so two workers agree.
	var sent, inFlight int64
	if err := tx.QueryRowContext(ctx, `SELECT
  (SELECT COUNT(*) FROM dxt_outbox WHERE recipient_hash = ? AND sent_at > ? AND state = 'sent'),
  (SELECT COUNT(*) FROM dxt_outbox WHERE recipient_hash = ? AND sent_at IS NULL AND state IN ('sending', 'delivering'))`,
		recipientHash, now.UTC().Add(-stormWindow), recipientHash).Scan(&sent, &inFlight); err != nil {
		return false, fmt.Errorf("summarize held notifications: count: %w", err)
	}
	if max := s.NotifyMaxPerMinute; max > 0 && sent+inFlight >= max {
		return false, nil
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("summarize held notifications: encode: %w", err)
	}
	if _, err := insertRow(ctx, tx, newRow{
		dedupeKey: summaryKey(recipientHash, p.Rows[0]), kind: KindSummary, channel: ChannelEmail,
		recipient: recipient, recipientHash: recipientHash, payload: payload, at: now,
	}); err != nil {
		return false, fmt.Errorf("summarize held notifications: %w", err)
	}
	if err := updateIDs(ctx, tx, `UPDATE dxt_outbox SET state = 'summarized', updated_at = ? WHERE state = 'held' AND id IN `, []any{now.UTC()}, p.Rows); err != nil {
		return false, fmt.Errorf("summarize held notifications: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("summarize held notifications: commit: %w", err)
	}
	return true, nil
}

// settleSummarized gives the rows a summary stood for its outcome: sent
// (their sent_at is the summary's) or failed.
func settleSummarized(ctx context.Context, q tracker.Querier, payload []byte, sent bool, now time.Time) error {
	var p summaryPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("settle summarized rows: decode summary: %w", err)
	}
	var err error
	if sent {
		err = updateIDs(ctx, q, `UPDATE dxt_outbox SET sent_at = ?, updated_at = ? WHERE state = 'summarized' AND id IN `, []any{now.UTC(), now.UTC()}, p.Rows)
	} else {
		err = updateIDs(ctx, q, `UPDATE dxt_outbox SET state = 'failed', last_error = 'the summary that listed it was not delivered', updated_at = ? WHERE state = 'summarized' AND id IN `, []any{now.UTC()}, p.Rows)
	}
	if err != nil {
		return fmt.Errorf("settle summarized rows: %w", err)
	}
	seen := map[uint64]bool{}
	for _, it := range p.Items {
		if it.EventID != 0 && !seen[it.EventID] {
			seen[it.EventID] = true
			if err := updateEventState(ctx, q, it.EventID); err != nil {
				return err
			}
		}
	}
	if p.More > 0 {
		// Events beyond the listed ones: find them through their rows.
		if err := updateEventsOfRows(ctx, q, p.Rows, seen); err != nil {
			return err
		}
	}
	return nil
}

func updateEventsOfRows(ctx context.Context, q tracker.Querier, ids []uint64, seen map[uint64]bool) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rs, err := q.QueryContext(ctx, `SELECT DISTINCT event_id FROM dxt_outbox WHERE event_id IS NOT NULL AND id IN (?`+repeatParams(n-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("events of summarized rows: %w", err)
		}
		var evs []uint64
		for rs.Next() {
			var id uint64
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return fmt.Errorf("events of summarized rows: %w", err)
			}
			if !seen[id] {
				seen[id] = true
				evs = append(evs, id)
			}
		}
		rs.Close()
		for _, id := range evs {
			if err := updateEventState(ctx, q, id); err != nil {
				return err
			}
		}
		ids = ids[n:]
	}
	return nil
}

// updateIDs runs prefix + "(?, ?, ...)" over ids in pieces of 500.
func updateIDs(ctx context.Context, q tracker.Querier, prefix string, args []any, ids []uint64) error {
	for len(ids) > 0 {
		n := min(len(ids), 500)
		a := append([]any{}, args...)
		for _, id := range ids[:n] {
			a = append(a, id)
		}
		if _, err := q.ExecContext(ctx, prefix+"(?"+repeatParams(n-1)+")", a...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
