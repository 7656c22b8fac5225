package ingest_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/tracker"
)

// rawIntake writes an intake row with exactly the given chunks (seq ->
// bytes) and declared size and SHA-256 (nil = NULL), as a broken or hostile
// producer could.
func (e *env) rawIntake(userID, module any, name string, size, sum any, chunks map[int][]byte) uint64 {
	e.t.Helper()
	tx, err := e.db.BeginTx(e.ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(e.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, details, content_name, content_type, content_size, content_sha256)
VALUES ('listview_export', ?, ?, ?, 3, '{"mode":"ExportAllData"}', ?, 'text/csv', ?, ?)`, e.now, userID, module, name, size, sum)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	for seq, data := range chunks {
		if _, err := tx.ExecContext(e.ctx, `INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?,?,?)`, id, seq, data); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return uint64(id)
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func warningsOf(t *testing.T, ev tracker.Event) []string {
	t.Helper()
	var out []string
	ws, _ := details(t, ev)["warnings"].([]any)
	for _, w := range ws {
		s, _ := w.(string)
		out = append(out, s)
	}
	return out
}

func hasWarningLike(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// TestBrokenContentChunksGiveOneEventEachWithWarningsAndBlockNothing puts
// every kind of broken content a producer can write into ONE binlog batch,
// between two good rows: a chunk over 1 MiB, a gap in the chunk numbers,
// chunks that do not start at 0, fewer bytes than content_size, a size
// announced with no chunk at all, a SHA-256 that does not match, and a
// user and module that do not exist. Each row becomes exactly one event
// that says what was wrong, every row is marked processed, and the next
// batch goes through.
func TestBrokenContentChunksGiveOneEventEachWithWarningsAndBlockNothing(t *testing.T) {
	e := newEnv(t)
	csv := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("First Name,Last Name\n")
		for b.Len() < n {
			b.WriteString("Ada,Lovelace\n")
		}
		return b.Bytes()[:n]
	}
	big := make([]byte, 3<<20+5) // one chunk of 3 MiB: three times the contract's limit
	rand.Read(big)
	a, b, c := csv(tracker.ChunkSize), csv(tracker.ChunkSize), csv(1000)
	whole := append(append(append([]byte{}, a...), b...), c...)

	type row struct {
		name  string
		id    uint64
		check func(t *testing.T, ev tracker.Event, got []byte, ws []string)
	}
	var rows []row
	add := func(name string, id uint64, check func(t *testing.T, ev tracker.Event, got []byte, ws []string)) {
		rows = append(rows, row{name, id, check})
	}

	add("good before", e.rawIntake(5, "Contacts", "a.csv", len(c), sha(c), map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !bytes.Equal(got, c) || len(ws) != 0 {
				t.Errorf("good row: %d bytes, warnings %v", len(got), ws)
			}
		})
	add("chunk over 1 MiB", e.rawIntake(5, "Contacts", "big.bin", len(big), sha(big), map[int][]byte{0: big}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			// The bytes are what the producer declared: kept whole.
			if !bytes.Equal(got, big) {
				t.Errorf("oversized chunk: stored %d bytes of %d", len(got), len(big))
			}
			if d := details(t, ev); d["content_integrity"] != nil {
				t.Errorf("oversized chunk flagged %v", d["content_integrity"])
			}
		})
	add("gap in chunk numbers", e.rawIntake(5, "Contacts", "gap.csv", len(whole), sha(whole), map[int][]byte{0: a, 2: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !bytes.Equal(got, a) || !hasWarningLike(ws, "not numbered") || !hasWarningLike(ws, "sha256") {
				t.Errorf("gap: %d bytes stored, warnings %v", len(got), ws)
			}
			if details(t, ev)["content_integrity"] != "sha256_mismatch" {
				t.Errorf("gap: details %s", ev.Details)
			}
		})
	add("chunks from 1", e.rawIntake(5, "Contacts", "from1.csv", len(c), sha(c), map[int][]byte{1: c, 2: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if len(got) != 0 || !hasWarningLike(ws, "not numbered") {
				t.Errorf("chunks from 1: %d bytes, warnings %v", len(got), ws)
			}
		})
	add("fewer bytes than content_size", e.rawIntake(5, "Contacts", "short.csv", len(c)+500, sha(c), map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !bytes.Equal(got, c) || !hasWarningLike(ws, "declared") || details(t, ev)["content_integrity"] != "size_mismatch" {
				t.Errorf("short content: %d bytes, warnings %v, details %s", len(got), ws, ev.Details)
			}
		})
	add("truncated transfer", e.rawIntake(5, "Contacts", "cut.csv", len(whole), sha(whole), map[int][]byte{0: a, 1: b}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if len(got) != 2*tracker.ChunkSize || !hasWarningLike(ws, "sha256") {
				t.Errorf("cut transfer: %d bytes, warnings %v", len(got), ws)
			}
		})
	add("size announced, no chunk", e.rawIntake(5, "Contacts", "none.csv", 12345, sha(c), nil),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if ev.ContentID != nil || !hasWarningLike(ws, "no chunk arrived") {
				t.Errorf("no chunk: content %v, warnings %v", ev.ContentID, ws)
			}
		})
	add("SHA-256 mismatch", e.rawIntake(5, "Contacts", "bad.csv", len(c), strings.Repeat("ab", 32), map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !bytes.Equal(got, c) || details(t, ev)["content_integrity"] != "sha256_mismatch" {
				t.Errorf("sha mismatch: details %s", ev.Details)
			}
		})
	add("malformed SHA-256", e.rawIntake(5, "Contacts", "bad2.csv", len(c), "' OR 1=1 --", map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if details(t, ev)["content_integrity"] != "sha256_mismatch" {
				t.Errorf("malformed sha: details %s", ev.Details)
			}
		})
	add("unknown user and module", e.rawIntake(4242, "NoSuchModule", "u.csv", len(c), sha(c), map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if ev.UserName != nil || *ev.UserID != 4242 || str(ev.Module) != "NoSuchModule" ||
				!hasWarningLike(ws, "not in vtiger_users") || !hasWarningLike(ws, "not in vtiger_tab") || !bytes.Equal(got, c) {
				t.Errorf("unknown user/module: user %v %v module %s warnings %v", ev.UserID, ev.UserName, str(ev.Module), ws)
			}
		})
	add("no user at all", e.rawIntake(nil, nil, "", nil, nil, nil),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !hasWarningLike(ws, "names no user") {
				t.Errorf("no user: warnings %v", ws)
			}
		})
	add("good after", e.rawIntake(1, "Contacts", "z.csv", len(c), sha(c), map[int][]byte{0: c}),
		func(t *testing.T, ev tracker.Event, got []byte, ws []string) {
			if !bytes.Equal(got, c) || len(ws) != 0 || str(ev.UserName) != "admin" {
				t.Errorf("good row after: %d bytes, warnings %v", len(got), ws)
			}
		})

	var changes []binlog.RowChange
	for _, r := range rows {
		changes = append(changes, insertChange(r.id))
	}
	e.apply(txn(e.now, changes...))

	evs := e.events(tracker.EventFilter{})
	if len(evs) != len(rows) {
		t.Fatalf("%d events for %d intake rows", len(evs), len(rows))
	}
	byIntake := map[uint64]tracker.Event{}
	for _, ev := range evs {
		n, err := details(t, ev)["intake_id"].(float64)
		if !err {
			t.Fatalf("event %d without intake_id: %s", ev.ID, ev.Details)
		}
		if _, dup := byIntake[uint64(n)]; dup {
			t.Fatalf("two events for intake %d", uint64(n))
		}
		byIntake[uint64(n)] = ev
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			ev, ok := byIntake[r.id]
			if !ok {
				t.Fatalf("no event for intake %d", r.id)
			}
			var got []byte
			if ev.ContentID != nil {
				got, _ = e.content(ev)
			}
			r.check(t, ev, got, warningsOf(t, ev))
		})
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL OR event_id IS NULL`); n != 0 {
		t.Errorf("%d intake rows left unprocessed", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake_chunk`); n != 0 {
		t.Errorf("%d intake chunks left behind", n)
	}

	// The pipeline goes on: the next row is processed as usual.
	next := e.rawIntake(5, "Contacts", "next.csv", len(c), sha(c), map[int][]byte{0: c})
	e.apply(txn(e.now, insertChange(next)))
	if n := e.count(`SELECT COUNT(*) FROM dxt_event`); n != len(rows)+1 {
		t.Fatalf("%d events after the next batch, want %d", n, len(rows)+1)
	}
}
