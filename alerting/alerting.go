// Package alerting joins the rule engine and the notification outbox to the
// ingest: inside the transaction that creates events it evaluates the
// rules on each, records the matches on the event and writes the outbox
// rows of the matches that notify, so an event, its matches and its
// notifications commit together or not at all.
package alerting

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/tracker"
)

// Engine is the rule engine as the hook uses it.
type Engine interface {
	Evaluate(ctx context.Context, q tracker.Querier, ev rules.Event, st tracker.Settings) ([]rules.Match, error)
	Abort()
	Invalidate()
}

var _ Engine = (*rules.Engine)(nil)

// Hook is the ingest processor's BeforeCommit/OnRollback/OnCommit trio.
type Hook struct {
	engine   Engine
	settings func() tracker.Settings
	wake     func() // the outbox worker's Notify; nil = none
	log      zerolog.Logger

	matched, enqueued atomic.Uint64
}

// New returns a Hook; settings gives the settings in force (the
// processor's), wake is called after a commit that enqueued notifications.
func New(engine Engine, settings func() tracker.Settings, wake func(), log zerolog.Logger) *Hook {
	return &Hook{engine: engine, settings: settings, wake: wake, log: log.With().Str("component", "alerting").Logger()}
}

// Options wires the hook into ingest options.
func (h *Hook) Options(o ingest.Options) ingest.Options {
	o.BeforeCommit = h.BeforeCommit
	o.OnRollback = h.engine.Abort
	o.OnRulesChanged = h.engine.Invalidate
	prev := o.OnCommit
	o.OnCommit = func(created []ingest.Created) {
		if prev != nil {
			prev(created)
		}
		if h.wake != nil {
			h.wake()
		}
	}
	return o
}

// BeforeCommit evaluates the rules on the batch's new events, in id order
// (the order the per-user windows count them), and on scheduled reports a
// probe capture was merged into (their record count and file arrive with
// the capture). A copy merged into an earlier identical copy is the same
// take-out and is not evaluated again.
func (h *Hook) BeforeCommit(ctx context.Context, tx *sql.Tx, created []ingest.Created) error {
	ids := make([]uint64, 0, len(created))
	seen := make(map[uint64]bool, len(created))
	settingsOf := make(map[uint64]*tracker.Settings, len(created))
	for _, c := range created {
		if c.EventID == 0 || seen[c.EventID] || (c.Merged && c.Type != tracker.TypeScheduledReport) {
			continue
		}
		seen[c.EventID] = true
		ids = append(ids, c.EventID)
		settingsOf[c.EventID] = c.Settings
	}
	if len(ids) == 0 {
		return nil
	}
	events, err := tracker.GetEvents(ctx, tx, ids)
	if err != nil {
		return err
	}
	inForce := h.settings()
	for _, ev := range events {
		// The settings at the event's place in the binlog: a dxt_config
		// change earlier in the batch applies to it.
		st := inForce
		if s := settingsOf[ev.ID]; s != nil {
			st = *s
		}
		matches, err := h.engine.Evaluate(ctx, tx, rules.EventFromRow(ev), st)
		if err != nil {
			return fmt.Errorf("evaluate rules on event %d: %w", ev.ID, err)
		}
		if len(matches) == 0 {
			continue
		}
		h.matched.Add(1)
		if err := rules.Record(ctx, tx, ev.ID, matches); err != nil {
			return err
		}
		var notifying []notify.Match
		for _, m := range matches {
			if m.Notify {
				notifying = append(notifying, notify.Match{Rule: m.Name, Kind: m.Kind, Severity: m.Severity, Reason: m.Reason})
			}
		}
		if len(notifying) == 0 {
			continue
		}
		// The mail shows every match, the notifying ones first.
		for _, m := range matches {
			if !m.Notify {
				notifying = append(notifying, notify.Match{Rule: m.Name, Kind: m.Kind, Severity: m.Severity, Reason: m.Reason})
			}
		}
		n, err := notify.Enqueue(ctx, tx, ev, notifying, st)
		if err != nil {
			return err
		}
		h.enqueued.Add(uint64(n))
	}
	return nil
}

// Stats are cumulative counters for metrics.
type Stats struct {
	EventsMatched, NotificationsEnqueued uint64
}

// Stats returns the counters.
func (h *Hook) Stats() Stats {
	return Stats{EventsMatched: h.matched.Load(), NotificationsEnqueued: h.enqueued.Load()}
}
