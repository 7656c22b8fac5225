package ingest_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

type env struct {
	t   *testing.T
	ctx context.Context
	db  *sql.DB
	p   *ingest.Processor
	now time.Time
}

// newEnv gives a migrated Vtiger database and a processor on it.
func newEnv(t *testing.T) *env {
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
	e := &env{t: t, ctx: ctx, db: db, now: time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)}
	e.p = ingest.New(db, vtiger.NewDirectory(db, zerolog.Nop()), zerolog.Nop(), ingest.Options{Now: func() time.Time { return e.now }})
	if _, err := e.p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

type intake struct {
	Kind        string
	OccurredAt  time.Time
	UserID      any
	Module      any
	RecordCount any
	ClientIP    any
	UserAgent   any
	Details     any
	ContentName any
	ContentType any
	Content     []byte // split into 1 MiB chunks
	DeclaredSHA string // "" = the real one
}

// writeIntake writes one intake row and its chunks in one transaction, as
// the probe does, and returns its id.
func (e *env) writeIntake(in intake) uint64 {
	e.t.Helper()
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	if in.OccurredAt.IsZero() {
		in.OccurredAt = e.now
	}
	var size, sum any
	if in.Content != nil {
		h := sha256.Sum256(in.Content)
		size, sum = len(in.Content), hex.EncodeToString(h[:])
		if in.DeclaredSHA != "" {
			sum = in.DeclaredSHA
		}
	}
	res, err := tx.ExecContext(e.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, user_agent, details, content_name, content_type, content_size, content_sha256)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, in.Kind, in.OccurredAt, in.UserID, in.Module, in.RecordCount, in.ClientIP, in.UserAgent, in.Details, in.ContentName, in.ContentType, size, sum)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	for seq, off := 0, 0; off < len(in.Content); seq, off = seq+1, off+tracker.ChunkSize {
		end := min(off+tracker.ChunkSize, len(in.Content))
		if _, err := tx.ExecContext(e.ctx, `INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?,?,?)`, id, seq, in.Content[off:end]); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return uint64(id)
}

// insertChange is the binlog's view of an intake insert.
func insertChange(id uint64) binlog.RowChange {
	return binlog.RowChange{Table: "dxt_intake", Action: binlog.Insert, After: binlog.Row{"id": int64(id)}}
}

var posSeq uint32

func (e *env) apply(txns ...binlog.Txn) {
	e.t.Helper()
	posSeq += 100
	if err := e.p.ApplyBatch(e.ctx, binlog.Batch{Txns: txns, End: binlog.Position{File: "binlog.000001", Pos: posSeq}}); err != nil {
		e.t.Fatal(err)
	}
}

func txn(at time.Time, changes ...binlog.RowChange) binlog.Txn {
	return binlog.Txn{Changes: changes, Timestamp: at}
}

func (e *env) events(f tracker.EventFilter) []tracker.Event {
	e.t.Helper()
	f.Limit = 1000
	evs, _, err := tracker.ListEvents(e.ctx, e.db, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) content(ev tracker.Event) ([]byte, tracker.ContentMeta) {
	e.t.Helper()
	var id uint64
	if err := e.db.QueryRowContext(e.ctx, `SELECT content_id FROM dxt_event WHERE id = ?`, ev.ID).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	r, meta, err := tracker.OpenContent(e.ctx, e.db, id)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return b, meta
}

func details(t *testing.T, ev tracker.Event) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(ev.Details, &m); err != nil {
		t.Fatalf("details %s: %v", ev.Details, err)
	}
	return m
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
