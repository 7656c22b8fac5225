package leader

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestExactlyOneOfTwoDaemonsLeadsAndTheStandbyKnowsTheHolder(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_one")
	var cl cluster
	dbA, dbB, probe := openDB(t, dsn, nil), openDB(t, dsn, nil), openDB(t, dsn, nil)
	if r := New(dbA, lock, zerolog.Nop(), Options{}).Role(); r != RoleStarting {
		t.Errorf("role before Run %q, want %q", r, RoleStarting)
	}
	a := startDaemon(t, &cl, "a", dbA, lock, Options{}, 0)
	b := startDaemon(t, &cl, "b", dbB, lock, Options{}, 0)
	lead, standby := oneLeader(t, a, b)

	// Watch for a while: never two at once, the roles stay put.
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if lead.e.Role() != RoleLeader || standby.e.Role() != RoleStandby {
			t.Fatalf("roles changed without a failure: %s=%s %s=%s", lead.name, lead.e.Role(), standby.name, standby.e.Role())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := cl.maxSeen.Load(); n != 1 {
		t.Errorf("%d lead functions ran at once, want 1", n)
	}
	ls, ss := lead.e.Status(), standby.e.Status()
	if got := holder(t, probe, lock); got != ls.ConnID || got == 0 {
		t.Errorf("server says connection %d holds the lock, leader's lock connection is %d", got, ls.ConnID)
	}
	if ss.HolderConnID != ls.ConnID {
		t.Errorf("standby sees holder %d, want %d", ss.HolderConnID, ls.ConnID)
	}
	if ls.Terms != 1 || ss.Terms != 0 || ls.LastCheck.IsZero() || ls.LockName != lock {
		t.Errorf("leader status %+v, standby status %+v", ls, ss)
	}
	if f := ls.Fields(); f["role"] != RoleLeader || f["lock_conn_id"] != ls.ConnID {
		t.Errorf("leader fields %v", f)
	}
	if f := ss.Fields(); f["role"] != RoleStandby || f["lock_holder_conn_id"] != ls.ConnID {
		t.Errorf("standby fields %v", f)
	}

	// A standby parked in GET_LOCK stops promptly.
	start := time.Now()
	if err := standby.stop(t); err != nil {
		t.Errorf("standby Run: %v, want nil", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("standby took %s to stop", d)
	}
	if r := standby.e.Role(); r != RoleStopped {
		t.Errorf("stopped standby's role %q", r)
	}
}

func TestStandbyTakesOverWhenTheLeaderShutsDownAndReleasesOnlyAfterLeadReturned(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_shutdown")
	var cl cluster
	dbA, dbB, probe := openDB(t, dsn, nil), openDB(t, dsn, nil), openDB(t, dsn, nil)
	// Each lead takes 300 ms to stop: the lock must stay held meanwhile.
	a := startDaemon(t, &cl, "a", dbA, lock, Options{}, 300*time.Millisecond)
	b := startDaemon(t, &cl, "b", dbB, lock, Options{}, 300*time.Millisecond)
	old, next := oneLeader(t, a, b)
	oldConn := old.e.Status().ConnID

	start := time.Now()
	if err := old.stop(t); err != nil {
		t.Errorf("Run of the leader after its ctx ended: %v, want nil", err)
	}
	waitFor(t, 5*time.Second, "standby leading", next.isLeading)
	t.Logf("takeover after a graceful shutdown (lead stopping for 300ms): %s", next.lastStart().Sub(start))
	stopped, _ := old.lastStop()
	if !next.lastStart().After(stopped) {
		t.Errorf("the standby led at %s, before the old lead returned at %s", next.lastStart().Format(time.StampMicro), stopped.Format(time.StampMicro))
	}
	if n := cl.maxSeen.Load(); n != 1 {
		t.Errorf("%d lead functions ran at once, want 1", n)
	}
	if r := old.e.Role(); r != RoleStopped {
		t.Errorf("old leader's role %q, want %q", r, RoleStopped)
	}
	if got, want := holder(t, probe, lock), next.e.Status().ConnID; got != want {
		t.Errorf("holder %d, want the new leader's %d", got, want)
	}
	if connAlive(t, probe, oldConn) {
		t.Errorf("the old lock connection %d is still open on the server", oldConn)
	}
	assertNotPooled(t, old.db, oldConn)
}

func TestLeadErrorIsReturnedByRunAndTheLockReleased(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_fail")
	var cl cluster
	dbA, dbB, probe := openDB(t, dsn, nil), openDB(t, dsn, nil), openDB(t, dsn, nil)
	a := startDaemon(t, &cl, "a", dbA, lock, Options{}, 0)
	b := startDaemon(t, &cl, "b", dbB, lock, Options{}, 0)
	old, next := oneLeader(t, a, b)
	oldConn := old.e.Status().ConnID

	failed := time.Now()
	old.fail <- errBroken
	if err := old.wait(t, 5*time.Second); !errors.Is(err, errBroken) {
		t.Fatalf("Run returned %v, want the lead's error", err)
	}
	waitFor(t, 5*time.Second, "standby leading", next.isLeading)
	t.Logf("takeover after the leader's worker failed: %s", next.lastStart().Sub(failed))
	if r := old.e.Role(); r != RoleStopped {
		t.Errorf("failed leader's role %q", r)
	}
	if got, want := holder(t, probe, lock), next.e.Status().ConnID; got != want {
		t.Errorf("holder %d, want the new leader's %d", got, want)
	}
	if connAlive(t, probe, oldConn) {
		t.Errorf("the failed leader's lock connection %d is still open", oldConn)
	}
	assertNotPooled(t, old.db, oldConn)
}

func TestLeaderWithoutRivalLeadsAgainAfterLosingItsConnection(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_alone")
	var cl cluster
	db, probe := openDB(t, dsn, nil), openDB(t, dsn, nil)
	a := startDaemon(t, &cl, "a", db, lock, Options{}, 0)
	waitFor(t, 5*time.Second, "leading", a.isLeading)
	first := a.e.Status().ConnID
	if _, err := probe.Exec("KILL ?", first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "leading on a new connection", func() bool {
		st := a.e.Status()
		return a.isLeading() && st.Terms == 2 && st.ConnID != first
	})
	_, cause := a.lastStop()
	if !errors.Is(cause, ErrLeadershipLost) {
		t.Errorf("cause of the first lead's end: %v, want ErrLeadershipLost", cause)
	}
	if got, want := holder(t, probe, lock), a.e.Status().ConnID; got != want {
		t.Errorf("holder %d, want %d", got, want)
	}
}

// TestGetLockBehaviourTheElectorReliesOn pins what MariaDB does with named
// locks: re-entrant per connection, released at once when the holder is
// killed, NULL for a killed waiter.
func TestGetLockBehaviourTheElectorReliesOn(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	db := openDB(t, dsn, nil)
	ctx := context.Background()
	c1, c2 := conn(t, db), conn(t, db)
	q := func(c *sql.Conn, query string, args ...any) sql.NullInt64 {
		t.Helper()
		var v sql.NullInt64
		if err := c.QueryRowContext(ctx, query, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
	if v := q(c1, "SELECT GET_LOCK('re', 0) + GET_LOCK('re', 0)"); v.Int64 != 2 {
		t.Errorf("re-entrant GET_LOCK: %v", v)
	}
	if v := q(c1, "SELECT RELEASE_LOCK('re')"); v.Int64 != 1 {
		t.Errorf("first release: %v", v)
	}
	if v := q(c2, "SELECT GET_LOCK('re', 0.05)"); v.Int64 != 0 {
		t.Errorf("the lock must still be held after one of two releases: %v", v)
	}
	if v := q(c2, "SELECT RELEASE_LOCK('re')"); !v.Valid || v.Int64 != 0 {
		t.Errorf("RELEASE_LOCK of another connection's lock: %v, want 0", v)
	}
	if v := q(c1, "SELECT RELEASE_LOCK('re')"); v.Int64 != 1 {
		t.Errorf("second release: %v", v)
	}
	if v := q(c1, "SELECT RELEASE_LOCK('re')"); v.Valid {
		t.Errorf("RELEASE_LOCK of a free lock: %v, want NULL", v)
	}

	// A killed holder releases at once; a killed waiter gets NULL.
	var id1, id2 int64
	id1, id2 = q(c1, "SELECT CONNECTION_ID()").Int64, q(c2, "SELECT CONNECTION_ID()").Int64
	q(c1, "SELECT GET_LOCK('k', 0)")
	waiter := make(chan sql.NullInt64, 1)
	go func() {
		var v sql.NullInt64
		_ = c2.QueryRowContext(ctx, "SELECT GET_LOCK('k', 30)").Scan(&v)
		waiter <- v
	}()
	waitFor(t, 5*time.Second, "waiter parked", func() bool {
		var n int
		_ = db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT GET_LOCK%'", id2).Scan(&n)
		return n == 1
	})
	if _, err := db.Exec("KILL QUERY ?", id2); err != nil {
		t.Fatal(err)
	}
	if v := <-waiter; v.Valid {
		t.Errorf("killed waiter's GET_LOCK: %v, want NULL", v)
	}
	if _, err := db.Exec("KILL ?", id1); err != nil {
		t.Fatal(err)
	}
	// KILL only flags the thread; it releases its locks when it notices,
	// at once on an idle server, later on a busy one.
	waitFor(t, 5*time.Second, "the lock freed after KILL", func() bool {
		var h sql.NullInt64
		return db.QueryRow("SELECT IS_USED_LOCK('k')").Scan(&h) == nil && !h.Valid
	})

	// Documented as case-insensitive; logged, as it differs by server.
	c3, c4 := conn(t, db), conn(t, db)
	q(c3, "SELECT GET_LOCK('CaseTest', 0)")
	t.Logf("GET_LOCK('casetest') while 'CaseTest' is held by another connection: %v (1 = names are case-sensitive)", q(c4, "SELECT GET_LOCK('casetest', 0)"))
}

func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
