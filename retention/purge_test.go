package retention

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// agedFixture: 7 old events (each with content and an outbox row, one
// content of several chunks), 3 kept events, intake rows of every kind.
type agedFixture struct {
	db                           *sql.DB
	old, kept                    []uint64
	oldContents, keptContents    []uint64
	oldBytes                     int64
	oldProcessed, oldUnprocessed []uint64
	newProcessed                 uint64
	cutoff                       time.Time
}

func buildAged(t *testing.T, f *agedFixture, days int) {
	db := f.db
	f.cutoff = testNow.Add(-time.Duration(days) * 24 * time.Hour)
	for i := range 7 {
		size := 1000
		if i == 2 {
			size = 2*tracker.ChunkSize + 5000 // three chunks
		}
		c := insertContent(t, db, "old.csv", size)
		id := insertEvent(t, db, f.cutoff.Add(-time.Duration(10-i)*time.Hour), c)
		insertOutbox(t, db, id)
		f.old = append(f.old, id)
		f.oldContents = append(f.oldContents, c)
		f.oldBytes += storedSize(t, db, c)
	}
	for i, at := range []time.Time{f.cutoff, f.cutoff.Add(time.Microsecond), testNow.Add(-time.Hour)} {
		c := insertContent(t, db, "new.csv", 500+i)
		id := insertEvent(t, db, at, c)
		insertOutbox(t, db, id)
		f.kept = append(f.kept, id)
		f.keptContents = append(f.keptContents, c)
	}
	old := f.cutoff.Add(-48 * time.Hour)
	processed := old.Add(time.Second)
	f.oldProcessed = []uint64{insertIntake(t, db, old, &processed), insertIntake(t, db, old.Add(time.Minute), &processed)}
	f.oldUnprocessed = []uint64{insertIntake(t, db, old, nil)}
	recent := testNow.Add(-time.Hour)
	f.newProcessed = insertIntake(t, db, recent, &recent)
}

