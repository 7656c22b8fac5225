package harness

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Snapshot is the state of the tracking log and the mail at one moment,
// with everything the exactly-once checks need.
type Snapshot struct {
	At time.Time

	// Intake.
	Intake, IntakeExport, IntakeCopy int
	Unprocessed                      int // processed_at or event_id NULL
	OwnEvent                         int // rows pointing at their own intake:<id> event
	NoEvent                          int // processed rows that legitimately became no event (disabled type, hints): process_note set, event_id NULL
	DupSeq                           int // extra intake rows for one producer seq (the producer wrote it once)
	LostAcked                        int // acknowledged INSERTs missing from dxt_intake

	// Events.
	Events, EventsFromIntake, CopyEvents, ExportEvents int
	Orphans                                            int // intake events their row does not point at (duplicates)
	DupTS                                              int // extra copy events for one beacon ts
	LostBeacons                                        int // beacons answered 204 that are no event
	Accepted                                           int // beacons answered 204 so far

	// Notifications (e-mail channel).
	Notifying     int // events that must notify (exports with record_count >= MinRecords)
	OutboxEvent   int // kind=event e-mail rows
	OutboxOther   int // e-mail rows of other kinds (anchor, digest, summary): expected as written
	OutboxMissing int // notifying events with fewer rows than recipients
	OutboxExtra   int // rows beyond one per recipient, or rows of events that must not notify
	States        map[string]int
	Unsettled     int // pending, sending, delivering, held
	Failed        int
	Sent          int // rows in state sent
	SentArrived   int // ... whose Message-ID the sink has
	Uncertain     int
	UncArrived    int // uncertain rows whose message did arrive
	SinkMessages  int
	SinkDup       int // extra copies of one Message-ID in the sink
	SentMissing   int // sent rows whose message never arrived
	Stray         int // sink messages with no outbox row
	WrongEvent    int // messages whose X-DXT-Event-ID is not their row's event
}

// Duplicates are take-outs recorded twice: intake rows for one producer
// write, events their intake row does not point at, copy events for one
// beacon.
func (s Snapshot) Duplicates() int { return s.DupSeq + s.Orphans + s.DupTS }

// MailDuplicates are messages that arrived twice or unaccounted for, and
// outbox rows too many.
func (s Snapshot) MailDuplicates() int { return s.SinkDup + s.Stray + s.OutboxExtra }

// Lost are take-outs without their event.
func (s Snapshot) Lost() int { return s.Unprocessed + s.LostAcked + s.LostBeacons }

// MailsExpected is one mail per notifying event and recipient, plus the
// other notifications the daemon wrote (anchors, digests, summaries).
func (s Snapshot) MailsExpected(recipients int) int { return s.Notifying*recipients + s.OutboxOther }

// MailsFound is messages in the sink for sent rows.
func (s Snapshot) MailsFound() int { return s.SentArrived }

// Violations lists every broken promise; empty when all is well.
func (s Snapshot) Violations() []string {
	var v []string
	add := func(n int, format string, args ...any) {
		if n != 0 {
			v = append(v, fmt.Sprintf(format, args...))
		}
	}
	add(s.Unprocessed, "%d intake rows not processed (no event)", s.Unprocessed)
	add(s.LostAcked, "%d acknowledged intake INSERTs are missing from dxt_intake", s.LostAcked)
	add(s.DupSeq, "%d intake rows duplicate a producer write", s.DupSeq)
	processed := s.Intake - s.Unprocessed - s.NoEvent
	add(processed-s.OwnEvent, "%d processed intake rows do not point at their own intake:<id> event (%d of %d do)", processed-s.OwnEvent, s.OwnEvent, processed)
	add(s.EventsFromIntake-s.OwnEvent, "%d events from intake for %d intake rows pointing at their own event (duplicates or strays)", s.EventsFromIntake, s.OwnEvent)
	add(s.DupTS, "%d copy events duplicate a beacon (same ts)", s.DupTS)
	add(s.LostBeacons, "%d beacons answered 204 are not in the tracking log", s.LostBeacons)
	add(s.OutboxMissing, "%d notifying events lack their outbox row", s.OutboxMissing)
	add(s.OutboxExtra, "%d outbox rows too many (twice for an event, or for an event that must not notify)", s.OutboxExtra)
	add(s.Failed, "%d notifications failed", s.Failed)
	add(s.SentMissing, "%d notifications marked sent never arrived", s.SentMissing)
	add(s.SinkDup, "%d mails arrived twice (same Message-ID)", s.SinkDup)
	add(s.Stray, "%d mails arrived with a Message-ID no outbox row has", s.Stray)
	add(s.WrongEvent, "%d mails name another event (X-DXT-Event-ID) than their outbox row", s.WrongEvent)
	add(s.Unsettled, "%d notifications still unsettled (%s)", s.Unsettled, s.stateLine())
	return v
}

