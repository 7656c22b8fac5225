package binlog

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestFollowerDeliversInsertUpdateDeleteWithNamesAndValues(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, `CREATE TABLE items (
		id INT PRIMARY KEY, name VARCHAR(50), amount DECIMAL(10,2), created DATETIME(6),
		seen TIMESTAMP(3) NULL, body TEXT, big BIGINT UNSIGNED, note VARCHAR(10) NULL)`)
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("items"), h)

	before := time.Now().UTC().Add(-2 * time.Second)
	d.exec(t, `INSERT INTO items VALUES (1, 'alpha', 12.50, '2024-01-02 03:04:05.123456',
		'2024-01-02 03:04:05.500', 'hello', 18446744073709551615, NULL)`)
	d.exec(t, `UPDATE items SET name = 'beta' WHERE id = 1`)
	d.exec(t, `DELETE FROM items WHERE id = 1`)
	eventually(t, 10*time.Second, "three transactions", func() bool { return len(h.txns()) == 3 })

	txns := h.txns()
	for i, tx := range txns {
		if len(tx.Changes) != 1 {
			t.Fatalf("txn %d has %d changes, want 1", i, len(tx.Changes))
		}
		if tx.Timestamp.Location() != time.UTC || tx.Timestamp.Before(before.Truncate(time.Second)) || tx.Timestamp.After(time.Now().Add(time.Second)) {
			t.Errorf("txn %d timestamp %v not a recent UTC time", i, tx.Timestamp)
		}
		if i > 0 && tx.End.Compare(txns[i-1].End) <= 0 {
			t.Errorf("txn %d End %s not after %s", i, tx.End, txns[i-1].End)
		}
		if tx.End.GTID == "" {
			t.Errorf("txn %d End has no GTID", i)
		}
	}
	var serverGTID string
	last := txns[2].End
	if err := d.db.QueryRow("SELECT BINLOG_GTID_POS(?, ?)", last.File, last.Pos).Scan(&serverGTID); err != nil || serverGTID != last.GTID {
		t.Errorf("End %s: server says GTID %q (%v) there", last, serverGTID, err)
	}
	ins, upd, del := txns[0].Changes[0], txns[1].Changes[0], txns[2].Changes[0]
	if ins.Action != Insert || ins.Table != "items" || ins.Before != nil {
		t.Fatalf("insert change = %+v", ins)
	}
	want := Row{"id": int32(1), "name": "alpha", "amount": "12.50", "created": "2024-01-02 03:04:05.123456",
		"seen": "2024-01-02 03:04:05.500", "body": []byte("hello"), "big": uint64(math.MaxUint64), "note": nil}
	assertRow(t, "insert", ins.After, want)
	if upd.Action != Update || upd.Before["name"] != "alpha" || upd.After["name"] != "beta" || upd.After["amount"] != "12.50" {
		t.Errorf("update change = %+v", upd)
	}
	if del.Action != Delete || del.After != nil || del.Before["name"] != "beta" || asInt(del.Before["id"]) != 1 {
		t.Errorf("delete change = %+v", del)
	}
	if got := f.Status(); got.RowsDecoded != 3 || got.Position.Compare(txns[2].End) < 0 || !got.Connected {
		t.Errorf("status = %+v, want 3 rows decoded, connected, position at or past %s", got, txns[2].End)
	}
}

func assertRow(t *testing.T, what string, got, want Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s row has %d columns %v, want %d", what, len(got), got, len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s row lacks column %q", what, k)
			continue
		}
		if wb, isBytes := w.([]byte); isBytes {
			if gb, ok := g.([]byte); !ok || string(gb) != string(wb) {
				t.Errorf("%s row %s = %#v, want %#v", what, k, g, w)
			}
			continue
		}
		if g != w {
			t.Errorf("%s row %s = %#v (%T), want %#v (%T)", what, k, g, g, w, w)
		}
	}
}