func TestAgePurgeDeletesOldEventsWithTheirContentOutboxAndProcessedIntakeOnly(t *testing.T) {
	db := migratedDB(t)
	f := &agedFixture{db: db}
	buildAged(t, f, 30)
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }, BatchPause: -1})
	rep, err := p.PurgeNow(context.Background(), settings(30, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range f.old {
		if exists(t, db, "dxt_event", id) {
			t.Errorf("old event %d survived", id)
		}
	}
	for _, id := range f.kept {
		if !exists(t, db, "dxt_event", id) {
			t.Errorf("event %d at or after the cutoff was deleted", id)
		}
	}
	for _, c := range f.oldContents {
		if exists(t, db, "dxt_content", c) || count(t, db, `SELECT COUNT(*) FROM dxt_content_chunk WHERE content_id = ?`, c) != 0 {
			t.Errorf("content %d of an old event survived", c)
		}
	}
	for _, c := range f.keptContents {
		if !exists(t, db, "dxt_content", c) || count(t, db, `SELECT COUNT(*) FROM dxt_content_chunk WHERE content_id = ?`, c) == 0 {
			t.Errorf("content %d of a kept event was deleted", c)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_outbox`); n != int64(len(f.kept)) {
		t.Errorf("outbox rows left: %d, want %d (those of the kept events)", n, len(f.kept))
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_outbox WHERE event_id IN (?, ?, ?)`, f.kept[0], f.kept[1], f.kept[2]); n != 3 {
		t.Errorf("outbox rows of kept events: %d, want 3", n)
	}
	for _, id := range f.oldProcessed {
		if exists(t, db, "dxt_intake", id) || count(t, db, `SELECT COUNT(*) FROM dxt_intake_chunk WHERE intake_id = ?`, id) != 0 {
			t.Errorf("old processed intake row %d survived", id)
		}
	}
	if !exists(t, db, "dxt_intake", f.oldUnprocessed[0]) || count(t, db, `SELECT COUNT(*) FROM dxt_intake_chunk WHERE intake_id = ?`, f.oldUnprocessed[0]) != 1 {
		t.Error("an unprocessed intake row (or its chunk) was deleted")
	}
	if !exists(t, db, "dxt_intake", f.newProcessed) {
		t.Error("a recent processed intake row was deleted")
	}

	a := rep.Age
	if a.Status != StatusDone || a.EventsDeleted != 7 || a.ContentsDeleted != 7 || a.OutboxRowsDeleted != 7 ||
		a.IntakeRowsDeleted != 2 || a.ContentBytesDeleted != f.oldBytes || a.Batches != 4 || a.EventsUpdated != 0 {
		t.Errorf("report: %+v (want 7 events, 7 contents of %d bytes, 7 outbox, 2 intake, 3+1 batches)", a, f.oldBytes)
	}
	if rep.ContentCap != nil {
		t.Errorf("content cap ran without content_max_mb: %+v", rep.ContentCap)
	}
	st := p.Stats()
	if st.Purges != 1 || st.Failures != 0 || st.EventsDeleted != 7 || st.ContentsDeleted != 7 || st.IntakeRowsDeleted != 2 || st.Running {
		t.Errorf("stats: %+v", st)
	}

	// A second run finds nothing and says so in its own audit row.
	rep2, err := p.PurgeNow(context.Background(), settings(30, 3))
	if err != nil || rep2.Age.EventsDeleted != 0 || rep2.Age.Status != StatusDone || rep2.Age.ID == rep.Age.ID {
		t.Errorf("second purge: %+v, %v", rep2.Age, err)
	}
}

func TestAgePurgeAuditRowRecordsRangeCountsAndWhoConfiguredIt(t *testing.T) {
	db := migratedDB(t)
	f := &agedFixture{db: db}
	buildAged(t, f, 30)
	setAt := time.Date(2026, 5, 20, 8, 30, 0, 0, time.UTC)
	if _, err := db.Exec(`UPDATE dxt_config SET value = '30', updated_by = 'alice', updated_at = ? WHERE name = 'retention_days'`, setAt); err != nil {
		t.Fatal(err)
	}
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }, BatchPause: -1})
	rep, err := p.PurgeNow(context.Background(), settings(30, 1000))
	if err != nil {
		t.Fatal(err)
	}
	a := readAudit(t, db, rep.Age.ID)
	if a.Kind != KindAge || a.Status != StatusDone || !a.Finished.Valid || a.Error.Valid {
		t.Errorf("kind/status: %+v", a)
	}
	if !a.Cutoff.Time.Equal(f.cutoff) || a.Days.Int64 != 30 || a.CapBytes.Valid {
		t.Errorf("cutoff %v days %v cap %v; want %v, 30, NULL", a.Cutoff.Time, a.Days, a.CapBytes, f.cutoff)
	}
	if a.ConfiguredBy.String != "alice" || !a.ConfiguredAt.Time.Equal(setAt) {
		t.Errorf("configured by %q at %v; want alice at %v", a.ConfiguredBy.String, a.ConfiguredAt.Time, setAt)
	}
	if uint64(a.MinID.Int64) != f.old[0] || uint64(a.MaxID.Int64) != f.old[6] {
		t.Errorf("event ids %d..%d, want %d..%d", a.MinID.Int64, a.MaxID.Int64, f.old[0], f.old[6])
	}
	if want := f.cutoff.Add(-10 * time.Hour); !a.MinAt.Time.Equal(want) || !a.MaxAt.Time.Equal(f.cutoff.Add(-4*time.Hour)) {
		t.Errorf("occurred %v..%v", a.MinAt.Time, a.MaxAt.Time)
	}
	if a.Events != 7 || a.Contents != 7 || a.Bytes != f.oldBytes || a.Intake != 2 || a.Outbox != 7 || a.Batches != 2 {
		t.Errorf("counts: %+v", a)
	}
	// Every event up to max_event_id is gone, every one above it is there.
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_event WHERE id <= ?`, a.MaxID.Int64); n != 0 {
		t.Errorf("%d events at or below max_event_id survived", n)
	}
}

func TestAgePurgeKeepsContentSharedWithAKeptEvent(t *testing.T) {
	db := migratedDB(t)
	c := insertContent(t, db, "shared.csv", 1000)
	oldID := insertEvent(t, db, testNow.AddDate(0, 0, -40), c)
	newID := insertEvent(t, db, testNow.AddDate(0, 0, -1), c)
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }})
	rep, err := p.PurgeNow(context.Background(), settings(30, 100))
	if err != nil {
		t.Fatal(err)
	}
	if exists(t, db, "dxt_event", oldID) || !exists(t, db, "dxt_event", newID) {
		t.Fatal("wrong event deleted")
	}
	if !exists(t, db, "dxt_content", c) || rep.Age.ContentsDeleted != 0 {
		t.Errorf("content still used by event %d was deleted (report %+v)", newID, rep.Age)
	}
}

func TestAgePurgeKeepsOldEventsAboveTheFirstKeptIDSoSurvivorsAreASuffix(t *testing.T) {
	db := migratedDB(t)
	a := insertEvent(t, db, testNow.AddDate(0, 0, -50), 0)
	b := insertEvent(t, db, testNow.AddDate(0, 0, -20), 0)
	late := insertEvent(t, db, testNow.AddDate(0, 0, -45), 0) // reconstructed later, old
	now := testNow
	p := New(db, testLog(t), Options{Now: func() time.Time { return now }})
	rep, err := p.PurgeNow(context.Background(), settings(30, 100))
	if err != nil {
		t.Fatal(err)
	}
	if exists(t, db, "dxt_event", a) || !exists(t, db, "dxt_event", b) || !exists(t, db, "dxt_event", late) {
		t.Fatalf("want only %d deleted", a)
	}
	if rep.Age.MaxEventID != a || rep.Age.EventsDeleted != 1 {
		t.Errorf("report %+v", rep.Age)
	}
	now = testNow.AddDate(0, 0, 15) // b is 35 days old now
	if rep, err = p.PurgeNow(context.Background(), settings(30, 100)); err != nil {
		t.Fatal(err)
	}
	if exists(t, db, "dxt_event", b) || exists(t, db, "dxt_event", late) || rep.Age.MaxEventID != late || rep.Age.EventsDeleted != 2 {
		t.Errorf("second purge: %+v", rep.Age)
	}
}

func TestContentCapDeletesOldestContentAndSaysSoInTheEvent(t *testing.T) {
	db := migratedDB(t)
	var contents, events []uint64
	var total int64
	for i := range 5 {
		c := insertContent(t, db, "export.csv", 300<<10)
		contents = append(contents, c)
		events = append(events, insertEvent(t, db, testNow.Add(-time.Duration(5-i)*time.Hour), c))
		total += storedSize(t, db, c)
	}
	if _, err := db.Exec(`UPDATE dxt_config SET value = '1', updated_by = 'token:ops#3' WHERE name = 'content_max_mb'`); err != nil {
		t.Fatal(err)
	}
	s := settings(30, 100)
	s.ContentMaxMB = 1
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }})
	rep, err := p.PurgeNow(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	cc := rep.ContentCap
	if cc == nil {
		t.Fatal("no content cap purge")
	}
	// 5 x ~300 KiB over a 1 MiB cap: the two oldest go.
	for i, c := range contents {
		gone := !exists(t, db, "dxt_content", c)
		if gone != (i < 2) {
			t.Errorf("content %d (#%d): gone=%v", c, i, gone)
		}
		if gone && count(t, db, `SELECT COUNT(*) FROM dxt_content_chunk WHERE content_id = ?`, c) != 0 {
			t.Errorf("chunks of content %d left", c)
		}
	}
	if left := count(t, db, `SELECT SUM(stored_size) FROM dxt_content`); left > 1<<20 {
		t.Errorf("%d bytes stored after the cap of 1 MiB", left)
	}
	for i, id := range events {
		ev, ok, err := tracker.GetEvent(context.Background(), db, id)
		if err != nil || !ok {
			t.Fatalf("event %d: %v %v", id, ok, err)
		}
		var d map[string]any
		if err := json.Unmarshal(ev.Details, &d); err != nil {
			t.Fatal(err)
		}
		note, purged := d["content_purged"].(map[string]any)
		if purged != (i < 2) || ev.HasContent == (i < 2) {
			t.Errorf("event %d: has_content=%v content_purged=%v", id, ev.HasContent, d["content_purged"])
		}
		if purged && (note["reason"] != "content_cap" || note["name"] != "export.csv" || note["size"] != float64(300<<10) ||
			len(note["sha256"].(string)) != 64 || note["purge_id"] != float64(cc.ID) || !strings.HasPrefix(note["at"].(string), "2026-06-01T12:00:00")) {
			t.Errorf("event %d: note %v", id, note)
		}
		if d["mode"] != "all" {
			t.Errorf("event %d: details lost: %v", id, d)
		}
	}
	a := readAudit(t, db, cc.ID)
	if a.Kind != KindContentCap || a.Status != StatusDone || a.CapBytes.Int64 != 1<<20 || a.ConfiguredBy.String != "token:ops#3" ||
		a.Contents != 2 || a.Updated != 2 || a.Events != 0 || a.Bytes != total-count(t, db, `SELECT SUM(stored_size) FROM dxt_content`) ||
		uint64(a.MinID.Int64) != events[0] || uint64(a.MaxID.Int64) != events[1] || a.Cutoff.Valid {
		t.Errorf("audit row: %+v", a)
	}
	if rep.Age.EventsDeleted != 0 {
		t.Errorf("age purge deleted recent events: %+v", rep.Age)
	}
	if st := p.Stats(); st.Purges != 2 || st.ContentsDeleted != 2 || st.EventsUpdated != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPurgeStopsPromptlyWhenCancelledAndRecordsItAsFailed(t *testing.T) {
	db := migratedDB(t)
	for i := range 50 {
		insertEvent(t, db, testNow.AddDate(0, 0, -40).Add(time.Duration(i)*time.Second), 0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := New(db, testLog(t), Options{Now: func() time.Time { return testNow }, BatchPause: time.Minute})
	p.opts.afterBatch = func(kind string, n int, _ time.Duration) {
		if n == 1 {
			cancel() // during the minute-long pause that follows
		}
	}
	began := time.Now()
	rep, err := p.PurgeNow(ctx, settings(30, 5))
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("stopping took %v", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	a := readAudit(t, db, rep.Age.ID)
	if a.Status != StatusFailed || !strings.Contains(a.Error.String, "stopped after 1 batches") || a.Events != 5 || !a.Finished.Valid {
		t.Errorf("audit row after cancel: %+v", a)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_event`); n != 45 {
		t.Errorf("%d events left, want 45", n)
	}
	if st := p.Stats(); st.Failures != 1 || st.Running {
		t.Errorf("stats %+v", st)
	}
	p.opts.afterBatch, p.opts.BatchPause = nil, 0
	if rep, err = p.PurgeNow(context.Background(), settings(30, 5)); err != nil || rep.Age.EventsDeleted != 45 {
		t.Errorf("next purge: %+v %v", rep.Age, err)
	}
}

