package rules_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// base is a Monday, 10:00 UTC.
var base = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// harness is a migrated database, a rule store and an engine over it.
type harness struct {
	t        *testing.T
	db       *sql.DB
	store    *rules.Store
	engine   *rules.Engine
	settings tracker.Settings
}

func newHarness(t *testing.T, opts ...rules.Option) *harness {
	t.Helper()
	db, err := sql.Open("mysql", sandboxtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	st := tracker.ParseSettings(nil)
	st.NotifyMinRecords = 1000
	return &harness{t: t, db: db, store: rules.NewStore(db, nil), engine: rules.NewEngine(db, zerolog.Nop(), opts...), settings: st}
}

// rule creates a rule; params is its JSON.
func (h *harness) rule(name, kind, params string) rules.Rule {
	h.t.Helper()
	r, err := h.store.Create(context.Background(), rules.Spec{Name: name, Kind: kind, Params: []byte(params)}, "test")
	if err != nil {
		h.t.Fatalf("create rule %s: %v", name, err)
	}
	h.engine.Invalidate()
	return r
}

// ev is an event to insert; zero fields get defaults.
type ev struct {
	at      time.Time
	typ     string
	user    string
	module  string
	records int64 // -1 = unknown
	ip      string
	details map[string]any
}

var seq atomic.Int64

func (e ev) newEvent() tracker.NewEvent {
	if e.at.IsZero() {
		e.at = base
	}
	n := tracker.NewEvent{OccurredAt: e.at, Type: e.typ, Source: "probe", Details: e.details,
		DedupeKey: fmt.Sprintf("rulestest:%d", seq.Add(1))}
	if n.Type == "" {
		n.Type = tracker.TypeListviewExport
	}
	if e.user == "" {
		e.user = "jsmith"
	}
	if e.user != "-" {
		n.UserName = &e.user
	}
	if e.module == "" {
		e.module = "Contacts"
	}
	n.Module = &e.module
	if e.records >= 0 {
		n.RecordCount = &e.records
	}
	if e.ip != "" {
		n.IP = &e.ip
	}
	return n
}

// eval inserts e and evaluates it in one transaction, as ingest does, with
// engine eng (h.engine if nil).
func (h *harness) eval(eng *rules.Engine, e ev) []rules.Match {
	h.t.Helper()
	ctx := context.Background()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer tx.Rollback()
	ne := e.newEvent()
	id, _, err := tracker.InsertEvent(ctx, tx, ne)
	if err != nil {
		h.t.Fatal(err)
	}
	if eng == nil {
		eng = h.engine
	}
	ms, err := eng.Evaluate(ctx, tx, rules.EventFromNew(id, ne), h.settings)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		h.t.Fatal(err)
	}
	return ms
}

// names lists the names of the matched rules, for comparisons.
func names(ms []rules.Match) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, ",")
}

func has(ms []rules.Match, name string) (rules.Match, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return rules.Match{}, false
}
