package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Match is one rule that matched an event, as the notification shows it.
type Match struct {
	Rule     string `json:"rule"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Reason   string `json:"reason"`
}

// eventPayload is dxt_outbox.payload of a kind=event row: what the message
// needs beyond the event row, fixed when the event was recorded.
type eventPayload struct {
	Lang    string  `json:"lang"`
	Attach  bool    `json:"attach,omitempty"`
	Matches []Match `json:"matches"`
}

// Enqueue writes the notifications of a new event into the outbox: one row
// per e-mail address in s.NotifyAdminEmail and one for s.NotifyWebhookURL.
// Call it inside the transaction that created the event, so the event and
// its notifications commit together; wake the worker (Worker.Notify) after
// the commit. It is idempotent: a second call for the same event writes
// nothing and changes nothing. It returns the number of rows written; with
// no address and no webhook it writes none (the event is only logged).
func Enqueue(ctx context.Context, tx tracker.Querier, ev tracker.Event, matches []Match, s tracker.Settings) (int, error) {
	if ev.ID == 0 {
		return 0, fmt.Errorf("enqueue notifications: event without id")
	}
	if matches == nil {
		matches = []Match{}
	}
	payload, err := json.Marshal(eventPayload{Lang: s.NotifyLanguage, Attach: s.NotifyAttachContent, Matches: matches})
	if err != nil {
		return 0, fmt.Errorf("enqueue notifications of event %d: encode payload: %w", ev.ID, err)
	}
	type target struct{ channel, recipient string }
	var targets []target
	seen := map[string]bool{}
	for _, a := range s.NotifyAdminEmail {
		a = strings.TrimSpace(a)
		if a == "" || seen[strings.ToLower(a)] {
			continue
		}
		seen[strings.ToLower(a)] = true
		targets = append(targets, target{ChannelEmail, a})
	}
	if u := strings.TrimSpace(s.NotifyWebhookURL); u != "" {
		targets = append(targets, target{ChannelWebhook, u})
	}
	if len(targets) == 0 {
		return 0, nil
	}
	written := 0
	for _, t := range targets {
		h := RecipientHash(t.recipient)
		n, err := insertRow(ctx, tx, newRow{
			dedupeKey: eventKey(ev.ID, t.channel, h), kind: KindEvent, channel: t.channel,
			recipient: t.recipient, recipientHash: h, eventID: &ev.ID, payload: payload,
		})
		if err != nil {
			return written, fmt.Errorf("enqueue notifications of event %d: %w", ev.ID, err)
		}
		written += n
	}
	if _, err := tx.ExecContext(ctx, `UPDATE dxt_event SET notify_state = ? WHERE id = ? AND notify_state = ?`,
		EventPending, ev.ID, EventNone); err != nil {
		return written, fmt.Errorf("enqueue notifications of event %d: mark event pending: %w", ev.ID, err)
	}
	return written, nil
}

// newRow is an outbox row to insert.
type newRow struct {
	dedupeKey, kind, channel string
	recipient, recipientHash string
	eventID                  *uint64
	payload                  []byte
	at                       time.Time // created and due; zero = the server's clock
}

// insertRow writes one pending row due now unless its dedupe key exists;
// it returns 1 if it wrote the row, 0 if it was already there.
func insertRow(ctx context.Context, q tracker.Querier, r newRow) (int, error) {
	var at *time.Time
	if !r.at.IsZero() {
		t := r.at.UTC()
		at = &t
	}
	res, err := q.ExecContext(ctx, `INSERT INTO dxt_outbox
  (dedupe_key, kind, channel, recipient, recipient_hash, event_id, payload, state, attempts, next_attempt_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, COALESCE(?, UTC_TIMESTAMP(6)), COALESCE(?, UTC_TIMESTAMP(6)), COALESCE(?, UTC_TIMESTAMP(6)))
ON DUPLICATE KEY UPDATE id = id`,
		r.dedupeKey, r.kind, r.channel, r.recipient, r.recipientHash, r.eventID, string(r.payload), at, at, at)
	if err != nil {
		return 0, fmt.Errorf("insert outbox row %s: %w", r.dedupeKey, err)
	}
	n, _ := res.RowsAffected()
	if n == 1 {
		return 1, nil
	}
	return 0, nil
}
