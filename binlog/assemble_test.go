package binlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/rs/zerolog"
)

const testTS = 1_700_000_000

func event(logPos uint32, e replication.Event) *replication.BinlogEvent {
	return &replication.BinlogEvent{Header: &replication.EventHeader{Timestamp: testTS, LogPos: logPos}, Event: e}
}

func gtidEvent(seq uint64, standalone bool) *replication.BinlogEvent {
	e := &replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: seq}}
	if standalone {
		e.Flags = replication.BINLOG_MARIADB_FL_STANDALONE
	}
	return event(0, e)
}

func newTestAssembler(t *testing.T) *assembler {
	t.Helper()
	f := New(Config{Schema: "s", Tables: []string{"w"}, QuietTables: []string{"q"}}, nil, zerolog.Nop(), &recorder{})
	f.flavor = flavorMariaDB
	a, err := newAssembler(f, Position{File: "binlog.000001", Pos: 4, GTID: "0-1-10"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func handleAll(t *testing.T, a *assembler, evs ...*replication.BinlogEvent) {
	t.Helper()
	for _, ev := range evs {
		if err := a.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAssemblerFoldsCommitsWithoutWatchedChangesIntoOnePosition(t *testing.T) {
	a := newTestAssembler(t)
	if _, ok := a.takePending(); ok {
		t.Fatal("pending position before any commit")
	}
	for i, p := range []uint32{100, 200, 300} {
		handleAll(t, a, gtidEvent(uint64(11+i), false), event(p, &replication.XIDEvent{}))
	}
	if len(a.ready) != 0 {
		t.Fatalf("%d items for commits without watched changes, want none until asked", len(a.ready))
	}
	it, ok := a.takePending()
	want := Position{File: "binlog.000001", Pos: 300, GTID: "0-1-13"}
	if !ok || it.txn != nil || it.end != want || it.progress || it.flush {
		t.Errorf("pending item = %+v, %v; want end %s without progress", it, ok, want)
	}
	if _, ok := a.takePending(); ok {
		t.Error("pending position handed over twice")
	}
}

func TestAssemblerCountsNonQuietWorkAsProgress(t *testing.T) {
	a := newTestAssembler(t)
	handleAll(t, a, gtidEvent(11, true), event(100, &replication.QueryEvent{Query: []byte("CREATE TABLE other (id INT)")}))
	if it, ok := a.takePending(); !ok || !it.progress || it.end.Pos != 100 {
		t.Errorf("after DDL: pending item = %+v, %v; want progress at 100", it, ok)
	}
}

func TestAssemblerFoldsPendingPositionIntoRotation(t *testing.T) {
	a := newTestAssembler(t)
	handleAll(t, a, gtidEvent(11, false), event(100, &replication.XIDEvent{}),
		event(0, &replication.RotateEvent{Position: 4, NextLogName: []byte("binlog.000002")}))
	want := Position{File: "binlog.000002", Pos: 4, GTID: "0-1-11"}
	if len(a.ready) != 1 || a.ready[0].end != want || !a.ready[0].flush || !a.ready[0].progress {
		t.Fatalf("items = %+v, want one flush item at %s", a.ready, want)
	}
	if _, ok := a.takePending(); ok {
		t.Error("the rotation item left a pending position behind")
	}
}

func TestAssemblerIgnoresTheSyntheticRotateOfItsOwnFile(t *testing.T) {
	a := newTestAssembler(t)
	rot := event(0, &replication.RotateEvent{Position: 4, NextLogName: []byte("binlog.000001")})
	rot.Header.Timestamp = 0
	handleAll(t, a, rot)
	if len(a.ready) != 0 {
		t.Errorf("items = %+v for the synthetic rotate at connect, want none", a.ready)
	}
}

func TestEventQueueHandsOverEventsBeforeTheStreamError(t *testing.T) {
	q := newEventQueue(10, 1<<20)
	for range 3 {
		if err := q.HandleEvent(event(1, &replication.XIDEvent{})); err != nil {
			t.Fatal(err)
		}
	}
	broke := errors.New("connection reset")
	q.fail(broke)
	evs, err := q.take(nil)
	if len(evs) != 3 || err != nil {
		t.Fatalf("take = %d events, %v; want 3 events first", len(evs), err)
	}
	if evs, err := q.take(evs); len(evs) != 0 || !errors.Is(err, broke) {
		t.Fatalf("take = %d events, %v; want the stream error", len(evs), err)
	}
}

func TestEventQueueMakesTheNetworkSideWaitWhenFull(t *testing.T) {
	q := newEventQueue(2, 1<<20)
	added := make(chan error, 3)
	go func() {
		for range 3 {
			added <- q.HandleEvent(event(1, &replication.XIDEvent{}))
		}
	}()
	<-added
	<-added
	select {
	case err := <-added:
		t.Fatalf("third event queued (%v) past the bound of 2", err)
	case <-time.After(50 * time.Millisecond):
	}
	if evs, _ := q.take(nil); len(evs) != 2 {
		t.Fatalf("took %d events, want 2", len(evs))
	}
	if err := <-added; err != nil {
		t.Fatal(err)
	}
}

func TestEventQueueBoundsBytesButTakesALargeEventAlone(t *testing.T) {
	q := newEventQueue(100, 10)
	big := event(1, &replication.XIDEvent{})
	big.RawData = make([]byte, 50)
	if err := q.HandleEvent(big); err != nil {
		t.Fatal(err)
	}
	added := make(chan error, 1)
	go func() { added <- q.HandleEvent(event(2, &replication.XIDEvent{})) }()
	select {
	case <-added:
		t.Fatal("event queued behind one over the byte bound")
	case <-time.After(50 * time.Millisecond):
	}
	q.close()
	if err := <-added; !errors.Is(err, errReaderGone) {
		t.Errorf("HandleEvent after close = %v, want errReaderGone", err)
	}
}
