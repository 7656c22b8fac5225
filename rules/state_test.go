package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/tracker"
)

// statefulRules are one rule of each kind that needs history.
func statefulRules(h *harness) {
	h.rule("fast", "velocity", `{"window": "1h", "min": 1000}`)
	h.rule("many", "velocity", `{"measure": "events", "window": "2h", "min": 4}`)
	h.rule("first", "first_time", `{"days": 30}`)
	h.rule("new ip", "new_ip", `{"days": 30}`)
}

// script is a mixed history of two users over a few hours.
func script() []ev {
	var out []ev
	ips := []string{"192.0.2.1", "192.0.2.1", "198.51.100.7", "192.0.2.1"}
	mods := []string{"Contacts", "Contacts", "Accounts", "Leads", "Contacts"}
	for i := range 24 {
		user := "jsmith"
		if i%3 == 2 {
			user = "mary"
		}
		at := base.Add(time.Duration(i) * 9 * time.Minute)
		module, ip := mods[i%len(mods)], ips[i%len(ips)]
		if i >= 12 {
			// The second half starts after a quiet afternoon, from new
			// places: windows refill, modules and IPs are new again.
			at = at.Add(5 * time.Hour)
			if i%4 == 0 {
				module, ip = "Potentials", "203.0.113.5"
			}
		}
		out = append(out, ev{at: at, user: user, module: module, ip: ip, records: int64(150 + 40*i)})
	}
	return out
}

func TestRestartedEngineReachesTheSameDecisions(t *testing.T) {
	h := newHarness(t)
	statefulRules(h)
	events := script()
	half := len(events) / 2
	for _, e := range events[:half] {
		h.eval(nil, e)
	}
	// A new engine over the same database: the daemon after a restart.
	// Both decide every later event; they must agree on each.
	restarted := rules.NewEngine(h.db, zerolog.Nop())
	matchedStateful := 0
	for i, e := range events[half:] {
		ctx := context.Background()
		tx, err := h.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ne := e.newEvent()
		id, _, err := tracker.InsertEvent(ctx, tx, ne)
		if err != nil {
			t.Fatal(err)
		}
		old, err1 := h.engine.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		fresh, err2 := restarted.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if names(old) != names(fresh) {
			t.Errorf("event %d: running engine %q, restarted engine %q", half+i, names(old), names(fresh))
		}
		for _, m := range old {
			if m.Kind != "default" {
				matchedStateful++
			}
		}
	}
	if matchedStateful == 0 {
		t.Error("the script matched no stateful rule after the restart: the test proves nothing")
	}
	if st := restarted.Stats(); st.ColdLoads != 2 {
		t.Errorf("restarted engine loaded users %d times, want 2 (once per user)", st.ColdLoads)
	}
}

func TestAbortDropsStateOfARolledBackTransaction(t *testing.T) {
	h := newHarness(t)
	h.rule("fast", "velocity", `{"window": "1h", "min": 1000}`)
	ctx := context.Background()
	h.eval(nil, ev{at: base, records: 600})
	// A batch that rolls back: its 600 records must not stay counted.
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ne := ev{at: base.Add(time.Minute), records: 600}.newEvent()
	id, _, err := tracker.InsertEvent(ctx, tx, ne)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := h.engine.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := has(ms, "fast"); !ok {
		t.Fatal("the rolled-back event should have crossed the bound")
	}
	tx.Rollback()
	h.engine.Abort()
	// The replay of the same take-out crosses again: memory forgot the
	// rolled-back one.
	if _, ok := has(h.eval(nil, ev{at: base.Add(time.Minute), records: 600}), "fast"); !ok {
		t.Error("after Abort the replayed event did not cross the bound")
	}
}

func TestRowsOfTheSameBatchCountOnlyOnceEvaluated(t *testing.T) {
	h := newHarness(t)
	h.rule("fast", "velocity", `{"window": "1h", "min": 1000}`)
	h.rule("new ip", "new_ip", `{"days": 30}`)
	h.rule("first", "first_time", `{"days": 30}`)
	h.eval(nil, ev{at: base.Add(-48 * time.Hour), ip: "192.0.2.1", module: "Leads", records: 1})
	// Ingest inserts a batch with one statement, then evaluates each row.
	ctx := context.Background()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	batch := []ev{
		{at: base, ip: "198.51.100.7", records: 400},
		{at: base.Add(time.Minute), ip: "198.51.100.7", records: 400},
		{at: base.Add(2 * time.Minute), ip: "198.51.100.7", records: 400},
	}
	var nes []tracker.NewEvent
	for _, e := range batch {
		nes = append(nes, e.newEvent())
	}
	if err := tracker.InsertEvents(ctx, tx, nes); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ne := range nes {
		var id uint64
		if err := tx.QueryRow(`SELECT id FROM dxt_event WHERE dedupe_key = ?`, ne.DedupeKey).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ms, err := h.engine.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(ms))
	}
	want := []string{"new ip,first", "", "fast"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("decisions %q, want %q", got, want)
	}
}

func TestBoundedMemoryDecidesLikeUnbounded(t *testing.T) {
	h := newHarness(t)
	statefulRules(h)
	small := rules.NewEngine(h.db, zerolog.Nop(), rules.WithMaxUsers(1))
	ctx := context.Background()
	for i, e := range script() {
		tx, _ := h.db.BeginTx(ctx, nil)
		ne := e.newEvent()
		id, _, err := tracker.InsertEvent(ctx, tx, ne)
		if err != nil {
			t.Fatal(err)
		}
		a, err1 := h.engine.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		b, err2 := small.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		tx.Commit()
		if names(a) != names(b) {
			t.Errorf("event %d: %q with room for every user, %q with room for one", i, names(a), names(b))
		}
	}
	if st := small.Stats(); st.Users != 1 {
		t.Errorf("bounded engine holds %d users", st.Users)
	}
}

