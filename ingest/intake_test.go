package ingest_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestEveryIntakeKindBecomesOneEventWithUserModuleAndIP(t *testing.T) {
	e := newEnv(t)
	kinds := []string{tracker.TypeListviewExport, tracker.TypeReportExport, tracker.TypeCopy, tracker.TypeScheduledReport}
	var changes []binlog.RowChange
	for i, k := range kinds {
		id := e.writeIntake(intake{Kind: k, UserID: 5, Module: "Contacts", RecordCount: 10 + i, ClientIP: "192.0.2.7",
			UserAgent: "Mozilla/5.0", Details: `{"mode":"ExportAllData","report_id":26}`})
		changes = append(changes, insertChange(id))
	}
	e.apply(txn(e.now, changes...))

	evs := e.events(tracker.EventFilter{})
	if len(evs) != len(kinds) {
		t.Fatalf("got %d events, want %d", len(evs), len(kinds))
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.Type] = true
		if str(ev.UserName) != "jsmith" || str(ev.Module) != "Contacts" || str(ev.IP) != "192.0.2.7" || str(ev.UserAgent) != "Mozilla/5.0" {
			t.Errorf("event %d: user %s module %s ip %s ua %s", ev.ID, str(ev.UserName), str(ev.Module), str(ev.IP), str(ev.UserAgent))
		}
		if ev.Source != tracker.SourceProbe || ev.RecordCount == nil {
			t.Errorf("event %d: source %q record_count %v", ev.ID, ev.Source, ev.RecordCount)
		}
		if d := details(t, ev); d["mode"] != "ExportAllData" {
			t.Errorf("event %d lost the producer's details: %v", ev.ID, d)
		}
	}
	for _, k := range kinds {
		if !seen[k] {
			t.Errorf("no %s event", k)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL OR event_id IS NULL`); n != 0 {
		t.Errorf("%d intake rows not marked processed with their event", n)
	}
}

func TestReplayedBatchCreatesNoSecondEvent(t *testing.T) {
	e := newEnv(t)
	id := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 1, Module: "Contacts", RecordCount: 50})
	e.apply(txn(e.now, insertChange(id)))
	e.apply(txn(e.now, insertChange(id)))
	if _, err := e.p.ReconcileIntake(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != 1 {
		t.Fatalf("%d events after replay, want 1", n)
	}
}

func TestExportedFileIsStoredCompressedAndReadBackExactly(t *testing.T) {
	e := newEnv(t)
	csv := []byte("\"First Name\",\"Last Name\"\n\"Mary\",\"Smith\"\n")
	if dir := fixturesSamples(t); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "listview-export-Contacts-all.csv"))
		if err != nil {
			t.Fatal(err)
		}
		csv = b
	}
	// Repeat so the content spans several 1 MiB chunks.
	big := bytes.Repeat(csv, (3*tracker.ChunkSize)/len(csv)+1)
	id := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts", RecordCount: 50,
		ContentName: "Contacts.csv", ContentType: "text/csv", Content: big})
	e.apply(txn(e.now, insertChange(id)))

	evs := e.events(tracker.EventFilter{})
	if len(evs) != 1 || !evs[0].HasContent || str(evs[0].ContentName) != "Contacts.csv" {
		t.Fatalf("event: %+v", evs)
	}
	got, meta := e.content(evs[0])
	if !bytes.Equal(got, big) || meta.Size != int64(len(big)) || meta.MediaType != "text/csv" {
		t.Fatalf("content differs: %d bytes back, %d sent, meta %+v", len(got), len(big), meta)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake_chunk`); n != 0 {
		t.Errorf("%d intake chunks left after the move", n)
	}
	var stored int64
	e.db.QueryRowContext(e.ctx, `SELECT stored_size FROM dxt_content`).Scan(&stored)
	if stored >= int64(len(big))/2 {
		t.Errorf("stored %d bytes for %d: not compressed", stored, len(big))
	}
}

