package binlog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// insertRetrying inserts id into w until the server has it, across server
// restarts and crashes (a duplicate means an earlier try committed).
func insertRetrying(ctx context.Context, d testDB, id int) error {
	for {
		_, err := d.db.ExecContext(ctx, "INSERT INTO w VALUES (?)", id)
		if err == nil || serverErrno(err) == 1062 {
			return nil
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return err
		}
	}
}

func TestFollowerReconnectsAfterServerRestartAndCrashWithoutLossOrDuplicates(t *testing.T) {
	d := ownDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("w"), h)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const total = 300
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= total && writeErr == nil; i++ {
			writeErr = insertRetrying(ctx, d, i)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	eventually(t, time.Minute, "rows before the restart", func() bool { return len(h.insertedIDs("w")) >= 50 })
	if err := d.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "rows after the restart", func() bool { return len(h.insertedIDs("w")) >= 150 })
	if err := d.srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := d.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	var inTable []int64
	rows, err := d.db.QueryContext(ctx, "SELECT id FROM w ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		inTable = append(inTable, id)
	}
	rows.Close()
	if len(inTable) != total {
		t.Fatalf("table has %d rows, want %d", len(inTable), total)
	}
	eventually(t, time.Minute, "every row", func() bool { return len(h.insertedIDs("w")) >= total })
	time.Sleep(300 * time.Millisecond)
	got := h.insertedIDs("w")
	if !slices.Equal(got, inTable) {
		t.Errorf("delivered %d ids, want exactly the %d in the table, in order, once each", len(got), len(inTable))
		counts := map[int64]int{}
		for _, id := range got {
			counts[id]++
		}
		for _, id := range inTable {
			if counts[id] != 1 {
				t.Errorf("id %d delivered %d times", id, counts[id])
			}
		}
	}
	if st := f.Status(); st.Reconnects < 2 {
		t.Errorf("Reconnects = %d, want at least 2", st.Reconnects)
	}
}

func TestFollowerResyncsWhenCheckpointFileIsPurged(t *testing.T) {
	// Binlogs older than a second are purged at each rotation and start-up.
	d := ownDB(t, "--binlog-expire-logs-seconds=1")
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	cfg := d.config("w")

	t.Run("before streaming", func(t *testing.T) {
		from := d.position(t)
		d.exec(t, "INSERT INTO w VALUES (1)")
		d.exec(t, "FLUSH BINARY LOGS")
		d.exec(t, "INSERT INTO w VALUES (2)")
		d.exec(t, "FLUSH BINARY LOGS")
		cur := d.position(t)
		// MariaDB keeps a binlog until InnoDB has flushed the commits in it
		// (about a second with innodb_flush_log_at_trx_commit=2): retry.
		eventually(t, 30*time.Second, from.File+" purged", func() bool {
			d.exec(t, "PURGE BINARY LOGS TO '"+cur.File+"'")
			logs, err := BinaryLogs(context.Background(), d.db)
			return err == nil && !slices.Contains(logs, from.File)
		})

		h := &recorder{}
		f := start(t, d, cfg, h, from)
		eventually(t, 30*time.Second, "Resync", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.resyncs) > 0 })
		d.exec(t, "INSERT INTO w VALUES (3)")
		eventually(t, 30*time.Second, "row 3", func() bool { return len(h.insertedIDs("w")) > 0 })

		h.mu.Lock()
		rs := slices.Clone(h.resyncs)
		h.mu.Unlock()
		if len(rs) != 1 || rs[0][0] != from || rs[0][1].File != cur.File || rs[0][1].Compare(cur) < 0 {
			t.Errorf("Resync calls = %v, want one from %s to at or after %s", rs, from, cur)
		}
		if got := h.insertedIDs("w"); !slices.Equal(got, []int64{3}) {
			t.Errorf("ids = %v, want [3]: rows 1 and 2 are the handler's to reconcile", got)
		}
		if p := f.Status().Position; p.Compare(rs[0][1]) < 0 {
			t.Errorf("Status().Position = %s, want at or after %s", p, rs[0][1])
		}
		if err := f.stop(t); err != nil {
			t.Errorf("Run = %v", err)
		}
	})

	t.Run("while disconnected", func(t *testing.T) {
		h := &recorder{}
		f := startCaughtUp(t, d, cfg, h)
		d.exec(t, "INSERT INTO w VALUES (10)")
		eventually(t, 30*time.Second, "row 10", func() bool { return len(h.insertedIDs("w")) == 1 })
		_, ckpt := h.snapshot()

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := d.srv.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // the checkpoint's file expires
		if err := d.srv.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if logs, _ := BinaryLogs(ctx, d.db); slices.Contains(logs, ckpt.File) {
			t.Skipf("the server kept %s after restart (%v); cannot provoke error 1236", ckpt.File, logs)
		}
		eventually(t, time.Minute, "Resync after reconnect", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.resyncs) > 0 })
		d.exec(t, "INSERT INTO w VALUES (11)")
		eventually(t, 30*time.Second, "row 11", func() bool { return len(h.insertedIDs("w")) == 2 })
		h.mu.Lock()
		rs := slices.Clone(h.resyncs)
		h.mu.Unlock()
		if len(rs) != 1 || rs[0][0].File != ckpt.File || rs[0][0].Pos != ckpt.Pos {
			t.Errorf("Resync calls = %v, want one from the checkpoint %s", rs, ckpt)
		}
		if got := h.insertedIDs("w"); !slices.Equal(got, []int64{10, 11}) {
			t.Errorf("ids = %v, want [10 11]", got)
		}
		if err := f.stop(t); err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

func TestRunRefusesServerWithoutRowBasedBinlogSayingTheFix(t *testing.T) {
	d := ownDB(t, "--skip-log-bin", "--binlog-format=STATEMENT", "--binlog-row-image=MINIMAL")
	f := start(t, d, d.config("w"), &recorder{}, Position{})
	var err error
	select {
	case err = <-f.done:
		f.once.Do(func() {})
	case <-time.After(30 * time.Second):
		t.Fatal("Run still running 30s after start on a server without row-based binlog")
	}
	if !errors.Is(err, ErrSetup) {
		t.Fatalf("Run = %v, want an ErrSetup error", err)
	}
	for _, want := range []string{"log_bin = mysql-bin", "binlog_format is STATEMENT", "SET GLOBAL binlog_format = 'ROW'",
		"binlog_row_image is MINIMAL", "binlog_row_image = FULL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestCurrentPositionCarriesTheGTIDStateAtThatPositionUnderConcurrentWrites(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ctx.Err() == nil; i++ {
			_, _ = d.db.ExecContext(ctx, "INSERT INTO w VALUES (?)", i)
		}
	}()
	for range 20 {
		p := d.position(t)
		var there string
		if err := d.db.QueryRow("SELECT BINLOG_GTID_POS(?, ?)", p.File, p.Pos).Scan(&there); err != nil {
			t.Fatal(err)
		}
		if p.GTID == "" || p.GTID != there {
			t.Errorf("CurrentPosition = %s, but the server says GTID %q there", p, there)
		}
	}
	cancel()
	wg.Wait()
}
