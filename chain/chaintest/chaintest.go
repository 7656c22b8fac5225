// Package chaintest builds tamper-evidence chains through the real
// processor on a private MariaDB, for the tests of chain and of the verify
// command.
package chaintest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the driver of the test databases
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/alerting"
	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/chain"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// Env is a migrated Vtiger database with a processor wired as the daemon
// wires it: alerting (rules write details.rules) and then the chain hook.
type Env struct {
	T    testing.TB
	Ctx  context.Context
	DB   *sql.DB
	DSN  string
	Hook *chain.Hook
	Proc *ingest.Processor
	Now  time.Time
	pos  uint32
}

// New returns an Env with a started processor.
func New(t testing.TB) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)
	dsn := sandboxtest.NewVtigerDatabase(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Ctx: ctx, DB: db, DSN: dsn, Now: time.Now().UTC().Truncate(time.Second)}
	e.Restart()
	return e
}

// Restart builds a new hook and processor, as a restarted daemon does, and
// starts them.
func (e *Env) Restart() {
	e.T.Helper()
	e.Hook = chain.New(e.DB, zerolog.Nop())
	if err := e.Hook.Start(e.Ctx); err != nil {
		e.T.Fatal(err)
	}
	engine := rules.NewEngine(e.DB, zerolog.Nop())
	var proc *ingest.Processor
	alerts := alerting.New(engine, func() tracker.Settings { return proc.Settings() }, nil, zerolog.Nop())
	proc = ingest.New(e.DB, vtiger.NewDirectory(e.DB, zerolog.Nop()), zerolog.Nop(),
		e.Hook.Options(alerts.Options(ingest.Options{Now: func() time.Time { return e.Now }})))
	if _, err := proc.Start(e.Ctx); err != nil {
		e.T.Fatal(err)
	}
	e.Proc = proc
}

// Intake is one dxt_intake row to write.
type Intake struct {
	Kind        string
	OccurredAt  time.Time // zero: Env.Now
	UserID      any
	Module      any
	RecordCount any
	ClientIP    any
	Details     any
	ContentName any
	Content     []byte
}