func TestSHA256MismatchIsRecordedOnTheEvent(t *testing.T) {
	e := newEnv(t)
	id := e.writeIntake(intake{Kind: tracker.TypeReportExport, UserID: 1, Module: "Contacts", Content: []byte("a,b\n1,2\n"),
		DeclaredSHA: "0000000000000000000000000000000000000000000000000000000000000000"})
	e.apply(txn(e.now, insertChange(id)))
	evs := e.events(tracker.EventFilter{})
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	d := details(t, evs[0])
	if d["content_integrity"] != "sha256_mismatch" || d["warnings"] == nil {
		t.Fatalf("mismatch not recorded: %v", d)
	}
}

func TestMissingIPIsTakenFromNewestLogin(t *testing.T) {
	e := newEnv(t)
	id := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5, Module: "Contacts"})
	e.apply(txn(e.now, insertChange(id)))
	evs := e.events(tracker.EventFilter{})
	if str(evs[0].IP) != "10.0.0.5" || details(t, evs[0])["ip_source"] != "login_history" {
		t.Fatalf("ip %s details %s", str(evs[0].IP), evs[0].Details)
	}
}

func TestUnknownUserModuleAndBadDetailsAreKeptAsWarnings(t *testing.T) {
	e := newEnv(t)
	id := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 999, Module: "NoSuchModule", RecordCount: -3, Details: "{not json"})
	e.apply(txn(e.now, insertChange(id)))
	evs := e.events(tracker.EventFilter{})
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	d := details(t, evs[0])
	w, _ := d["warnings"].([]any)
	if len(w) != 4 || d["raw_details"] != "{not json" || evs[0].UserName != nil || evs[0].RecordCount != nil {
		t.Fatalf("warnings %v, details %v", w, d)
	}
}

func TestDisabledTypeMarksIntakeProcessedWithReasonAndNoEvent(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.ExecContext(e.ctx, `UPDATE dxt_config SET value='0' WHERE name='track_copy'`); err != nil {
		t.Fatal(err)
	}
	copyID := e.writeIntake(intake{Kind: tracker.TypeCopy, UserID: 5})
	exportID := e.writeIntake(intake{Kind: tracker.TypeListviewExport, UserID: 5})
	// The config change comes first in the binlog, as it did in the database.
	e.apply(txn(e.now, binlog.RowChange{Table: "dxt_config", Action: binlog.Update,
		Before: binlog.Row{"name": "track_copy", "value": []byte("1")}, After: binlog.Row{"name": "track_copy", "value": []byte("0")}}),
		txn(e.now, insertChange(copyID)), txn(e.now, insertChange(exportID)))

	if e.p.Settings().TrackCopy {
		t.Fatal("track_copy still on after the binlog showed it off")
	}
	evs := e.events(tracker.EventFilter{})
	if len(evs) != 1 || evs[0].Type != tracker.TypeListviewExport {
		t.Fatalf("events %+v, want only the export", evs)
	}
	var note string
	e.db.QueryRowContext(e.ctx, `SELECT process_note FROM dxt_intake WHERE id = ? AND processed_at IS NOT NULL`, copyID).Scan(&note)
	if note == "" {
		t.Fatal("disabled copy intake not marked processed with a reason")
	}
}

func TestReconcileProcessesIntakeWrittenWhileDown(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 1234; i++ {
		e.writeIntake(intake{Kind: tracker.TypeCopy, UserID: 1, Details: fmt.Sprintf(`{"n":%d}`, i)})
	}
	n, err := e.p.ReconcileIntake(e.ctx)
	if err != nil || n != 1234 {
		t.Fatalf("reconciled %d, %v", n, err)
	}
	if c := e.count(`SELECT COUNT(*) FROM dxt_event`); c != 1234 {
		t.Fatalf("%d events", c)
	}
}

func fixturesSamples(t *testing.T) string {
	t.Helper()
	var dir string
	t.Run("fixtures", func(t *testing.T) { dir = filepath.Join(sandboxtest.FixturesDir(t), "samples") })
	return dir
}
