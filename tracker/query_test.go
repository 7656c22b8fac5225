package tracker

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

// TestMain shares one MariaDB among the package's tests.
func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// migratedDB is a fresh database with the tracker tables.
func migratedDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", sandboxtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// testEvent is a dxt_event row as tests insert it directly.
type testEvent struct {
	At          time.Time
	Type        string
	UserName    string
	Module      string
	IP          string
	RecordCount *int64
	ReportID    *int64
	ContentID   *uint64
	Notify      string
	Details     string
}

var seq int

func insertTestEvent(t testing.TB, db *sql.DB, e testEvent) uint64 {
	t.Helper()
	seq++
	if e.Type == "" {
		e.Type = TypeListviewExport
	}
	if e.Notify == "" {
		e.Notify = "none"
	}
	if e.Details == "" {
		e.Details = `{}`
	}
	res, err := db.Exec(`INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, user_agent, source, details, content_id, report_id, dedupe_key, notify_state, created_at)
VALUES (?, ?, 1, NULLIF(?, ''), NULLIF(?, ''), ?, NULLIF(?, ''), 'test-agent', 'probe', ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))`,
		e.At.UTC(), e.Type, e.UserName, e.Module, e.RecordCount, e.IP, e.Details, e.ContentID, e.ReportID, fmt.Sprintf("test:%d:%d", seq, time.Now().UnixNano()), e.Notify)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return uint64(id)
}

// insertTestContent stores data the way the daemon does (gzip, 1 MiB chunks).
func insertTestContent(t testing.TB, db *sql.DB, name, mediaType string, data []byte) uint64 {
	t.Helper()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	sum := sha256.Sum256(data)
	var chunks [][]byte
	for b := z.Bytes(); len(b) > 0; {
		n := min(len(b), ChunkSize)
		chunks = append(chunks, b[:n])
		b = b[n:]
	}
	res, err := db.Exec(`INSERT INTO dxt_content (name, media_type, size, sha256, stored_size, compression, chunk_count, truncated, created_at)
VALUES (?, ?, ?, ?, ?, 'gzip', ?, 0, UTC_TIMESTAMP(6))`, name, mediaType, len(data), hex.EncodeToString(sum[:]), z.Len(), len(chunks))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	for i, c := range chunks {
		if _, err := db.Exec(`INSERT INTO dxt_content_chunk (content_id, seq, data) VALUES (?, ?, ?)`, id, i, c); err != nil {
			t.Fatal(err)
		}
	}
	return uint64(id)
}

func i64(n int64) *int64 { return &n }

