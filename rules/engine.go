package rules

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/tracker"
)

// Defaults of the engine's options.
const (
	DefaultMaxUsers = 10000
	DefaultRulesTTL = time.Minute
)

// Option configures NewEngine.
type Option func(*Engine)

// WithClock sets the clock (for the rules cache's age); default time.Now.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithMaxUsers bounds how many users' states stay in memory (least
// recently active dropped first; they reload from dxt_event when needed).
func WithMaxUsers(n int) Option { return func(e *Engine) { e.maxUsers = max(n, 1) } }

// WithRulesTTL is how long loaded rules are used before they are read
// again even without Invalidate: a safety net for a missed invalidation.
func WithRulesTTL(d time.Duration) Option { return func(e *Engine) { e.ttl = d } }

// Invalidator is what writers of dxt_rule call after a change.
type Invalidator interface{ Invalidate() }

var _ Invalidator = (*Engine)(nil)

// Engine evaluates the rules on new events. Rules are cached; per-user
// history is kept in memory, loaded lazily from dxt_event and updated as
// events are evaluated, so a restarted engine decides exactly as the old
// one would have. Safe for concurrent use; evaluations are serialised, as
// ingest is.
type Engine struct {
	db       *sql.DB
	log      zerolog.Logger
	now      func() time.Time
	maxUsers int
	ttl      time.Duration

	stale atomic.Bool // set by Invalidate, read without the lock

	mu       sync.Mutex
	rules    []Rule // enabled, valid rules by id
	need     needs
	loaded   bool
	loadedAt time.Time
	users    *lru

	coldLoads, evaluations atomic.Int64
}

// NewEngine builds an engine; it does no I/O (the rules are read on the
// first Evaluate or Reload).
func NewEngine(db *sql.DB, log zerolog.Logger, opts ...Option) *Engine {
	e := &Engine{db: db, log: log.With().Str("component", "rules").Logger(), now: time.Now,
		maxUsers: DefaultMaxUsers, ttl: DefaultRulesTTL}
	for _, o := range opts {
		o(e)
	}
	e.users = newLRU(e.maxUsers)
	return e
}

// Invalidate makes the next Evaluate read the rules again. Cheap and safe
// from any goroutine (the binlog handler on a dxt_rule change, the API
// after a write).
func (e *Engine) Invalidate() { e.stale.Store(true) }

// Reload reads the rules now.
func (e *Engine) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loadRules(ctx, e.db)
}

// Abort forgets every user's state. Call it when the transaction the
// evaluations ran in rolled back: the state counted events that are not in
// the table any more, and reloads from the table on next use.
func (e *Engine) Abort() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users = newLRU(e.maxUsers)
	e.stale.Store(true)
}

// Stats are counters for metrics and the benchmark.
type Stats struct {
	Evaluations int64 // events evaluated
	ColdLoads   int64 // user states read from dxt_event
	Users       int   // user states in memory
	Rules       int   // enabled rules in use (the built-in not counted)
}

// Stats returns the current counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{Evaluations: e.evaluations.Load(), ColdLoads: e.coldLoads.Load(), Users: e.users.len(), Rules: len(e.rules)}
}

func (e *Engine) loadRules(ctx context.Context, q tracker.Querier) error {
	all, broken, err := listRules(ctx, q)
	if err != nil {
		return err
	}
	for id, err := range broken {
		// A rule edited by hand into something invalid must not stop the
		// log; it is skipped and said so at every load.
		e.log.Warn().Uint64("rule_id", id).Err(err).Msg("rule skipped: its params are invalid")
	}
	enabled := all[:0]
	for _, r := range all {
		if r.Enabled {
			enabled = append(enabled, r)
		}
	}
	n := needsOf(enabled)
	if n != e.need {
		// The states hold what the old rules needed; a longer look-back
		// needs more than they have.
		e.users = newLRU(e.maxUsers)
	}
	e.rules, e.need, e.loaded, e.loadedAt = enabled, n, true, e.now()
	e.stale.Store(false)
	return nil
}

// Evaluate decides every rule, the built-in one first, on ev, an event
// just inserted through q (the ingest transaction; ev.ID set). Events must
// be evaluated in ingest (id) order; evaluating an event again (after a
// merge changed it) decides it from the table and keeps the state in step.
// On error the caller's transaction should roll back and call Abort.
func (e *Engine) Evaluate(ctx context.Context, q tracker.Querier, ev Event, st tracker.Settings) ([]Match, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded || e.stale.Load() || e.now().Sub(e.loadedAt) >= e.ttl {
		if err := e.loadRules(ctx, q); err != nil {
			return nil, fmt.Errorf("evaluate event %d: %w", ev.ID, err)
		}
	}
	e.evaluations.Add(1)
	ev.OccurredAt = ev.OccurredAt.UTC()
	var out []Match
	if m, ok := defaultMatch(&ev, st); ok {
		out = append(out, m)
	}
	var (
		view   *userState // the user's history before ev
		cached *userState // the state in memory, if any
	)
	if ev.UserName != "" && e.need.any() {
		cached = e.users.get(userKey(ev.UserName))
	}
	for _, r := range e.rules {
		if !applies(r.Params, &ev) {
			continue
		}
		if stateful(r.Params) && view == nil {
			var err error
			if view, cached, err = e.state(ctx, q, &ev, cached); err != nil {
				return nil, fmt.Errorf("evaluate event %d: %w", ev.ID, err)
			}
		}
		if reason, ok := match(r.Params, &ev, view); ok {
			out = append(out, Match{RuleID: r.ID, Name: r.Name, Kind: r.Kind, Severity: r.Severity, Notify: r.Notify, Reason: reason})
		}
	}
	switch {
	case cached == nil:
		// Nobody holds this user's history: nothing to keep in step.
	case ev.ID > cached.lastID:
		cached.add(&ev, e.need)
	default:
		cached.refresh(&ev, e.need)
	}
	return out, nil
}

// state returns the history to decide ev with, and the state to keep in
// memory afterwards (loading it on a user's first event).
func (e *Engine) state(ctx context.Context, q tracker.Querier, ev *Event, cached *userState) (view, keep *userState, err error) {
	if cached != nil && cached.covers(ev, e.need) {
		return cached, cached, nil
	}
	e.coldLoads.Add(1)
	s, err := loadState(ctx, q, ev, e.need)
	if err != nil {
		return nil, nil, err
	}
	if cached != nil {
		// An event from before what memory covers (out of time order, or
		// evaluated again): decided from the table, memory stays.
		return s, cached, nil
	}
	e.users.put(s)
	return s, s, nil
}