// WriteIntake writes an intake row and its chunks as the probe does.
func (e *Env) WriteIntake(in Intake) uint64 {
	e.T.Helper()
	tx, err := e.DB.BeginTx(e.Ctx, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if in.OccurredAt.IsZero() {
		in.OccurredAt = e.Now
	}
	var size, sum any
	if in.Content != nil {
		h := sha256.Sum256(in.Content)
		size, sum = len(in.Content), hex.EncodeToString(h[:])
	}
	res, err := tx.ExecContext(e.Ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name, content_type, content_size, content_sha256)
VALUES (?,?,?,?,?,?,'Mozilla/5.0',?,?,'text/csv',?,?)`, in.Kind, in.OccurredAt, in.UserID, in.Module, in.RecordCount, in.ClientIP, in.Details, in.ContentName, size, sum)
	if err != nil {
		e.T.Fatal(err)
	}
	id, _ := res.LastInsertId()
	for seq, off := 0, 0; off < len(in.Content); seq, off = seq+1, off+tracker.ChunkSize {
		end := min(off+tracker.ChunkSize, len(in.Content))
		if _, err := tx.ExecContext(e.Ctx, `INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?,?,?)`, id, seq, in.Content[off:end]); err != nil {
			e.T.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		e.T.Fatal(err)
	}
	return uint64(id)
}

// Apply hands the processor one batch.
func (e *Env) Apply(txns ...binlog.Txn) {
	e.T.Helper()
	e.pos += 100
	if err := e.Proc.ApplyBatch(e.Ctx, binlog.Batch{Txns: txns, End: binlog.Position{File: "binlog.000001", Pos: e.pos}}); err != nil {
		e.T.Fatal(err)
	}
}

// Txn is one binlog transaction.
func Txn(at time.Time, changes ...binlog.RowChange) binlog.Txn {
	return binlog.Txn{Changes: changes, Timestamp: at}
}

// InsertChange is the binlog's view of an intake insert.
func InsertChange(id uint64) binlog.RowChange {
	return binlog.RowChange{Table: "dxt_intake", Action: binlog.Insert, After: binlog.Row{"id": int64(id)}}
}

// DeliveryChange is the cron's UPDATE of report 26's schedule.
func DeliveryChange(prev, next time.Time) binlog.RowChange {
	row := func(t time.Time) binlog.Row {
		return binlog.Row{
			"reportid": int32(26), "scheduleid": int8(1), "recipients": []byte(`["USER::1","USER::5"]`),
			"schdate": nil, "schtime": "09:00:00", "schdayoftheweek": nil, "schdayofthemonth": nil, "schannualdates": nil,
			"specificemails": `"reports@example.com,boss@partner.example.org"`, "next_trigger_time": t.UTC().Format("2006-01-02 15:04:05"),
			"fileformat": "CSV",
		}
	}
	return binlog.RowChange{Table: "vtiger_schedulereports", Action: binlog.Update, Before: row(prev), After: row(next)}
}

// Scenario writes the mix of the tracking log through the processor:
// exports with files, a report export, copies (a repeat in a later batch
// merged into the earlier event, two identical copies in one batch
// coalesced), a scheduled report captured by the probe and merged with
// the binlog's delivery, and an export after the merges. It returns the
// number of events it made (8).
func (e *Env) Scenario() int {
	e.T.Helper()
	now := e.Now
	a := e.WriteIntake(Intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 3, ClientIP: "10.0.0.5",
		Details: `{"mode":"ExportAllData","viewname":"All"}`, ContentName: "Contacts.csv", Content: []byte("name\nA\nB\nC\n")})
	b := e.WriteIntake(Intake{Kind: tracker.TypeReportExport, UserID: 1, Module: "Contacts", RecordCount: 50, ClientIP: "10.0.0.1",
		Details: `{"report_id":26,"format":"CSV","price":1.50}`, ContentName: "Report.csv", Content: []byte("r\n1\n")})
	c := e.WriteIntake(Intake{Kind: tracker.TypeCopy, UserID: 5, Module: "Accounts", RecordCount: 1, ClientIP: "10.0.0.5",
		Details: `{"via":"beacon","action":"copy","chars":5}`, ContentName: "copy.txt", Content: []byte("hello")})
	e.Apply(Txn(now, InsertChange(a), InsertChange(b), InsertChange(c)))

	// The same text again a second later, in its own batch: merged into c's event.
	c2 := e.WriteIntake(Intake{Kind: tracker.TypeCopy, OccurredAt: now.Add(time.Second), UserID: 5, Module: "Accounts", RecordCount: 1,
		ClientIP: "10.0.0.5", Details: `{"via":"beacon","action":"copy","chars":5}`, ContentName: "copy.txt", Content: []byte("hello")})
	e.Apply(Txn(now.Add(time.Second), InsertChange(c2)))

	// Two identical copies in one batch: one event.
	d1 := e.WriteIntake(Intake{Kind: tracker.TypeCopy, OccurredAt: now.Add(2 * time.Second), UserID: 1, Module: "Leads", RecordCount: 2,
		ClientIP: "10.0.0.1", Details: `{"via":"beacon","action":"copy"}`, ContentName: "copy.txt", Content: []byte("world")})
	d2 := e.WriteIntake(Intake{Kind: tracker.TypeCopy, OccurredAt: now.Add(2*time.Second + 500*time.Millisecond), UserID: 1, Module: "Leads",
		RecordCount: 2, ClientIP: "10.0.0.1", Details: `{"via":"beacon","action":"copy"}`, ContentName: "copy.txt", Content: []byte("world")})
	e.Apply(Txn(now.Add(3*time.Second), InsertChange(d1), InsertChange(d2)))

	// A scheduled report: the probe's capture first, then the cron's
	// schedule update, merged into one event.
	prev := now.Add(-time.Minute)
	s := e.WriteIntake(Intake{Kind: tracker.TypeScheduledReport, OccurredAt: now.Add(30 * time.Second), UserID: 1, Module: "Contacts",
		RecordCount: 50, Details: `{"report_id":26,"format":"CSV"}`, ContentName: "Lab Contacts Export Report.csv", Content: []byte("a\n1\n")})
	e.Apply(Txn(now.Add(30*time.Second), InsertChange(s)))
	e.Apply(Txn(now.Add(31*time.Second), DeliveryChange(prev, prev.Add(24*time.Hour))))

	// More exports after the merges.
	var ids []binlog.RowChange
	for i := 0; i < 3; i++ {
		ids = append(ids, InsertChange(e.WriteIntake(Intake{Kind: tracker.TypeListviewExport, OccurredAt: now.Add(time.Minute + time.Duration(i)*time.Second),
			UserID: 5, Module: "Leads", RecordCount: 10 + i, ClientIP: "10.0.0.5", Details: `{"mode":"ExportCurrentPage"}`,
			ContentName: "Leads.csv", Content: []byte("lead\n1\n")})))
	}
	e.Apply(Txn(now.Add(time.Minute), ids...))
	return 8
}

// Verify runs chain.Verify.
func (e *Env) Verify(opts chain.VerifyOptions) chain.Report {
	e.T.Helper()
	rep, err := chain.Verify(e.Ctx, e.DB, opts)
	if err != nil {
		e.T.Fatal(err)
	}
	return rep
}

// Exec runs a statement.
func (e *Env) Exec(q string, args ...any) {
	e.T.Helper()
	if _, err := e.DB.ExecContext(e.Ctx, q, args...); err != nil {
		e.T.Fatalf("%s: %v", q, err)
	}
}

// Int runs a query returning one number.
func (e *Env) Int(q string, args ...any) int64 {
	e.T.Helper()
	var n int64
	if err := e.DB.QueryRowContext(e.Ctx, q, args...).Scan(&n); err != nil {
		e.T.Fatalf("%s: %v", q, err)
	}
	return n
}
