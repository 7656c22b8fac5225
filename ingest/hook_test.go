package ingest_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// A BeforeCommit hook writes in the events' transaction: what it writes
// commits with them, and when it fails nothing of the batch commits.
func TestBeforeCommitWritesWithTheEventsAndItsFailureRollsTheBatchBack(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.ExecContext(e.ctx, `CREATE TABLE hook_seen (event_id BIGINT UNSIGNED PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	fail := true
	rollbacks := 0
	p := ingest.New(e.db, vtiger.NewDirectory(e.db, zerolog.Nop()), zerolog.Nop(), ingest.Options{
		BeforeCommit: func(ctx context.Context, tx *sql.Tx, created []ingest.Created) error {
			for _, c := range created {
				if c.EventID == 0 {
					return errors.New("created event without id")
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO hook_seen VALUES (?)`, c.EventID); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("hook refuses")
			}
			return nil
		},
		OnRollback: func() { rollbacks++ },
	})
	if _, err := p.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	id1 := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 3})
	id2 := e.writeIntake(intake{Kind: tracker.TypeCopy, UserID: 5, Module: "Contacts", RecordCount: 1})
	b := binlog.Batch{Txns: []binlog.Txn{txn(e.now, insertChange(id1), insertChange(id2))}, End: binlog.Position{File: "binlog.000001", Pos: 4242}}

	if err := p.ApplyBatch(e.ctx, b); err == nil {
		t.Fatal("ApplyBatch succeeded although the hook failed")
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 0 || rollbacks != 1 {
		t.Fatalf("after a failing hook: %d events, %d rollbacks; want 0 and 1", n, rollbacks)
	}
	if n := e.count(`SELECT COUNT(*) FROM hook_seen`); n != 0 {
		t.Fatalf("the hook's writes survived the rollback: %d rows", n)
	}

	fail = false
	if err := p.ApplyBatch(e.ctx, b); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT COUNT(*) FROM hook_seen h JOIN dxt_event ev ON ev.id = h.event_id`); n != 2 {
		t.Fatalf("hook saw %d of the 2 committed events", n)
	}
}
