package rules

import (
	"cmp"
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// needs is how much history the current rules look at; it decides what a
// user's state holds and what loading it reads.
type needs struct {
	window     time.Duration // longest velocity window; 0 = no velocity rule
	moduleDays int           // longest first_time look-back; 0 = none
	ipDays     int           // longest new_ip look-back; 0 = none
	history    bool          // some rule asks whether the user has any event
}

func (n needs) any() bool { return n.window > 0 || n.moduleDays > 0 || n.ipDays > 0 }

func needsOf(rs []Rule) needs {
	var n needs
	for _, r := range rs {
		switch p := r.Params.(type) {
		case *VelocityParams:
			n.window = max(n.window, p.Window.D)
		case *FirstTimeParams:
			n.moduleDays = max(n.moduleDays, p.Days)
			n.history = n.history || !p.includeFirst()
		case *NewIPParams:
			n.ipDays = max(n.ipDays, p.Days)
			n.history = n.history || !p.IncludeFirst
		}
	}
	return n
}

// Slack kept beyond the longest look-back, so an event that arrives a
// little out of time order (a probe's clock, a merged delivery) is still
// decided from memory rather than by reloading the user.
const (
	windowSlack = time.Hour
	daysSlack   = 24 * time.Hour
)

// entry is one past event in a velocity window.
type entry struct {
	id      uint64
	at      time.Time
	typ     string
	module  string
	records int64 // 0 when unknown
}

// userState is what the rules know of one user's events with id below
// lastID+1 (every event evaluated so far, and before them what the
// database held): the recent events and when each module and IP was last
// seen.
type userState struct {
	key    string
	lastID uint64    // events up to this id are included
	tmax   time.Time // latest occurred_at included

	recent  []entry   // by id; every event with at > recentFrom is here
	recFrom time.Time // recent is complete after this instant

	modules map[string]time.Time // lower-cased module -> latest occurred_at
	modFrom time.Time            // modules is complete from this instant on
	ips     map[string]time.Time
	ipFrom  time.Time

	hasHistory bool // the user has an event with id <= lastID

	elem     *list.Element // in the LRU
	addsLeft int           // adds until the maps are trimmed again
}

// covers reports whether s can decide ev: ev comes after everything in s,
// and s reaches back far enough from ev's time.
func (s *userState) covers(ev *Event, n needs) bool {
	if ev.ID <= s.lastID {
		return false
	}
	t := ev.OccurredAt
	if n.window > 0 && t.Add(-n.window).Before(s.recFrom) {
		return false
	}
	if n.moduleDays > 0 && t.AddDate(0, 0, -n.moduleDays).Before(s.modFrom) {
		return false
	}
	if n.ipDays > 0 && t.AddDate(0, 0, -n.ipDays).Before(s.ipFrom) {
		return false
	}
	return true
}

// windowSum is p's measure over the user's events in (t-window, t] before
// ev, ev excluded.
func (s *userState) windowSum(ev *Event, p *VelocityParams) int64 {
	from, to := ev.OccurredAt.Add(-p.Window.D), ev.OccurredAt
	var sum int64
	for i := range s.recent {
		e := &s.recent[i]
		if e.id >= ev.ID || !e.at.After(from) || e.at.After(to) {
			continue
		}
		if len(p.Types) > 0 && !slices.Contains(p.Types, e.typ) || !moduleIn(p.Modules, e.module) {
			continue
		}
		if p.Measure == MeasureEvents {
			sum++
		} else {
			sum += e.records
		}
	}
	return sum
}

func (s *userState) moduleSeen(module string, since time.Time) bool {
	last, ok := s.modules[strings.ToLower(module)]
	return ok && !last.Before(since)
}

func (s *userState) ipSeen(ip string, since time.Time) bool {
	last, ok := s.ips[strings.ToLower(ip)]
	return ok && !last.Before(since)
}

// add folds ev (evaluated, id above lastID) into s and forgets what no rule
// can look at any more.
func (s *userState) add(ev *Event, n needs) {
	s.lastID = ev.ID
	s.hasHistory = true
	if ev.OccurredAt.After(s.tmax) {
		s.tmax = ev.OccurredAt
	}
	if n.window > 0 {
		s.recent = append(s.recent, entryOf(ev))
		cut := s.tmax.Add(-n.window - windowSlack)
		i := 0
		for i < len(s.recent) && !s.recent[i].at.After(cut) {
			i++
		}
		if i > 0 {
			s.recent = append(s.recent[:0], s.recent[i:]...)
			if cut.After(s.recFrom) {
				s.recFrom = cut
			}
		}
	}
	if n.moduleDays > 0 && ev.Module != "" {
		seen(s.modules, ev.Module, ev.OccurredAt)
	}
	if n.ipDays > 0 && ev.IP != "" {
		seen(s.ips, ev.IP, ev.OccurredAt)
	}
	if s.addsLeft--; s.addsLeft <= 0 {
		s.addsLeft = 256
		s.modFrom = trim(s.modules, s.modFrom, s.tmax.AddDate(0, 0, -n.moduleDays).Add(-daysSlack))
		s.ipFrom = trim(s.ips, s.ipFrom, s.tmax.AddDate(0, 0, -n.ipDays).Add(-daysSlack))
	}
}

// refresh updates an event s already holds (a merge changed its record
// count or module), so memory keeps agreeing with the table.
func (s *userState) refresh(ev *Event, n needs) {
	for i := range s.recent {
		if s.recent[i].id == ev.ID {
			s.recent[i] = entryOf(ev)
		}
	}
	if n.moduleDays > 0 && ev.Module != "" {
		seen(s.modules, ev.Module, ev.OccurredAt)
	}
	if n.ipDays > 0 && ev.IP != "" {
		seen(s.ips, ev.IP, ev.OccurredAt)
	}
}

func entryOf(ev *Event) entry {
	e := entry{id: ev.ID, at: ev.OccurredAt, typ: ev.Type, module: ev.Module}
	if ev.RecordCount != nil && *ev.RecordCount > 0 {
		e.records = *ev.RecordCount
	}
	return e
}

func seen(m map[string]time.Time, key string, at time.Time) {
	k := strings.ToLower(key)
	if last, ok := m[k]; !ok || at.After(last) {
		m[k] = at
	}
}

// trim drops keys last seen before cut and returns the new "complete
// from" instant.
func trim(m map[string]time.Time, from, cut time.Time) time.Time {
	if !cut.After(from) {
		return from
	}
	for k, at := range m {
		if at.Before(cut) {
			delete(m, k)
		}
	}
	return cut
}

// loadState reads from dxt_event what the rules need to know of ev's user
// before ev: events with a smaller id (ingest order), because rows of the
// same batch may already be in the table (ev itself included) and must
// count only once they are evaluated.
func loadState(ctx context.Context, q tracker.Querier, ev *Event, n needs) (*userState, error) {
	s := &userState{key: userKey(ev.UserName), lastID: ev.ID - 1, addsLeft: 256,
		modules: map[string]time.Time{}, ips: map[string]time.Time{}}
	t := ev.OccurredAt
	if n.window > 0 {
		s.recFrom = t.Add(-n.window - windowSlack)
	}
	if n.moduleDays > 0 || n.ipDays > 0 {
		s.modFrom = t.AddDate(0, 0, -n.moduleDays).Add(-daysSlack)
		s.ipFrom = t.AddDate(0, 0, -n.ipDays).Add(-daysSlack)
	}
	if n.any() {
		if err := s.load(ctx, q, ev, n); err != nil {
			return nil, err
		}
	}
	s.hasHistory = len(s.recent) > 0 || len(s.modules) > 0 || len(s.ips) > 0
	if !s.hasHistory && n.history {
		err := q.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM dxt_event WHERE user_name = ? AND id < ?)`,
			ev.UserName, ev.ID).Scan(&s.hasHistory)
		if err != nil {
			return nil, fmt.Errorf("rules: does %s have earlier events: %w", ev.UserName, err)
		}
	}
	for _, e := range s.recent {
		if e.at.After(s.tmax) {
			s.tmax = e.at
		}
	}
	return s, nil
}

// load reads, in one round trip, the user's events in the longest velocity
// window and the latest time of each module and IP before ev (id < ev.ID).
// The UNION ALL has up to four parts, told apart by the first column:
//
//   - 'e': the user's rows from the window's start, or from ev's time when
//     there is no velocity rule (range of dxt_event_user): the window's
//     events, and the edge rows at or after ev's time;
//   - 'l': rows from ev's id on that are older than ev (primary key: the
//     rest of the batch being ingested, ev itself; few);
//   - 'm' and 'i': per module and per IP, the latest time from the
//     look-back's start to ev's time, answered by loose index scans of
//     dxt_event_user_module and dxt_event_user_ip ("Using index for
//     group-by": two index dives per distinct value the user ever had,
//     however many rows). MariaDB uses a loose scan only when the GROUP BY starts
//     at the index's first column and that column is not a constant, hence
//     the user as a range (equal under the collation, as user_name = ? is)
//     and GROUP BY user_name, module. A loose scan can bound the time but
//     not the id, so it reads times before ev's only; the rows at or after
//     ev's time come from 'e', and the 'l' rows it may have counted are
//     checked again here.
func (s *userState) load(ctx context.Context, q tracker.Querier, ev *Event, n needs) error {
	t := ev.OccurredAt
	// The server compares occurred_at, DATETIME(6), with a time truncated
	// to the microsecond; tm is ev's time as the server sees it.
	tm := dbTime(t)
	lastSeen := n.moduleDays > 0 || n.ipDays > 0
	from := tm
	if n.window > 0 {
		from = dbTime(s.recFrom)
	}
	parts := []string{`(SELECT 'e', id, occurred_at, type, module, ip, record_count FROM dxt_event USE INDEX (dxt_event_user)
  WHERE user_name = ? AND occurred_at >= ?)`}
	args := []any{ev.UserName, from}
	if lastSeen {
		parts = append(parts, `(SELECT 'l', id, occurred_at, NULL, module, ip, NULL FROM dxt_event USE INDEX (PRIMARY)
  WHERE id >= ? AND user_name = ? AND occurred_at < ?)`)
		args = append(args, ev.ID, ev.UserName, tm)
	}
	if n.moduleDays > 0 {
		parts = append(parts, `(SELECT 'm', NULL, MAX(occurred_at), NULL, module, NULL, NULL FROM dxt_event FORCE INDEX (dxt_event_user_module)
  WHERE user_name >= ? AND user_name <= ? AND module IS NOT NULL AND occurred_at >= ? AND occurred_at < ?
  GROUP BY user_name, module)`)
		args = append(args, ev.UserName, ev.UserName, dbTime(s.modFrom), tm)
	}
	if n.ipDays > 0 {
		parts = append(parts, `(SELECT 'i', NULL, MAX(occurred_at), NULL, NULL, ip, NULL FROM dxt_event FORCE INDEX (dxt_event_user_ip)
  WHERE user_name >= ? AND user_name <= ? AND ip IS NOT NULL AND occurred_at >= ? AND occurred_at < ?
  GROUP BY user_name, ip)`)
		args = append(args, ev.UserName, ev.UserName, dbTime(s.ipFrom), tm)
	}
	rows, err := q.QueryContext(ctx, strings.Join(parts, "\nUNION ALL\n"), args...)
	if err != nil {
		return fmt.Errorf("rules: load history of %s: %w", ev.UserName, err)
	}
	defer rows.Close()
	var edge, later []seenRow
	for rows.Next() {
		var (
			kind            string
			id              sql.Null[uint64]
			at              time.Time
			typ, module, ip sql.NullString
			records         sql.NullInt64
		)
		if err := rows.Scan(&kind, &id, &at, &typ, &module, &ip, &records); err != nil {
			return fmt.Errorf("rules: load history of %s: %w", ev.UserName, err)
		}
		r := seenRow{id: id.V, module: module.String, ip: ip.String, at: at}
		switch kind {
		case "m":
			seen(s.modules, r.module, at)
		case "i":
			seen(s.ips, r.ip, at)
		case "l":
			later = append(later, r) // counted by the loose scan but not before ev
		case "e":
			if r.id >= ev.ID {
				// Not before ev. Older than ev and not an 'l' row: ev's
				// time has a fraction of a microsecond the table has not.
				if lastSeen && !at.Before(tm) && at.Before(t) {
					later = append(later, r)
				}
				continue
			}
			if n.window > 0 && at.After(s.recFrom) {
				e := entry{id: r.id, at: at, typ: typ.String, module: r.module}
				if records.Int64 > 0 {
					e.records = records.Int64
				}
				s.recent = append(s.recent, e)
			}
			if lastSeen && !at.Before(tm) {
				edge = append(edge, r)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rules: load history of %s: %w", ev.UserName, err)
	}
	slices.SortFunc(s.recent, func(a, b entry) int { return cmp.Compare(a.id, b.id) })
	for _, r := range edge {
		s.note(r.module, r.ip, r.at, n)
	}
	for _, r := range later {
		if err := s.recheck(ctx, q, ev, "module", r.module, s.modules, s.modFrom, r.at); err != nil {
			return err
		}
		if err := s.recheck(ctx, q, ev, "ip", r.ip, s.ips, s.ipFrom, r.at); err != nil {
			return err
		}
	}
	return nil
}

// dbTime is t truncated to the microsecond, as MariaDB compares it with a
// DATETIME(6) column. Times are sent truncated: given more digits the
// server truncates them in a comparison, but a loose index scan then finds
// no row at all (MariaDB 10.11).
func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

type seenRow struct {
	id         uint64
	module, ip string
	at         time.Time
}

// note records a module and IP seen at at.
func (s *userState) note(module, ip string, at time.Time, n needs) {
	if n.moduleDays > 0 && module != "" && !at.Before(s.modFrom) {
		seen(s.modules, module, at)
	}
	if n.ipDays > 0 && ip != "" && !at.Before(s.ipFrom) {
		seen(s.ips, ip, at)
	}
}

// recheck reads again the latest time of one module (or IP) before ev when
// a row not before ev may have set it. Rare: it takes a batch row older
// than the event evaluated before it.
func (s *userState) recheck(ctx context.Context, q tracker.Querier, ev *Event, col, v string, m map[string]time.Time, from, at time.Time) error {
	k := strings.ToLower(v)
	last, ok := m[k]
	if v == "" || !ok || at.Before(last) {
		return nil
	}
	var again sql.NullTime
	// col is "module" or "ip", never user input.
	if err := q.QueryRowContext(ctx, `SELECT MAX(occurred_at) FROM dxt_event
WHERE user_name = ? AND `+col+` = ? AND occurred_at >= ? AND id < ?`, ev.UserName, v, from, ev.ID).Scan(&again); err != nil {
		return fmt.Errorf("rules: re-check %s %s for %s: %w", col, v, ev.UserName, err)
	}
	if again.Valid {
		m[k] = again.Time
	} else {
		delete(m, k)
	}
	return nil
}

// lru keeps at most cap users' states, dropping the least recently used.
type lru struct {
	cap   int
	order *list.List // front = most recent; values are *userState
	byKey map[string]*userState
}

func newLRU(capacity int) *lru {
	return &lru{cap: capacity, order: list.New(), byKey: map[string]*userState{}}
}

func (l *lru) get(key string) *userState {
	s := l.byKey[key]
	if s != nil {
		l.order.MoveToFront(s.elem)
	}
	return s
}

func (l *lru) put(s *userState) {
	if old := l.byKey[s.key]; old != nil {
		l.order.Remove(old.elem)
	}
	s.elem = l.order.PushFront(s)
	l.byKey[s.key] = s
	for l.order.Len() > l.cap {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.byKey, last.Value.(*userState).key)
	}
}

func (l *lru) len() int { return l.order.Len() }
