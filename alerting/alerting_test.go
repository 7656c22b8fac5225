package alerting_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/alerting"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

type env struct {
	t      *testing.T
	ctx    context.Context
	db     *sql.DB
	p      *ingest.Processor
	engine *rules.Engine
	woken  int
	pos    uint32
}

func newEnv(t *testing.T, config map[string]string) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	db, err := sql.Open("mysql", sandboxtest.NewVtigerDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if len(config) > 0 {
		if _, err := tracker.WriteConfig(ctx, db, config); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, ctx: ctx, db: db, engine: rules.NewEngine(db, zerolog.Nop())}
	var p *ingest.Processor
	hook := alerting.New(e.engine, func() tracker.Settings { return p.Settings() }, func() { e.woken++ }, zerolog.Nop())
	p = ingest.New(db, vtiger.NewDirectory(db, zerolog.Nop()), zerolog.Nop(), hook.Options(ingest.Options{}))
	if _, err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.p = p
	return e
}

// take writes an intake row and hands it to the processor as the binlog would.
func (e *env) take(kind string, userID, records int) uint64 {
	e.t.Helper()
	res, err := e.db.ExecContext(e.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip)
VALUES (?, UTC_TIMESTAMP(6), ?, 'Contacts', ?, '192.0.2.7')`, kind, userID, records)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	e.pos += 100
	err = e.p.ApplyBatch(e.ctx, binlog.Batch{Txns: []binlog.Txn{{Timestamp: time.Now().UTC(), Changes: []binlog.RowChange{
		{Table: "dxt_intake", Action: binlog.Insert, After: binlog.Row{"id": id}}}}}, End: binlog.Position{File: "binlog.000001", Pos: e.pos}})
	if err != nil {
		e.t.Fatal(err)
	}
	var ev uint64
	if err := e.db.QueryRowContext(e.ctx, `SELECT event_id FROM dxt_intake WHERE id = ?`, id).Scan(&ev); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) ruleNames(eventID uint64) []string {
	e.t.Helper()
	ev, ok, err := tracker.GetEvent(e.ctx, e.db, eventID)
	if err != nil || !ok {
		e.t.Fatalf("event %d: %v %v", eventID, ok, err)
	}
	var d struct {
		Rules []struct{ Name string } `json:"rules"`
	}
	_ = json.Unmarshal(ev.Details, &d)
	var out []string
	for _, r := range d.Rules {
		out = append(out, r.Name)
	}
	return out
}

func TestExportAtTheThresholdIsRecordedAndQueuedForEveryAdminInItsTransaction(t *testing.T) {
	e := newEnv(t, map[string]string{tracker.KeyNotifyAdminEmail: "sec@example.com,boss@example.com", tracker.KeyNotifyMinRecords: "1000"})
	small := e.take(tracker.TypeListviewExport, 5, 999)
	big := e.take(tracker.TypeListviewExport, 5, 3120)
	copied := e.take(tracker.TypeCopy, 5, 5000)

	if got := e.ruleNames(big); len(got) != 1 || got[0] != "default" {
		t.Fatalf("rules on the 3,120-record export: %v, want [default]", got)
	}
	if got := e.ruleNames(small); len(got) != 0 {
		t.Fatalf("rules on the 999-record export: %v, want none", got)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_outbox WHERE event_id = ? AND channel = 'email'`, big); n != 2 {
		t.Fatalf("%d outbox rows for the big export, want one per admin (2)", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_outbox WHERE event_id IN (?, ?)`, small, copied); n != 0 {
		t.Fatalf("%d outbox rows for the small export and the copy, want 0 (copies are logged without mail)", n)
	}
	if e.woken == 0 {
		t.Fatal("the worker was not woken after the commit")
	}
}

func TestWatchlistRuleNotifiesEvenACopy(t *testing.T) {
	e := newEnv(t, map[string]string{tracker.KeyNotifyAdminEmail: "sec@example.com", tracker.KeyNotifyMinRecords: "1000"})
	if _, err := rules.NewStore(e.db, nil).Create(e.ctx, rules.Spec{Name: "leaver", Kind: rules.KindWatchlist,
		Params: json.RawMessage(`{"users":["jsmith"]}`), Severity: "high"}, "test"); err != nil {
		t.Fatal(err)
	}
	e.engine.Invalidate()
	copied := e.take(tracker.TypeCopy, 5, 3)
	if got := e.ruleNames(copied); len(got) != 1 || got[0] != "leaver" {
		t.Fatalf("rules on jsmith's copy: %v, want [leaver]", got)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_outbox WHERE event_id = ?`, copied); n != 1 {
		t.Fatalf("%d outbox rows for the watched user's copy, want 1", n)
	}
}

func TestNoAddressMeansLogOnly(t *testing.T) {
	e := newEnv(t, nil)
	big := e.take(tracker.TypeListviewExport, 5, 3120)
	if got := e.ruleNames(big); len(got) != 1 {
		t.Fatalf("rules: %v, want the default rule recorded", got)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_outbox`); n != 0 {
		t.Fatalf("%d outbox rows without an address, want 0", n)
	}
}