func TestFollowerDoesNotDecodeRowsOfUnwatchedTables(t *testing.T) {
	d := sharedDB(t)
	other := sharedDB(t) // same table name, other schema
	for _, db := range []testDB{d, other} {
		db.exec(t, "CREATE TABLE w (id INT PRIMARY KEY, v VARCHAR(20))")
	}
	d.exec(t, "CREATE TABLE u (id INT PRIMARY KEY, v VARCHAR(20))")
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, "INSERT INTO u SELECT seq, 'x' FROM seq_1_to_100")
	d.exec(t, "UPDATE u SET v = 'y'")
	other.exec(t, "INSERT INTO w SELECT seq, 'x' FROM seq_1_to_50")
	d.exec(t, "INSERT INTO w VALUES (1, 'a'), (2, 'b')")
	d.exec(t, "UPDATE w SET v = 'c' WHERE id = 1")
	eventually(t, 10*time.Second, "the watched changes", func() bool { return len(h.changes()) == 3 })

	for _, c := range h.changes() {
		if c.Table != "w" {
			t.Errorf("change on unwatched table: %+v", c)
		}
	}
	if got := f.Status().RowsDecoded; got != 3 {
		t.Errorf("RowsDecoded = %d, want 3: only rows of %s.w may be decoded", got, d.schema)
	}
}

func TestFollowerDeliversMultiStatementTransactionWhole(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY, v VARCHAR(20))")
	d.exec(t, "CREATE TABLE u (id INT PRIMARY KEY)")
	h := &recorder{}
	startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, `BEGIN;
		INSERT INTO w VALUES (1, 'a');
		INSERT INTO u VALUES (1);
		UPDATE w SET v = 'b' WHERE id = 1;
		INSERT INTO w VALUES (2, 'c'), (3, 'd');
		DELETE FROM w WHERE id = 1;
		COMMIT`)
	eventually(t, 10*time.Second, "the transaction", func() bool { return len(h.txns()) >= 1 })
	time.Sleep(200 * time.Millisecond) // a split transaction would show up now

	txns := h.txns()
	if len(txns) != 1 {
		t.Fatalf("got %d transactions, want 1", len(txns))
	}
	var got []string
	for _, c := range txns[0].Changes {
		row := c.After
		if c.Action == Delete {
			row = c.Before
		}
		got = append(got, c.Action.String()+":"+strconv.FormatInt(asInt(row["id"]), 10))
	}
	want := []string{"insert:1", "update:1", "insert:2", "insert:3", "delete:1"}
	if !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
}

func TestFollowerResumesFromEndWithoutDuplicatesOrGaps(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h1 := &recorder{}
	cfg := d.config("w")
	f1 := startCaughtUp(t, d, cfg, h1)

	const total = 300
	writerDone := make(chan error, 1)
	// The second half waits until the first follower stopped: on a loaded
	// machine the writer could otherwise finish before the stop and leave
	// nothing for the resumed follower to prove.
	secondHalf := make(chan struct{})
	go func() {
		for i := 1; i <= total; i++ {
			if i == total/2+1 {
				<-secondHalf
			}
			var err error
			if i%10 == 0 { // some multi-row transactions too
				_, err = d.db.Exec("INSERT INTO w VALUES (?), (?)", i*1000, i*1000+1)
			}
			if err == nil {
				_, err = d.db.Exec("INSERT INTO w VALUES (?)", i)
			}
			if err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()
	eventually(t, 30*time.Second, "a third of the rows", func() bool { return len(h1.insertedIDs("w")) >= total/3 })
	if err := f1.stop(t); err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	_, ckpt := h1.snapshot()
	h2 := &recorder{}
	start(t, d, cfg, h2, ckpt)
	close(secondHalf)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the last row", func() bool { return slices.Contains(h2.insertedIDs("w"), total) })

	seen := map[int64]int{}
	for _, id := range append(h1.insertedIDs("w"), h2.insertedIDs("w")...) {
		seen[id]++
	}
	for i := int64(1); i <= total; i++ {
		for _, id := range []int64{i, i * 1000, i*1000 + 1} {
			if id >= 1000 && i%10 != 0 {
				continue
			}
			if seen[id] != 1 {
				t.Errorf("id %d delivered %d times, want once", id, seen[id])
			}
		}
	}
	for _, tx := range h1.txns() {
		if tx.End.Compare(ckpt) > 0 {
			t.Errorf("first run delivered txn ending at %s, past its checkpoint %s", tx.End, ckpt)
		}
	}
}

func TestFollowerFollowsRotationByFlushBinaryLogs(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h := &recorder{}
	startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, "INSERT INTO w VALUES (1)")
	d.exec(t, "FLUSH BINARY LOGS")
	d.exec(t, "INSERT INTO w VALUES (2)")
	eventually(t, 10*time.Second, "both rows", func() bool { return len(h.txns()) == 2 })

	txns := h.txns()
	if c := compareFiles(txns[1].End.File, txns[0].End.File); c <= 0 {
		t.Errorf("second insert ends in %s, want a file after %s", txns[1].End.File, txns[0].End.File)
	}
	batches, _ := h.snapshot()
	rotated := false
	for i, b := range batches {
		if i > 0 && b.End.Compare(batches[i-1].End) < 0 {
			t.Errorf("batch %d End %s goes back from %s", i, b.End, batches[i-1].End)
		}
		if b.End.File == txns[1].End.File && b.End.Pos == 4 {
			rotated = true
		}
		for _, tx := range b.Txns {
			if tx.End.File != b.End.File && b.End.Pos != 4 {
				t.Errorf("batch %d ending at %s spans a rotation: it holds a txn ending at %s", i, b.End, tx.End)
			}
		}
	}
	if !rotated {
		t.Errorf("no batch ends at the head of %s: the rotation was not flushed; batches: %+v", txns[1].End.File, batches)
	}
}

func TestFollowerReconnectsAfterReplicaConnectionKilled(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, "INSERT INTO w VALUES (1)")
	eventually(t, 10*time.Second, "row 1", func() bool { return len(h.txns()) == 1 })
	d.exec(t, "KILL "+strconv.FormatUint(uint64(f.connID.Load()), 10))
	d.exec(t, "INSERT INTO w VALUES (2)")
	d.exec(t, "INSERT INTO w VALUES (3)")
	eventually(t, 20*time.Second, "rows 2 and 3", func() bool { return len(h.insertedIDs("w")) >= 3 })
	time.Sleep(200 * time.Millisecond)

	if got := h.insertedIDs("w"); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("ids = %v, want [1 2 3]", got)
	}
	if st := f.Status(); st.Reconnects < 1 {
		t.Errorf("Reconnects = %d, want at least 1", st.Reconnects)
	}
}