func TestListEventsPagesNewestFirstWithoutGapsOrDuplicates(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var want []uint64 // newest first
	// 237 events; many share a timestamp so the id tie-break is exercised,
	// and timestamps are inserted out of order.
	type ev struct {
		at time.Time
		id uint64
	}
	var all []ev
	for i := range 237 {
		at := base.Add(time.Duration((i*7919)%40) * time.Second).Add(time.Duration(i%3) * time.Microsecond)
		all = append(all, ev{at, insertTestEvent(t, db, testEvent{At: at})})
	}
	// expected order: occurred_at DESC, id DESC
	for len(all) > 0 {
		best := 0
		for i, e := range all {
			b := all[best]
			if e.at.After(b.at) || (e.at.Equal(b.at) && e.id > b.id) {
				best = i
			}
		}
		want = append(want, all[best].id)
		all = append(all[:best], all[best+1:]...)
	}

	var got []uint64
	cursor := ""
	pages := 0
	for {
		evs, next, err := ListEvents(ctx, db, EventFilter{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range evs {
			got = append(got, e.ID)
		}
		if next == "" {
			break
		}
		if len(evs) != 10 {
			t.Fatalf("page %d has %d events but a next cursor", pages, len(evs))
		}
		cursor = next
		// A new event arriving while paging must not shift later pages.
		if pages == 3 {
			insertTestEvent(t, db, testEvent{At: base.Add(time.Hour)})
		}
	}
	if pages != 24 {
		t.Errorf("pages = %d, want 24", pages)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged ids differ from occurred_at DESC, id DESC order\n got %v\nwant %v", got, want)
	}
}

func TestListEventsDefaultAndMaxLimit(t *testing.T) {
	_, _, limit, err := eventListQuery(EventFilter{})
	if err != nil || limit != DefaultEventLimit {
		t.Errorf("default limit = %d, %v", limit, err)
	}
	_, _, limit, _ = eventListQuery(EventFilter{Limit: 5000})
	if limit != MaxEventLimit {
		t.Errorf("limit 5000 capped to %d, want %d", limit, MaxEventLimit)
	}
}

func TestListEventsFilters(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a := insertTestEvent(t, db, testEvent{At: base, Type: TypeListviewExport, UserName: "admin", Module: "Contacts", IP: "10.0.0.1", RecordCount: i64(50)})
	b := insertTestEvent(t, db, testEvent{At: base.Add(time.Hour), Type: TypeReportExport, UserName: "jsmith", Module: "Contacts", IP: "10.0.0.2", RecordCount: i64(5), ReportID: i64(26)})
	c := insertTestEvent(t, db, testEvent{At: base.Add(2 * time.Hour), Type: TypeCopy, UserName: "jsmith", Module: "Leads", IP: "2001:db8::1"})
	d := insertTestEvent(t, db, testEvent{At: base.Add(24 * time.Hour), Type: TypeScheduledReport, Module: "Contacts", RecordCount: i64(1000), ReportID: i64(26)})
	from, to := base.Add(30*time.Minute), base.Add(24*time.Hour)

	for _, tc := range []struct {
		name string
		f    EventFilter
		want []uint64
	}{
		{"none", EventFilter{}, []uint64{d, c, b, a}},
		{"type", EventFilter{Type: TypeReportExport}, []uint64{b}},
		{"user", EventFilter{User: "jsmith"}, []uint64{c, b}},
		{"user is case-insensitive like Vtiger", EventFilter{User: "JSmith"}, []uint64{c, b}},
		{"module", EventFilter{Module: "Contacts"}, []uint64{d, b, a}},
		{"ip", EventFilter{IP: "2001:db8::1"}, []uint64{c}},
		{"from inclusive", EventFilter{From: &from}, []uint64{d, c, b}},
		{"to exclusive", EventFilter{To: &to}, []uint64{c, b, a}},
		{"from and to", EventFilter{From: &from, To: &to}, []uint64{c, b}},
		{"min records skips unknown counts", EventFilter{MinRecords: i64(5)}, []uint64{d, b, a}},
		{"min records", EventFilter{MinRecords: i64(51)}, []uint64{d}},
		{"report", EventFilter{ReportID: i64(26)}, []uint64{d, b}},
		{"combined", EventFilter{User: "jsmith", Module: "Contacts", MinRecords: i64(1)}, []uint64{b}},
		{"no match", EventFilter{Type: "nope"}, nil},
		{"injection is just a value", EventFilter{User: "x' OR '1'='1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, next, err := ListEvents(ctx, db, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, e := range evs {
				got = append(got, e.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || next != "" {
				t.Errorf("got %v next %q, want %v", got, next, tc.want)
			}
		})
	}
}

func TestListEventsRejectsMalformedCursor(t *testing.T) {
	db := migratedDB(t)
	good := encodeEventCursor(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 7)
	for _, c := range []string{
		"x", "!!!!", good + "A", good[:len(good)-1], strings.Repeat("A", 100),
		encodeEventCursor(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0), // id 0
		"__________________________________________",
		"AAAAAAAAAAAAAAAAAAAAAA", // year 1970 is fine, but id 0
		"gAAAAAAAAAAAAAAAAAAAAQ", // negative time
	} {
		_, _, err := ListEvents(context.Background(), db, EventFilter{Cursor: c})
		if !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
	if _, _, err := ListEvents(context.Background(), db, EventFilter{Cursor: good}); err != nil {
		t.Errorf("good cursor: %v", err)
	}
}

func TestEventCursorRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 4, 19, 24, 0, 123456000, time.UTC)
	gotAt, gotID, err := decodeEventCursor(encodeEventCursor(at, 1<<40+3))
	if err != nil || !gotAt.Equal(at) || gotID != 1<<40+3 {
		t.Fatalf("round trip: %v %d %v", gotAt, gotID, err)
	}
}

func TestGetEventShowsContentAndNotification(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	cid := insertTestContent(t, db, "Contacts.csv", "text/csv", []byte("a,b\n1,2\n"))
	at := time.Date(2026, 3, 1, 10, 11, 12, 345678000, time.UTC)
	id := insertTestEvent(t, db, testEvent{At: at, UserName: "admin", Module: "Contacts", ContentID: &cid, Notify: "sent",
		RecordCount: i64(2), Details: `{"mode":"all"}`})
	plain := insertTestEvent(t, db, testEvent{At: at, Details: "not json"})

	e, ok, err := GetEvent(ctx, db, id)
	if err != nil || !ok {
		t.Fatalf("GetEvent: %v %v", ok, err)
	}
	if !e.OccurredAt.Equal(at) || e.OccurredAt.Location() != time.UTC {
		t.Errorf("occurred_at = %v", e.OccurredAt)
	}
	if !e.HasContent || e.ContentName == nil || *e.ContentName != "Contacts.csv" || e.ContentSize == nil || *e.ContentSize != 8 {
		t.Errorf("content fields: %+v", e)
	}
	if !e.Notified || string(e.Details) != `{"mode":"all"}` || *e.RecordCount != 2 || e.IP != nil {
		t.Errorf("fields: %+v", e)
	}
	p, ok, err := GetEvent(ctx, db, plain)
	if err != nil || !ok || p.HasContent || p.ContentName != nil || p.Notified || string(p.Details) != `"not json"` {
		t.Errorf("plain event: %+v %v", p, err)
	}
	if _, ok, err := GetEvent(ctx, db, 999999); ok || err != nil {
		t.Errorf("missing event: ok=%v err=%v", ok, err)
	}
}

// seedEvents inserts n events quickly, spreading time, type, user, module,
// ip, report and record count. Rows come from MariaDB's Sequence engine
// (seq_1_to_N), which streams: no INSERT ... SELECT from dxt_event itself,
// whose internal temporary table would land in the server's tmpdir.
func seedEvents(t testing.TB, db *sql.DB, n int) {
	t.Helper()
	ctx := context.Background()
	const batch = 1 << 16
	for done := 0; done < n; done += batch {
		k := min(batch, n-done)
		_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, user_agent, source, details, report_id, dedupe_key, created_at)
SELECT TIMESTAMP'2026-01-01 00:00:00' - INTERVAL (n * 7) SECOND + INTERVAL (n %% 1000) MICROSECOND,
  ELT(1 + n %% 4, 'listview_export', 'report_export', 'scheduled_report', 'copy'),
  1 + n %% 50,
  CONCAT('user', n %% 50),
  ELT(1 + n %% 5, 'Contacts', 'Leads', 'Accounts', 'Potentials', 'HelpDesk'),
  IF(n %% 10 = 0, NULL, (n * 13) %% 5000),
  CONCAT('10.0.', n %% 200, '.', n %% 250),
  'seed', 'probe', '{}',
  IF(n %% 3 = 0, n %% 40, NULL),
  CONCAT('seed:', n), UTC_TIMESTAMP(6)
FROM (SELECT seq + ? AS n FROM seq_1_to_%d) s`, k), done)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE TABLE dxt_event`); err != nil {
		t.Fatal(err)
	}
}

func TestListEventsUsesEventIndexWithoutFilesort(t *testing.T) {
	db := migratedDB(t)
	seedEvents(t, db, 16384)
	from := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cursor := encodeEventCursor(time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC), 5000)
	for _, tc := range []struct {
		name string
		f    EventFilter
	}{
		{"none", EventFilter{}},
		{"type", EventFilter{Type: TypeCopy}},
		{"user", EventFilter{User: "user7"}},
		{"module", EventFilter{Module: "Leads"}},
		{"ip", EventFilter{IP: "10.0.7.7"}},
		{"from", EventFilter{From: &from}},
		{"to", EventFilter{To: &to}},
		{"min_records", EventFilter{MinRecords: i64(4000)}},
		{"report", EventFilter{ReportID: i64(7)}},
		{"type and user", EventFilter{Type: TypeCopy, User: "user7"}},
		{"everything", EventFilter{Type: TypeCopy, User: "user7", Module: "Leads", IP: "10.0.7.7", From: &from, To: &to, MinRecords: i64(1)}},
	} {
		for _, withCursor := range []bool{false, true} {
			f := tc.f
			name := tc.name
			if withCursor {
				f.Cursor, name = cursor, name+" after cursor"
			}
			t.Run(name, func(t *testing.T) {
				query, args, _, err := eventListQuery(f)
				if err != nil {
					t.Fatal(err)
				}
				plan := explain(t, db, query, args)
				t.Logf("e: %+v c: %+v", plan["e"], plan["c"])
				if !strings.HasPrefix(plan["e"].key, "dxt_event_") || plan["e"].key == "dxt_event_dedupe" {
					t.Errorf("dxt_event read with key %q, want a dxt_event_* paging index\n%v", plan["e"].key, plan)
				}
				for tbl, p := range plan {
					if strings.Contains(p.extra, "filesort") || strings.Contains(p.extra, "temporary") {
						t.Errorf("table %s: Extra %q", tbl, p.extra)
					}
				}
				if c := plan["c"]; c.typ != "eq_ref" {
					t.Errorf("dxt_content join type %q, want eq_ref", c.typ)
				}
			})
		}
	}
}