func TestMergedEventEvaluatedAgainCountsOnce(t *testing.T) {
	h := newHarness(t)
	h.rule("fast", "velocity", `{"window": "1h", "min": 1000}`)
	ctx := context.Background()
	// The binlog saw the delivery first: no record count yet.
	first := ev{at: base, typ: tracker.TypeScheduledReport, records: -1}
	h.eval(nil, first)
	var id uint64
	h.db.QueryRow(`SELECT MAX(id) FROM dxt_event`).Scan(&id)
	// The probe's capture merges in 800 records; ingest evaluates again.
	tx, _ := h.db.BeginTx(ctx, nil)
	if _, err := tx.Exec(`UPDATE dxt_event SET record_count = 800 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	merged, err := rules.LoadEvent(ctx, tx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.engine.Evaluate(ctx, tx, merged, h.settings); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	// 800 + 300 crosses 1,000 exactly once, for the running engine and a
	// restarted one alike.
	restarted := rules.NewEngine(h.db, zerolog.Nop())
	tx, _ = h.db.BeginTx(ctx, nil)
	ne := ev{at: base.Add(time.Minute), records: 300}.newEvent()
	nid, _, _ := tracker.InsertEvent(ctx, tx, ne)
	a, _ := h.engine.Evaluate(ctx, tx, rules.EventFromNew(nid, ne), h.settings)
	b, _ := restarted.Evaluate(ctx, tx, rules.EventFromNew(nid, ne), h.settings)
	tx.Commit()
	if _, ok := has(a, "fast"); !ok || names(a) != names(b) {
		t.Errorf("after the merge: running %q, restarted %q, want fast in both", names(a), names(b))
	}
}

func TestRuleChangesApplyAfterInvalidate(t *testing.T) {
	h := newHarness(t)
	h.eval(nil, ev{}) // rules loaded: none
	r, err := h.store.Create(context.Background(), rules.Spec{Name: "t", Kind: "threshold", Params: json.RawMessage(`{"min_records": 1}`)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := has(h.eval(nil, ev{records: 5}), "t"); ok {
		t.Error("a rule created without Invalidate applied before the cache expired")
	}
	h.engine.Invalidate()
	if _, ok := has(h.eval(nil, ev{records: 5}), "t"); !ok {
		t.Error("the new rule did not apply after Invalidate")
	}
	off := false
	if _, err := h.store.Update(context.Background(), r.ID, rules.Spec{Name: "t", Kind: "threshold", Enabled: &off, Params: json.RawMessage(`{"min_records": 1}`)}, ""); err != nil {
		t.Fatal(err)
	}
	h.engine.Invalidate()
	if _, ok := has(h.eval(nil, ev{records: 5}), "t"); ok {
		t.Error("a disabled rule matched")
	}
}

func TestRulesCacheExpiresWithoutInvalidate(t *testing.T) {
	now := base
	h := newHarness(t, rules.WithClock(func() time.Time { return now }), rules.WithRulesTTL(time.Minute))
	h.eval(nil, ev{})
	if _, err := h.store.Create(context.Background(), rules.Spec{Name: "t", Kind: "threshold", Params: json.RawMessage(`{"min_records": 1}`)}, ""); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, ok := has(h.eval(nil, ev{records: 5}), "t"); !ok {
		t.Error("the rule cache did not expire after its TTL")
	}
}

func TestRecordWritesMatchesIntoDetails(t *testing.T) {
	h := newHarness(t)
	h.eval(nil, ev{records: 5000})
	var id uint64
	h.db.QueryRow(`SELECT MAX(id) FROM dxt_event`).Scan(&id)
	ms := []rules.Match{{Name: "default", Kind: "default", Severity: "medium", Notify: true, Reason: "5,000 records"}}
	if err := rules.Record(context.Background(), h.db, id, ms); err != nil {
		t.Fatal(err)
	}
	var details string
	h.db.QueryRow(`SELECT details FROM dxt_event WHERE id = ?`, id).Scan(&details)
	var d struct {
		Rules []rules.Match `json:"rules"`
	}
	if err := json.Unmarshal([]byte(details), &d); err != nil || len(d.Rules) != 1 || d.Rules[0].Severity != "medium" {
		t.Errorf("details %s (%v)", details, err)
	}
}

func TestBatchRowOlderThanTheEventBeforeItIsNotCountedEarly(t *testing.T) {
	h := newHarness(t)
	h.rule("new ip", "new_ip", `{"days": 30}`)
	h.eval(nil, ev{at: base.Add(-time.Hour), ip: "192.0.2.1"})
	ctx := context.Background()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Ingest order differs from time order: the second row happened first.
	nes := []tracker.NewEvent{
		ev{at: base.Add(10 * time.Minute), ip: "198.51.100.7"}.newEvent(),
		ev{at: base, ip: "198.51.100.7"}.newEvent(),
	}
	if err := tracker.InsertEvents(ctx, tx, nes); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ne := range nes {
		var id uint64
		tx.QueryRow(`SELECT id FROM dxt_event WHERE dedupe_key = ?`, ne.DedupeKey).Scan(&id)
		ms, err := rules.NewEngine(h.db, zerolog.Nop()).Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(ms))
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{"new ip", ""}) {
		t.Errorf("decisions %q: the first-ingested row is the new IP, the second was seen", got)
	}
}
