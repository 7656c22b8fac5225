package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/internal/procstat"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// TestHundredMegabyteExportPassesThroughIntact sends a 100 MB export through
// the real daemon and downloads it back through the API byte for byte. The
// daemon's peak RSS is logged (the figure for the README); the bound itself
// is a benchmark concern, not asserted here.
func TestHundredMegabyteExportPassesThroughIntact(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB export skipped in -short mode")
	}
	s := newStack(t, sandbox.Options{ServerID: 1})
	d := s.start()
	const size = 100 << 20
	h := sha256.New()
	tx, err := s.db.BeginTx(s.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(s.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, content_name, content_type, content_size)
VALUES ('listview_export', UTC_TIMESTAMP(6), 5, 'Contacts', 1000000, '192.0.2.9', 'Contacts.csv', 'text/csv', ?)`, size)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	rng := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, tracker.ChunkSize)
	for i := range chunk { // random digits: gzip's 32 KiB window finds no repeats
		chunk[i] = "0123456789,\n"[rng.IntN(12)]
	}
	for seq := 0; seq*tracker.ChunkSize < size; seq++ {
		copy(chunk, fmt.Sprintf("%08d", seq))
		h.Write(chunk)
		if _, err := tx.ExecContext(s.ctx, `INSERT INTO dxt_intake_chunk (intake_id, seq, data) VALUES (?, ?, ?)`, id, seq, chunk); err != nil {
			t.Fatal(err)
		}
	}
	want := hex.EncodeToString(h.Sum(nil))
	if _, err := tx.ExecContext(s.ctx, `UPDATE dxt_intake SET content_sha256 = ? WHERE id = ?`, want, id); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s.waitEvents(1, d)

	var eventID uint64
	if err := s.db.QueryRowContext(s.ctx, `SELECT id FROM dxt_event`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/events/%d/content", s.listen, eventID), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("download: status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
	if n != size || hex.EncodeToString(got.Sum(nil)) != want {
		t.Fatalf("downloaded %d bytes with another hash", n)
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "Contacts.csv") {
		t.Errorf("Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	t.Logf("daemon peak RSS (VmHWM) after a %d MiB export in and out: %s", size>>20, peakRSS(d.cmd.Process.Pid))
}

func peakRSS(pid int) string {
	if b := procstat.Status(pid, "VmHWM"); b > 0 {
		return fmt.Sprintf("%d kB", b>>10)
	}
	return "unknown"
}