func TestInterruptedPurgeRowIsMarkedFailedByTheNextPurge(t *testing.T) {
	db := migratedDB(t)
	res, err := db.Exec(`INSERT INTO dxt_purge (started_at, kind, status, events_deleted, batches) VALUES (UTC_TIMESTAMP(6), 'age', 'running', 3000, 3)`)
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := res.LastInsertId()
	p := New(db, testLog(t), Options{})
	if _, err := p.PurgeNow(context.Background(), settings(30, 1000)); err != nil {
		t.Fatal(err)
	}
	a := readAudit(t, db, uint64(stale))
	if a.Status != StatusFailed || !strings.Contains(a.Error.String, "interrupted") || a.Events != 3000 {
		t.Errorf("stale row: %+v", a)
	}
}

func TestPurgeIsRefusedWhileAnotherDaemonPurgesTheSameDatabase(t *testing.T) {
	db := migratedDB(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `DO GET_LOCK(`+lockName+`, 0)`); err != nil {
		t.Fatal(err)
	}
	p := New(db, testLog(t), Options{})
	if _, err := p.PurgeNow(context.Background(), settings(30, 1000)); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM dxt_purge`); n != 0 {
		t.Errorf("%d audit rows for a refused purge", n)
	}
}

func TestNewRetentionSettingsHaveDefaultsAndAreValidated(t *testing.T) {
	s := tracker.ParseSettings(nil)
	if s.RetentionSchedule != "17 3 * * *" || s.RetentionTimezone != "UTC" || s.ContentMaxMB != 0 || s.RetentionBatch != 1000 || s.RetentionDays != 365 {
		t.Errorf("defaults: %+v", s)
	}
	s = tracker.ParseSettings(map[string]string{"retention_batch": "50", "content_max_mb": "-1", "retention_schedule": "every day", "retention_timezone": "Mars/Base"})
	if s.RetentionBatch != 1000 || s.ContentMaxMB != 0 || s.RetentionSchedule != "17 3 * * *" || s.RetentionTimezone != "UTC" {
		t.Errorf("broken rows must fall back to defaults: %+v", s)
	}
	for _, tc := range []struct{ key, value string }{
		{tracker.KeyRetentionBatch, "99"}, {tracker.KeyRetentionBatch, "10001"}, {tracker.KeyContentMaxMB, "-5"},
		{tracker.KeyRetentionSchedule, "61 3 * * *"}, {tracker.KeyRetentionTimezone, "Local"},
	} {
		if _, err := tracker.ValidateConfigValue(tc.key, tc.value); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%q: err %v", tc.key, tc.value, err)
		}
	}
	for _, tc := range []struct{ key, value, want string }{
		{tracker.KeyRetentionBatch, " 100 ", "100"}, {tracker.KeyContentMaxMB, "2048", "2048"},
		{tracker.KeyRetentionSchedule, "30 2 * * 0", "30 2 * * 0"}, {tracker.KeyRetentionTimezone, "Asia/Tokyo", "Asia/Tokyo"},
	} {
		if got, err := tracker.ValidateConfigValue(tc.key, tc.value); err != nil || got != tc.want {
			t.Errorf("%s=%q: %q %v", tc.key, tc.value, got, err)
		}
	}
}

func TestMigrationFourIsIdempotentAfterACrash(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	// As if the process died after the statements but before the version row.
	if _, err := db.Exec(`DELETE FROM dxt_schema_version WHERE version = 4`); err != nil {
		t.Fatal(err)
	}
	res, err := tracker.Migrate(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0] != 4 {
		t.Errorf("applied %v", res.Applied)
	}
	if res, err = tracker.Migrate(ctx, db); err != nil || res.Changed() {
		t.Errorf("third run: %+v %v", res, err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'dxt_config' AND column_name = 'updated_by'`); n != 1 {
		t.Error("dxt_config.updated_by missing")
	}
	if n := count(t, db, `SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'dxt_event' AND index_name = 'dxt_event_content'`); n != 1 {
		t.Error("index dxt_event_content missing")
	}
}