func TestFollowerReloadsColumnNamesAfterAddColumn(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY, name VARCHAR(20))")
	from := d.position(t)
	h := &recorder{}
	startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, "INSERT INTO w VALUES (1, 'a')")
	d.exec(t, "ALTER TABLE w ADD COLUMN extra VARCHAR(10) NOT NULL DEFAULT 'x'")
	d.exec(t, "INSERT INTO w VALUES (2, 'b', 'y')")
	d.exec(t, "UPDATE w SET name = 'c' WHERE id = 1")
	eventually(t, 10*time.Second, "three changes", func() bool { return len(h.changes()) == 3 })

	ch := h.changes()
	assertRow(t, "row before ALTER", ch[0].After, Row{"id": int32(1), "name": "a"})
	assertRow(t, "row after ALTER", ch[1].After, Row{"id": int32(2), "name": "b", "extra": "y"})
	assertRow(t, "old row updated after ALTER", ch[2].After, Row{"id": int32(1), "name": "c", "extra": "x"})

	// Read again from before the INSERT, after the ALTER: the old row has
	// fewer columns than the table now and keeps its names by position.
	h2 := &recorder{}
	start(t, d, d.config("w"), h2, from)
	eventually(t, 10*time.Second, "the replay", func() bool { return len(h2.changes()) == 3 })
	ch = h2.changes()
	assertRow(t, "replayed row before ALTER", ch[0].After, Row{"id": int32(1), "name": "a"})
	assertRow(t, "replayed row after ALTER", ch[1].After, Row{"id": int32(2), "name": "b", "extra": "y"})
}

func TestFollowerRetriesFailedBatchWithoutSkipping(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h := &recorder{}
	startCaughtUp(t, d, d.config("w"), h)

	h.mu.Lock()
	h.failures = 3
	h.mu.Unlock()
	d.exec(t, "INSERT INTO w VALUES (1)")
	d.exec(t, "INSERT INTO w VALUES (2)")
	eventually(t, 20*time.Second, "both rows", func() bool { return len(h.insertedIDs("w")) >= 2 })
	time.Sleep(200 * time.Millisecond)
	if got := h.insertedIDs("w"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("ids = %v, want [1 2]", got)
	}
	h.mu.Lock()
	failed := h.failed
	h.mu.Unlock()
	if failed != 3 {
		t.Errorf("failed ApplyBatch calls = %d, want 3", failed)
	}
}

