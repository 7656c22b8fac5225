package leader

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

const takeoverBound = 5 * time.Second

func TestStandbyTakesOverWithin5sWhenTheLeadersLockConnectionIsKilled(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_kill")
	var cl cluster
	dbA, dbB, probe := openDB(t, dsn, nil), openDB(t, dsn, nil), openDB(t, dsn, nil)
	a := startDaemon(t, &cl, "a", dbA, lock, Options{}, 0)
	b := startDaemon(t, &cl, "b", dbB, lock, Options{}, 0)
	old, next := oneLeader(t, a, b)
	oldConn := old.e.Status().ConnID

	killed := time.Now()
	if _, err := probe.Exec("KILL ?", oldConn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, takeoverBound, "standby leading", next.isLeading)
	waitFor(t, takeoverBound, "old leader stepping down", func() bool { return !old.isLeading() })
	stopped, _ := old.lastStop()
	// The server released the lock at once; the old leader learns it at
	// its next check: the two overlap for up to CheckInterval.
	t.Logf("KILL of the leader's lock connection: standby led after %s, old leader's lead stopped after %s", next.lastStart().Sub(killed), stopped.Sub(killed))
	if d := stopped.Sub(killed); d > old.e.opts.CheckInterval+old.e.opts.CheckTimeout+time.Second {
		t.Errorf("the old leader went on for %s after its lock connection was killed", d)
	}
	if _, cause := old.lastStop(); !errors.Is(cause, ErrLeadershipLost) {
		t.Errorf("cause of the old lead's end: %v, want ErrLeadershipLost", cause)
	}
	newConn := next.e.Status().ConnID
	waitFor(t, takeoverBound, "old leader back to standby, seeing the new holder", func() bool {
		st := old.e.Status()
		return st.Role == RoleStandby && st.HolderConnID == newConn
	})
	if got := holder(t, probe, lock); got != newConn {
		t.Errorf("holder %d, want %d", got, newConn)
	}
	if old.e.Status().ConnID == oldConn {
		t.Errorf("the old leader competes on its killed connection %d", oldConn)
	}
	assertNotPooled(t, old.db, oldConn)
}

// TestStandbyTakesOverWithin5sWhenTheLeaderProcessIsKilled runs the
// leader in a child process (this test binary) and kills it with SIGKILL.
func TestStandbyTakesOverWithin5sWhenTheLeaderProcessIsKilled(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_kill9")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLeaderProcess$")
	cmd.Env = append(os.Environ(), "LEADER_HELPER_DSN="+dsn, "LEADER_HELPER_LOCK="+lock)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	leading := make(chan uint64, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "LEADING "); ok {
				n, _ := strconv.ParseUint(id, 10, 64)
				leading <- n
			}
		}
	}()
	var childConn uint64
	select {
	case childConn = <-leading:
	case <-time.After(30 * time.Second):
		t.Fatal("the child did not lead within 30s")
	}

	var cl cluster
	next := startDaemon(t, &cl, "standby", openDB(t, dsn, nil), lock, Options{}, 0)
	waitFor(t, 5*time.Second, "standby seeing the child as holder", func() bool {
		st := next.e.Status()
		return st.Role == RoleStandby && st.HolderConnID == childConn
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, takeoverBound, "standby leading", next.isLeading)
	t.Logf("kill -9 of the leader process: standby led after %s", took)
	if got := next.e.Status().HolderConnID; got != next.e.Status().ConnID {
		t.Errorf("holder %d, want the standby's %d", got, next.e.Status().ConnID)
	}
}

// TestHelperLeaderProcess is the child of the kill -9 test; it does
// nothing in a normal run.
func TestHelperLeaderProcess(t *testing.T) {
	dsn := os.Getenv("LEADER_HELPER_DSN")
	if dsn == "" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db := openDB(t, dsn, nil)
	var e *Elector
	e = New(db, os.Getenv("LEADER_HELPER_LOCK"), zerolog.New(os.Stderr), Options{})
	err := e.Run(ctx, func(ctx context.Context) error {
		fmt.Printf("LEADING %d\n", e.Status().ConnID)
		<-ctx.Done()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// partition is a dial function whose connections can be cut off without
// either end seeing a FIN: writes vanish, reads hang, new dials fail.
type partition struct {
	mu    sync.Mutex
	cut   bool
	conns []*partConn
}

func (p *partition) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return nil, errors.New("test: network unreachable")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	pc := &partConn{Conn: c, closed: make(chan struct{})}
	p.conns = append(p.conns, pc)
	return pc, nil
}

func (p *partition) cutOff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.cut.Store(true)
	}
}

// closeAll closes the real sockets, at the end of the test.
func (p *partition) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Conn.Close()
	}
}

type partConn struct {
	net.Conn
	cut       atomic.Bool
	closeOnce sync.Once
	closed    chan struct{}
}

func (c *partConn) Read(p []byte) (int, error) {
	if c.cut.Load() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *partConn) Write(p []byte) (int, error) {
	if c.cut.Load() {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// Close of a cut connection leaves the real socket open: the FIN would
// never reach the server across a partition.
func (c *partConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	if c.cut.Load() {
		return nil
	}
	return c.Conn.Close()
}

func TestStandbyTakesOverWithin5sOfANetworkPartitionAfterTheOldLeaderStopped(t *testing.T) {
	dsn := sandboxtest.NewDatabase(t)
	lock := LockName("vt_partition")
	var cl cluster
	part := &partition{}
	t.Cleanup(part.closeAll)
	dbA := openDB(t, dsn, part.dial)
	dbB, probe := openDB(t, dsn, nil), openDB(t, dsn, nil)
	a := startDaemon(t, &cl, "a", dbA, lock, Options{}, 0)
	waitFor(t, 10*time.Second, "a leading", a.isLeading)
	b := startDaemon(t, &cl, "b", dbB, lock, Options{}, 0)
	waitFor(t, 10*time.Second, "b standing by", func() bool { return b.e.Status().HolderConnID == a.e.Status().ConnID })
	oldConn := a.e.Status().ConnID

	cut := time.Now()
	part.cutOff()
	took := waitFor(t, takeoverBound, "standby leading", b.isLeading)
	stopped, cause := a.lastStop()
	if stopped.IsZero() {
		t.Fatal("the partitioned leader still leads")
	}
	t.Logf("network partition: old leader stopped after %s, standby led after %s (SessionTimeout %s)", stopped.Sub(cut), took, a.e.opts.SessionTimeout)
	if !b.lastStart().After(stopped) {
		t.Errorf("the standby led at %s, before the partitioned leader stopped at %s", b.lastStart().Format(time.StampMicro), stopped.Format(time.StampMicro))
	}
	if n := cl.maxSeen.Load(); n != 1 {
		t.Errorf("%d lead functions ran at once, want 1", n)
	}
	if !errors.Is(cause, ErrLeadershipLost) {
		t.Errorf("cause of the partitioned lead's end: %v, want ErrLeadershipLost", cause)
	}
	if r := a.e.Role(); r != RoleStandby {
		t.Errorf("partitioned daemon's role %q, want %q", r, RoleStandby)
	}
	if connAlive(t, probe, oldConn) {
		t.Errorf("the server still has the partitioned lock connection %d", oldConn)
	}
}