func (s Snapshot) stateLine() string {
	keys := make([]string, 0, len(s.States))
	for k := range s.States {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []string
	for _, k := range keys {
		b = append(b, fmt.Sprintf("%s:%d", k, s.States[k]))
	}
	return strings.Join(b, " ")
}

// StateLine is the outbox rows by state, e.g. "sent:40 uncertain:1".
func (s Snapshot) StateLine() string { return s.stateLine() }

func (e *Env) count(ctx context.Context, q string, args ...any) (int, error) {
	var n sql.NullInt64
	err := e.DB.QueryRowContext(ctx, q, args...).Scan(&n)
	return int(n.Int64), err
}

// Progress is how far the daemon is: intake rows not yet processed and
// outbox rows not yet settled.
func (e *Env) Progress(ctx context.Context) (unprocessed, unsettled int, err error) {
	if unprocessed, err = e.count(ctx, `SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`); err != nil {
		return
	}
	unsettled, err = e.count(ctx, `SELECT COUNT(*) FROM dxt_outbox WHERE state IN ('pending', 'sending', 'delivering', 'held')`)
	return
}

// Settle waits until every intake row is processed and every notification
// settled (sent, uncertain, failed), or timeout. It also waits for the
// daemon to be alive: a dead daemon is reported.
func (e *Env) Settle(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var lastErr error
	for {
		u, o, err := e.Progress(ctx)
		if err == nil && u == 0 && o == 0 {
			return time.Since(start), nil
		}
		if err != nil {
			lastErr = err
		} else {
			lastErr = fmt.Errorf("%d intake rows unprocessed, %d notifications unsettled", u, o)
		}
		if d := e.Daemon(); d == nil || !d.Alive() {
			return time.Since(start), fmt.Errorf("daemon not running while settling: %v", lastErr)
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("not settled after %s: %v", timeout, lastErr)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return time.Since(start), err
		}
	}
}

// Check takes a snapshot and runs every exactly-once check. p may be nil
// (then acknowledged writes and accepted beacons are not compared).
func (e *Env) Check(ctx context.Context, p *Producer) (Snapshot, error) {
	s := Snapshot{At: time.Now(), States: map[string]int{}}
	var exp, cp, unp, noEv sql.NullInt64
	if err := e.DB.QueryRowContext(ctx, `SELECT COUNT(*), SUM(kind = 'listview_export'), SUM(kind = 'copy'),
  SUM(processed_at IS NULL OR (event_id IS NULL AND process_note IS NULL)), SUM(processed_at IS NOT NULL AND event_id IS NULL AND process_note IS NOT NULL)
FROM dxt_intake`).Scan(&s.Intake, &exp, &cp, &unp, &noEv); err != nil {
		return s, fmt.Errorf("check intake: %w", err)
	}
	s.IntakeExport, s.IntakeCopy, s.Unprocessed, s.NoEvent = int(exp.Int64), int(cp.Int64), int(unp.Int64), int(noEv.Int64)
	var err error
	if s.OwnEvent, err = e.count(ctx, `SELECT COUNT(DISTINCT i.id) FROM dxt_intake i JOIN dxt_event e ON e.id = i.event_id AND e.dedupe_key = CONCAT('intake:', i.id)`); err != nil {
		return s, fmt.Errorf("check own events: %w", err)
	}
	var fromIntake, copies, exports sql.NullInt64
	if err := e.DB.QueryRowContext(ctx, `SELECT COUNT(*), SUM(dedupe_key LIKE 'intake:%'), SUM(type = 'copy'), SUM(type = 'listview_export') FROM dxt_event`).
		Scan(&s.Events, &fromIntake, &copies, &exports); err != nil {
		return s, fmt.Errorf("check events: %w", err)
	}
	s.EventsFromIntake, s.CopyEvents, s.ExportEvents = int(fromIntake.Int64), int(copies.Int64), int(exports.Int64)
	s.Orphans = max(s.EventsFromIntake-s.OwnEvent, 0)

	// Producer writes: each seq once, every acknowledged one present.
	seqs, err := e.jsonInts(ctx, `SELECT JSON_VALUE(details, '$.faultsuite_seq') FROM dxt_intake WHERE kind = 'listview_export'`)
	if err != nil {
		return s, fmt.Errorf("check producer seqs: %w", err)
	}
	for _, n := range seqs {
		if n > 1 {
			s.DupSeq += n - 1
		}
	}
	tss, err := e.jsonInts(ctx, `SELECT JSON_VALUE(details, '$.client_ts') FROM dxt_event WHERE type = 'copy'`)
	if err != nil {
		return s, fmt.Errorf("check beacon ts: %w", err)
	}
	for _, n := range tss {
		if n > 1 {
			s.DupTS += n - 1
		}
	}
	if p != nil {
		for seq := range p.ackedSet() {
			if seqs[seq] == 0 {
				s.LostAcked++
			}
		}
		acc := p.acceptedSet()
		s.Accepted = len(acc)
		for ts := range acc {
			if tss[ts] == 0 {
				s.LostBeacons++
			}
		}
	}

	// Notifications: one outbox row per notifying event and recipient.
	rcpt := len(e.Cfg.Recipients)
	if s.Notifying, err = e.count(ctx, `SELECT COUNT(*) FROM dxt_event WHERE type = 'listview_export' AND record_count >= ?`, e.Cfg.MinRecords); err != nil {
		return s, err
	}
	if rcpt > 0 {
		if s.OutboxMissing, err = e.count(ctx, `SELECT COUNT(*) FROM (SELECT e.id, COUNT(o.id) AS c FROM dxt_event e
LEFT JOIN dxt_outbox o ON o.event_id = e.id AND o.kind = 'event' AND o.channel = 'email'
WHERE e.type = 'listview_export' AND e.record_count >= ? GROUP BY e.id HAVING c < ?) x`, e.Cfg.MinRecords, rcpt); err != nil {
			return s, err
		}
		if s.OutboxExtra, err = e.count(ctx, `SELECT COALESCE(SUM(c - ?), 0) FROM (SELECT e.id, COUNT(o.id) AS c FROM dxt_event e
JOIN dxt_outbox o ON o.event_id = e.id AND o.kind = 'event' AND o.channel = 'email'
WHERE e.type = 'listview_export' AND e.record_count >= ? GROUP BY e.id HAVING c > ?) x`, rcpt, e.Cfg.MinRecords, rcpt); err != nil {
			return s, err
		}
	}
	wrong, err := e.count(ctx, `SELECT COUNT(*) FROM dxt_outbox o JOIN dxt_event e ON e.id = o.event_id
WHERE o.kind = 'event' AND o.channel = 'email' AND NOT (e.type = 'listview_export' AND e.record_count >= ?)`, e.Cfg.MinRecords)
	if err != nil {
		return s, err
	}
	s.OutboxExtra += wrong

	// Mail: compare the outbox with what the sink received, by Message-ID.
	received := map[string]int{}
	eventOf := map[string]string{}
	msgs := e.Sink.Messages()
	s.SinkMessages = len(msgs)
	for _, m := range msgs {
		received[m.MessageID]++
		if m.Header != nil {
			eventOf[m.MessageID] = m.Header.Get("X-DXT-Event-ID")
		}
	}
	rows, err := e.DB.QueryContext(ctx, `SELECT kind, state, COALESCE(message_id, ''), COALESCE(event_id, 0) FROM dxt_outbox WHERE channel = 'email'`)
	if err != nil {
		return s, fmt.Errorf("check outbox: %w", err)
	}
	known := map[string]bool{}
	for rows.Next() {
		var kind, state, mid string
		var eventID uint64
		if err := rows.Scan(&kind, &state, &mid, &eventID); err != nil {
			rows.Close()
			return s, err
		}
		s.States[state]++
		if kind == "event" {
			s.OutboxEvent++
		} else {
			s.OutboxOther++
		}
		if mid != "" {
			known[mid] = true
		}
		got := received[mid]
		if mid == "" {
			got = 0
		}
		if got > 0 && kind == "event" && eventOf[mid] != strconv.FormatUint(eventID, 10) {
			s.WrongEvent++
		}
		switch state {
		case "sent":
			s.Sent++
			if got > 0 {
				s.SentArrived++
			} else {
				s.SentMissing++
			}
		case "uncertain":
			s.Uncertain++
			if got > 0 {
				s.UncArrived++
			}
		case "failed":
			s.Failed++
		case "pending", "sending", "delivering", "held":
			s.Unsettled++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, err
	}
	for mid, n := range received {
		if n > 1 {
			s.SinkDup += n - 1
		}
		if !known[mid] {
			s.Stray += n
		}
	}
	return s, nil
}

// jsonInts runs a one-column query of numbers and counts each value.
func (e *Env) jsonInts(ctx context.Context, q string) (map[int64]int, error) {
	rows, err := e.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var v sql.NullInt64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			out[v.Int64]++
		}
	}
	return out, rows.Err()
}