func TestFollowerIdleFlushStopsAtItsOwnCheckpointWrites(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	d.exec(t, "CREATE TABLE u (id INT PRIMARY KEY)")
	d.exec(t, "CREATE TABLE ckpt (id INT PRIMARY KEY, pos VARCHAR(255))")
	h := &recorder{db: d.db}
	startCaughtUp(t, d, d.config("w"), h)

	d.exec(t, "INSERT INTO u VALUES (1)")
	eventually(t, 10*time.Second, "a change-less batch past the unwatched insert", func() bool {
		bs, _ := h.snapshot()
		return len(bs) >= 2
	})
	time.Sleep(500 * time.Millisecond) // 5 idle-flush periods
	before, _ := h.snapshot()
	time.Sleep(time.Second)
	after, _ := h.snapshot()
	if len(after) != len(before) {
		t.Errorf("batches went on while idle: %d, then %d a second later; the handler's checkpoint writes count as progress", len(before), len(after))
	}
	if len(after) > 3 {
		t.Errorf("%d batches for one unwatched insert, want at most 3", len(after))
	}
}

func TestRunFailsOnBadCredentials(t *testing.T) {
	d := sharedDB(t)
	cfg := d.config("w")
	cfg.User, cfg.Password = "nobody", "wrong"
	f := start(t, d, cfg, &recorder{}, Position{})
	select {
	case err := <-f.done:
		if !errors.Is(err, ErrSetup) {
			t.Errorf("Run = %v, want an ErrSetup error", err)
		}
		f.once.Do(func() {})
	case <-time.After(20 * time.Second):
		t.Fatal("Run still retrying bad credentials after 20s")
	}
}

func TestStatusReportsZeroLagWhenHeartbeatsSayCaughtUp(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("w"), h)
	d.exec(t, "INSERT INTO w VALUES (1)")
	eventually(t, 10*time.Second, "row 1", func() bool { return len(h.txns()) == 1 })
	eventually(t, 10*time.Second, "a heartbeat", func() bool { return f.Status().LagSeconds == 0 })

	st := f.Status()
	if !st.Connected || st.LastEventTime.IsZero() || time.Since(st.LastEventTime) > time.Minute {
		t.Errorf("status = %+v, want connected with a recent LastEventTime", st)
	}
	if st.EventsRead == 0 || st.BytesRead == 0 {
		t.Errorf("status = %+v, want events and bytes counted", st)
	}
	if err := f.stop(t); err != nil {
		t.Fatal(err)
	}
	f.caughtUp.Store(false) // as after an event: lag is now - event time
	f.now = func() time.Time { return st.LastEventTime.Add(90 * time.Second) }
	if lag := f.Status().LagSeconds; lag != 90 {
		t.Errorf("LagSeconds = %v, want 90", lag)
	}
}

func TestFollowerKeepsOnlyTheConfiguredColumnsOfATable(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY, big TEXT, v VARCHAR(20))")
	h := &recorder{}
	cfg := d.config("w")
	cfg.Columns = map[string][]string{"w": {"id"}}
	startCaughtUp(t, d, cfg, h)

	d.exec(t, "INSERT INTO w VALUES (1, REPEAT('x', 10000), 'a')")
	d.exec(t, "UPDATE w SET v = 'b' WHERE id = 1")
	eventually(t, 10*time.Second, "both changes", func() bool { return len(h.changes()) == 2 })
	ins, upd := h.changes()[0], h.changes()[1]
	assertRow(t, "insert", ins.After, Row{"id": int32(1)})
	assertRow(t, "update before", upd.Before, Row{"id": int32(1)})
	assertRow(t, "update after", upd.After, Row{"id": int32(1)})
}

func TestStatusReadPositionMovesPastTransactionsOnUnwatchedTables(t *testing.T) {
	d := sharedDB(t)
	d.exec(t, "CREATE TABLE w (id INT PRIMARY KEY)")
	d.exec(t, "CREATE TABLE u (id INT PRIMARY KEY)")
	h := &recorder{}
	f := startCaughtUp(t, d, d.config("w"), h)
	d.exec(t, "INSERT INTO u VALUES (1)")
	var file string
	var pos uint32
	var x1, x2, x3 any
	row := d.db.QueryRow("SHOW MASTER STATUS")
	cols, _ := d.db.Query("SHOW MASTER STATUS")
	n, _ := cols.Columns()
	cols.Close()
	dest := []any{&file, &pos, &x1, &x2, &x3}[:len(n)]
	if err := row.Scan(dest...); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the read position at the server's end", func() bool {
		rp := f.Status().ReadPosition
		return rp.File == file && rp.Pos >= pos
	})
}
