package leader

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// openDB opens dsn, closed when the test ends. dial, when set, is the
// driver's dial function.
func openDB(t *testing.T, dsn string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialFunc = dial
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// cluster is what the daemons of one test share: the number of lead
// functions running at once, and the most ever seen.
type cluster struct {
	active  atomic.Int32
	maxSeen atomic.Int32
}

func (c *cluster) enter() {
	n := c.active.Add(1)
	for {
		m := c.maxSeen.Load()
		if n <= m || c.maxSeen.CompareAndSwap(m, n) {
			return
		}
	}
}

// daemon runs one Elector whose lead function records what happens to it.
type daemon struct {
	name string
	e    *Elector
	db   *sql.DB

	cancel    context.CancelFunc
	runDone   chan struct{}
	runErr    error
	fail      chan error    // a value makes the running lead return it
	stopDelay time.Duration // how long lead takes to stop after its ctx ends

	mu      sync.Mutex
	starts  []time.Time
	stops   []time.Time
	causes  []error // context.Cause of each lead's ctx when it stopped
	leading bool
}

func startDaemon(t *testing.T, cl *cluster, name string, db *sql.DB, lock string, opts Options, stopDelay time.Duration) *daemon {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).With().Str("daemon", name).Timestamp().Logger()
	d := &daemon{name: name, db: db, e: New(db, lock, log, opts), runDone: make(chan struct{}), fail: make(chan error, 1), stopDelay: stopDelay}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	lead := func(ctx context.Context) error {
		d.mu.Lock()
		d.leading = true
		d.starts = append(d.starts, time.Now())
		d.mu.Unlock()
		cl.enter()
		var err error
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case err = <-d.fail:
		}
		time.Sleep(d.stopDelay)
		cl.active.Add(-1)
		d.mu.Lock()
		d.leading = false
		d.stops = append(d.stops, time.Now())
		d.causes = append(d.causes, context.Cause(ctx))
		d.mu.Unlock()
		return err
	}
	go func() {
		defer close(d.runDone)
		d.runErr = d.e.Run(ctx, lead)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.runDone:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: Run did not return within 10s of its context ending", name)
		}
	})
	return d
}

func (d *daemon) isLeading() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.leading
}

func (d *daemon) lastStart() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.starts) == 0 {
		return time.Time{}
	}
	return d.starts[len(d.starts)-1]
}

func (d *daemon) lastStop() (time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.stops) == 0 {
		return time.Time{}, nil
	}
	return d.stops[len(d.stops)-1], d.causes[len(d.causes)-1]
}

// stop cancels Run's context and waits for Run to return its error.
func (d *daemon) stop(t *testing.T) error {
	t.Helper()
	d.cancel()
	return d.wait(t, 10*time.Second)
}

func (d *daemon) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-d.runDone:
		return d.runErr
	case <-time.After(timeout):
		t.Fatalf("%s: Run did not return within %s", d.name, timeout)
		return nil
	}
}

// waitFor polls cond every 5 ms until it holds or timeout passes, and
// returns how long it took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("not %s within %s", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// oneLeader waits until exactly one of ds leads and returns it and the other.
func oneLeader(t *testing.T, a, b *daemon) (lead, standby *daemon) {
	t.Helper()
	waitFor(t, 10*time.Second, "one leader and one standby", func() bool {
		ra, rb := a.e.Role(), b.e.Role()
		return (ra == RoleLeader && rb == RoleStandby && b.e.Status().HolderConnID != 0) ||
			(rb == RoleLeader && ra == RoleStandby && a.e.Status().HolderConnID != 0)
	})
	if a.e.Role() == RoleLeader {
		return a, b
	}
	return b, a
}

// holder is the connection id holding lock, 0 when free.
func holder(t *testing.T, db *sql.DB, lock string) uint64 {
	t.Helper()
	var id sql.NullInt64
	if err := db.QueryRow("SELECT IS_USED_LOCK(?)", lock).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return uint64(id.Int64)
}

// connAlive tells whether the server still has the connection id.
func connAlive(t *testing.T, db *sql.DB, id uint64) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// assertNotPooled takes several connections at once from db and fails if
// the server connection id lockConn is among them.
func assertNotPooled(t *testing.T, db *sql.DB, lockConn uint64) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 4 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var id uint64
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if id == lockConn {
			t.Fatalf("the pool handed out the lock connection %d again", lockConn)
		}
	}
}

var errBroken = errors.New("test: the worker broke")
