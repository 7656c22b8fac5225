package ingest_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// TestRealVtiger8DatabaseExportAndDelivery runs the processor against the
// dump of a real Vtiger 8.0.0 installation.
func TestRealVtiger8DatabaseExportAndDelivery(t *testing.T) {
	dump := filepath.Join(sandboxtest.FixturesDir(t), "vtiger8-fixture.sql.gz")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := sandboxtest.Server(t)
	dsn := sandboxtest.NewDatabase(t)
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.LoadSQLGzipFile(ctx, srv, mc.DBName, dump); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	e := &env{t: t, ctx: ctx, db: db, now: now}
	e.p = ingest.New(db, vtiger.NewDirectory(db, zerolog.Nop()), zerolog.Nop(), ingest.Options{})
	if _, err := e.p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	id := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 50, Content: []byte("x\n")})
	var prev time.Time
	if err := db.QueryRowContext(ctx, `SELECT next_trigger_time FROM vtiger_schedulereports WHERE reportid = 26`).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	e.apply(txn(now, insertChange(id)), txn(prev.Add(time.Minute), deliveryChange(prev, prev.Add(24*time.Hour))))

	evs := e.events(tracker.EventFilter{})
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	for _, ev := range evs {
		switch ev.Type {
		case tracker.TypeListviewExport:
			if str(ev.UserName) != "jsmith" {
				t.Errorf("export event %+v", ev)
			}
			if d := details(t, ev); d["warnings"] != nil {
				t.Errorf("real schema produced warnings: %v", d["warnings"])
			}
		case tracker.TypeScheduledReport:
			d := details(t, ev)
			if d["report_name"] != "Lab Contacts Export Report" || len(d["recipients"].([]any)) < 3 {
				t.Errorf("delivery details %v", d)
			}
		}
	}
}
