package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// recorder is the test Handler: it keeps every batch in memory and, when
// db is set, writes its checkpoint into the quiet table ckpt of the watched
// schema, as a real handler would.
type recorder struct {
	db *sql.DB // optional

	mu         sync.Mutex
	batches    []Batch
	resyncs    [][2]Position
	checkpoint Position
	failures   int // ApplyBatch calls still to fail
	failed     int // ApplyBatch calls failed so far
}

func (r *recorder) ApplyBatch(ctx context.Context, b Batch) error {
	r.mu.Lock()
	if r.failures > 0 {
		r.failures--
		r.failed++
		r.mu.Unlock()
		return errors.New("recorder: injected failure")
	}
	r.mu.Unlock()
	if r.db != nil {
		if _, err := r.db.ExecContext(ctx, "INSERT INTO ckpt (id, pos) VALUES (1, ?) ON DUPLICATE KEY UPDATE pos = VALUES(pos)", b.End.String()); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
	r.checkpoint = b.End
	return nil
}

func (r *recorder) Resync(_ context.Context, from, to Position) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resyncs = append(r.resyncs, [2]Position{from, to})
	r.checkpoint = to
	return nil
}

func (r *recorder) snapshot() (batches []Batch, checkpoint Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches), r.checkpoint
}

func (r *recorder) txns() []Txn {
	bs, _ := r.snapshot()
	var out []Txn
	for _, b := range bs {
		out = append(out, b.Txns...)
	}
	return out
}

func (r *recorder) changes() []RowChange {
	var out []RowChange
	for _, t := range r.txns() {
		out = append(out, t.Changes...)
	}
	return out
}

// ids lists the "id" column of every inserted row of table, in order.
func (r *recorder) insertedIDs(table string) []int64 {
	var ids []int64
	for _, c := range r.changes() {
		if c.Table == table && c.Action == Insert {
			ids = append(ids, asInt(c.After["id"]))
		}
	}
	return ids
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	panic(fmt.Sprintf("not an integer: %T %v", v, v))
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testDB is one database on a sandbox server.
type testDB struct {
	srv    *sandbox.Server
	schema string
	db     *sql.DB
}

// sharedDB is a fresh database on the shared server.
func sharedDB(t *testing.T) testDB {
	t.Helper()
	dsn := sandboxtest.NewDatabase(t)
	return openDB(t, sandboxtest.Server(t), dsn)
}

// ownDB is database "bl" on a private server, for tests that kill,
// restart or purge it.
func ownDB(t *testing.T, extraArgs ...string) testDB {
	t.Helper()
	srv := sandboxtest.OwnServer(t, sandbox.Options{ExtraArgs: extraArgs})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sandbox.CreateDatabase(ctx, srv, "bl"); err != nil {
		t.Fatal(err)
	}
	return openDB(t, srv, srv.DSN("bl"))
}

func openDB(t *testing.T, srv *sandbox.Server, dsn string) testDB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return testDB{srv: srv, schema: cfg.DBName, db: db}
}

func (d testDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.db.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (d testDB) position(t *testing.T) Position {
	t.Helper()
	p, err := CurrentPosition(context.Background(), d.db)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var nextServerID atomic.Uint32

func init() { nextServerID.Store(1000) }

// config watches tables of d's schema, with short timers for tests.
func (d testDB) config(tables ...string) Config {
	return Config{
		Addr:            "127.0.0.1:" + strconv.Itoa(d.srv.Port()),
		User:            "root",
		ServerID:        nextServerID.Add(1),
		Schema:          d.schema,
		Tables:          tables,
		QuietTables:     []string{"ckpt"},
		HeartbeatPeriod: time.Second,
		ReadTimeout:     5 * time.Second, // the sandbox can stall a second or two on DDL
		IdleFlush:       100 * time.Millisecond,
	}
}

// running is a Follower whose Run goes on in the background.
type running struct {
	*Follower
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs a Follower until stop (or the end of the test).
func start(t *testing.T, d testDB, cfg Config, h Handler, from Position) *running {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	f := New(cfg, d.db, log, h)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Follower: f, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.Run(ctx, from) }()
	t.Cleanup(func() { _ = r.stop(t) })
	return r
}

// stop cancels Run and returns its result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(30 * time.Second):
			r.err = errors.New("Run did not return 30s after cancel")
		}
	})
	return r.err
}

// startCaughtUp starts from the current position and waits for the first
// (change-less) batch, after which every write is seen.
func startCaughtUp(t *testing.T, d testDB, cfg Config, h *recorder) *running {
	t.Helper()
	r := start(t, d, cfg, h, Position{})
	eventually(t, 30*time.Second, "the start batch", func() bool {
		bs, _ := h.snapshot()
		return len(bs) > 0 && r.Status().Connected
	})
	return r
}
