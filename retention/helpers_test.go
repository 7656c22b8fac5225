package retention

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

// TestMain shares one MariaDB among the package's tests.
func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// testNow is the clock of most tests.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func migratedDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", sandboxtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func testLog(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
}

// settings are the defaults with retention_days and the batch size set.
func settings(days, batch int64) tracker.Settings {
	s := tracker.ParseSettings(nil)
	s.RetentionDays = days
	s.RetentionBatch = batch
	return s
}

var dedupe atomic.Int64

func insertEvent(t testing.TB, q tracker.Querier, at time.Time, contentID uint64) uint64 {
	t.Helper()
	e := tracker.NewEvent{OccurredAt: at, Type: tracker.TypeListviewExport, Source: tracker.SourceProbe,
		Details: map[string]any{"mode": "all"}, DedupeKey: fmt.Sprintf("test:%d", dedupe.Add(1))}
	if contentID != 0 {
		e.ContentID = &contentID
	}
	id, _, err := tracker.InsertEvent(context.Background(), q, e)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// insertContent stores n random (incompressible) bytes the way the daemon
// does and returns the content id.
func insertContent(t testing.TB, q tracker.Querier, name string, n int) uint64 {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	m, err := tracker.WriteContent(context.Background(), q, tracker.ContentInput{Name: name, MediaType: "text/csv"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func insertOutbox(t testing.TB, db *sql.DB, eventID uint64) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO dxt_outbox (dedupe_key, kind, channel, recipient, recipient_hash, event_id, state, next_attempt_at, created_at, updated_at)
VALUES (?, 'event', 'email', 'sec@example.com', SHA2('sec@example.com', 256), ?, 'sent', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))`,
		fmt.Sprintf("ob:%d", eventID), eventID); err != nil {
		t.Fatal(err)
	}
}

// insertIntake writes an intake row with one leftover chunk; processed nil
// means not processed yet.
func insertIntake(t testing.TB, db *sql.DB, at time.Time, processed *time.Time) uint64 {
	t.Helper()
	var p any
	if processed != nil {
		p = processed.UTC()
	}
	res, err := db.Exec(`INSERT INTO dxt_intake (kind, occurred_at, user_id, module, processed_at) VALUES ('listview_export', ?, 1, 'Contacts', ?)`, at.UTC(), p)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Exec(`INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?, 0, 'x')`, id); err != nil {
		t.Fatal(err)
	}
	return uint64(id)
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func exists(t testing.TB, db *sql.DB, table string, id uint64) bool {
	t.Helper()
	return count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id) == 1
}

func storedSize(t testing.TB, db *sql.DB, contentID uint64) int64 {
	t.Helper()
	return count(t, db, `SELECT stored_size FROM dxt_content WHERE id = ?`, contentID)
}

// auditRow is a dxt_purge row.
type auditRow struct {
	Kind                                                      string
	Cutoff, ConfiguredAt, MinAt, MaxAt, Finished              sql.NullTime
	Days, CapBytes                                            sql.NullInt64
	ConfiguredBy, Error                                       sql.NullString
	MinID, MaxID                                              sql.NullInt64
	Events, Updated, Contents, Bytes, Intake, Outbox, Batches int64
	Status                                                    string
}

func readAudit(t testing.TB, db *sql.DB, id uint64) auditRow {
	t.Helper()
	var a auditRow
	if err := db.QueryRow(`SELECT kind, cutoff, configured_at, min_occurred_at, max_occurred_at, finished_at, retention_days, content_cap_bytes,
  configured_by, error, min_event_id, max_event_id, events_deleted, events_updated, contents_deleted, content_bytes_deleted,
  intake_rows_deleted, outbox_rows_deleted, batches, status FROM dxt_purge WHERE id = ?`, id).Scan(
		&a.Kind, &a.Cutoff, &a.ConfiguredAt, &a.MinAt, &a.MaxAt, &a.Finished, &a.Days, &a.CapBytes,
		&a.ConfiguredBy, &a.Error, &a.MinID, &a.MaxID, &a.Events, &a.Updated, &a.Contents, &a.Bytes,
		&a.Intake, &a.Outbox, &a.Batches, &a.Status); err != nil {
		t.Fatal(err)
	}
	return a
}

// genSpec describes rows generate writes with INSERT ... SELECT from the
// MariaDB sequence engine (seq_1_to_N), fast enough for a million events.
type genSpec struct {
	Events       int           // events, Step apart from Start
	Start        time.Time     // occurred_at of the first event and intake row
	Step         time.Duration // whole seconds; 0 = 1s
	ContentEvery int           // every n-th event has a content with one 300-byte chunk (0: none)
	OutboxEvery  int           // every n-th event id has an outbox row (0: none)
	Intake       int           // processed intake rows, Step apart from Start
}

var genSeq atomic.Int64

func generate(t testing.TB, db *sql.DB, g genSpec) {
	t.Helper()
	const part = 100000
	step := max(1, int64(g.Step/time.Second))
	start := g.Start.UTC()
	tag := fmt.Sprintf("gen%d", genSeq.Add(1))
	exec := func(q string, args ...any) sql.Result {
		t.Helper()
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatalf("generate: %v\n%s", err, q)
		}
		return res
	}
	for off := 0; off < g.Events; off += part {
		n := min(part, g.Events-off)
		var base int64
		if g.ContentEvery > 0 && n/g.ContentEvery > 0 {
			nc := n / g.ContentEvery
			res := exec(fmt.Sprintf(`INSERT INTO dxt_content (name, media_type, size, sha256, stored_size, compression, chunk_count, truncated, created_at)
SELECT CONCAT('gen', seq, '.csv'), 'text/csv', 600, SHA2(seq, 256), 300, 'gzip', 1, 0, UTC_TIMESTAMP(6) FROM seq_1_to_%d`, nc))
			base, _ = res.LastInsertId()
			if got := count(t, db, `SELECT COUNT(*) FROM dxt_content WHERE id BETWEEN ? AND ?`, base, base+int64(nc)-1); got != int64(nc) {
				t.Fatalf("generate: content ids not contiguous (%d of %d)", got, nc)
			}
			exec(`INSERT INTO dxt_content_chunk (content_id, seq, data) SELECT id, 0, REPEAT('x', 300) FROM dxt_content WHERE id BETWEEN ? AND ?`, base, base+int64(nc)-1)
		}
		every := max(g.ContentEvery, 1)
		exec(fmt.Sprintf(`INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, user_agent, source, details, content_id, dedupe_key, created_at)
SELECT CAST(? AS DATETIME(6)) + INTERVAL (seq + ?) * ? SECOND, 'listview_export', 1, 'alice', 'Contacts', 10, '192.0.2.1', 'gen', 'probe', '{"mode":"all"}',
  IF(? > 0 AND seq %% ? = 0 AND seq DIV ? <= ?, ? + seq DIV ? - 1, NULL), CONCAT(?, ':', seq + ?), UTC_TIMESTAMP(6)
FROM seq_1_to_%d`, n), start, off-1, step, g.ContentEvery, every, every, n/every, base, every, tag, off)
	}
	if g.OutboxEvery > 0 {
		exec(`INSERT INTO dxt_outbox (dedupe_key, kind, channel, recipient, recipient_hash, event_id, state, next_attempt_at, created_at, updated_at)
SELECT CONCAT('ob:', id), 'event', 'email', 'sec@example.com', SHA2('sec@example.com', 256), id, 'sent', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)
FROM dxt_event WHERE dedupe_key LIKE ? AND id % ? = 0`, tag+":%", g.OutboxEvery)
	}
	for off := 0; off < g.Intake; off += part {
		n := min(part, g.Intake-off)
		exec(fmt.Sprintf(`INSERT INTO dxt_intake (kind, occurred_at, user_id, module, processed_at, process_note)
SELECT 'listview_export', CAST(? AS DATETIME(6)) + INTERVAL (seq + ?) * ? SECOND, 1, 'Contacts', CAST(? AS DATETIME(6)) + INTERVAL (seq + ?) * ? + 1 SECOND, 'gen'
FROM seq_1_to_%d`, n), start, off-1, step, start, off-1, step)
	}
}

// latencies collects durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) summary() (n int, p50, p99, maxd time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return len(s), s[len(s)/2], s[len(s)*99/100], s[len(s)-1]
}