type planRow struct{ typ, key, extra string }

func explain(t *testing.T, db *sql.DB, query string, args []any) map[string]planRow {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	plan := map[string]planRow{}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			m[c] = vals[i].String
		}
		plan[m["table"]] = planRow{typ: m["type"], key: m["key"], extra: m["Extra"]}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// BenchmarkListEventsDeepPage shows that keyset pages cost the same at any
// depth: page 1 and a page 900,000 rows down a 1,000,000-row log.
func BenchmarkListEventsDeepPage(b *testing.B) {
	db := migratedDB(b)
	const rows = 1_000_000
	start := time.Now()
	seedEvents(b, db, rows)
	b.Logf("seeded %d events in %v", rows, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	var at time.Time
	var id uint64
	if err := db.QueryRowContext(ctx, `SELECT occurred_at, id FROM dxt_event ORDER BY occurred_at DESC, id DESC LIMIT 1 OFFSET 900000`).Scan(&at, &id); err != nil {
		b.Fatal(err)
	}
	deep := encodeEventCursor(at, id)
	for _, bc := range []struct {
		name string
		f    EventFilter
	}{
		{"page1", EventFilter{}},
		{"page18001", EventFilter{Cursor: deep}},
		{"type/page1", EventFilter{Type: TypeCopy}},
		{"type/deep", EventFilter{Type: TypeCopy, Cursor: deep}},
		{"user/page1", EventFilter{User: "user7"}},
		{"user/deep", EventFilter{User: "user7", Cursor: deep}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				evs, _, err := ListEvents(ctx, db, bc.f)
				if err != nil || len(evs) != DefaultEventLimit {
					b.Fatalf("%d events, %v", len(evs), err)
				}
			}
		})
	}
	// For contrast, what OFFSET paging would cost at the same depth.
	b.Run("offset_for_contrast/page18001", func(b *testing.B) {
		for b.Loop() {
			rows, err := db.QueryContext(ctx, `SELECT `+eventColumns+` FROM dxt_event e LEFT JOIN dxt_content c ON c.id = e.content_id
ORDER BY e.occurred_at DESC, e.id DESC LIMIT 50 OFFSET 900000`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n != 50 {
				b.Fatalf("%d rows", n)
			}
		}
	})
}

func TestGetEventsReturnsTheExistingOnesInIDOrder(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := insertTestEvent(t, db, testEvent{At: at, UserName: "admin"})
	b := insertTestEvent(t, db, testEvent{At: at.Add(-time.Hour), UserName: "jsmith"})
	evs, err := GetEvents(ctx, db, []uint64{b, 999999, a})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != a || evs[1].ID != b {
		t.Fatalf("got %+v, want events %d and %d in id order", evs, a, b)
	}
	if evs, err := GetEvents(ctx, db, nil); err != nil || len(evs) != 0 {
		t.Fatalf("no ids: %v %v", evs, err)
	}
}
