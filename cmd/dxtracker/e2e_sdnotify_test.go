package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
)

// notifySocket is a unixgram socket standing in for systemd's
// NOTIFY_SOCKET; it records every datagram with its arrival time.
type notifySocket struct {
	path string
	conn *net.UnixConn

	mu    sync.Mutex
	grams []notifyGram
	wake  chan struct{} // closed and replaced on every datagram
}

type notifyGram struct {
	at     time.Time
	fields []string // the VAR=value lines
}

func (g notifyGram) has(assignment string) bool { return slices.Contains(g.fields, assignment) }

func (g notifyGram) String() string { return strconv.Quote(strings.Join(g.fields, "\n")) }

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify"), wake: make(chan struct{})}
	n.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.conn.Close() })
	go func() {
		buf := make([]byte, 8192)
		for {
			k, err := n.conn.Read(buf)
			if err != nil {
				return
			}
			g := notifyGram{at: time.Now(), fields: strings.Split(string(buf[:k]), "\n")}
			n.mu.Lock()
			n.grams = append(n.grams, g)
			close(n.wake)
			n.wake = make(chan struct{})
			n.mu.Unlock()
		}
	}()
	return n
}

func (n *notifySocket) all() []notifyGram {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.grams)
}

// waitFor waits until a datagram at index from or later holds assignment
// and returns its index.
func (n *notifySocket) waitFor(t *testing.T, from int, assignment string, within time.Duration) int {
	t.Helper()
	deadline := time.After(within)
	for {
		n.mu.Lock()
		for i := from; i < len(n.grams); i++ {
			if n.grams[i].has(assignment) {
				n.mu.Unlock()
				return i
			}
		}
		wake := n.wake
		n.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("no %s within %s; datagrams: %v", assignment, within, n.all())
		}
	}
}

func (n *notifySocket) count(assignment string, from int) int {
	c := 0
	for _, g := range n.all()[from:] {
		if g.has(assignment) {
			c++
		}
	}
	return c
}

// startNotifyDaemon runs `dxtracker run` the way systemd does for
// Type=notify with WatchdogSec=2s: NOTIFY_SOCKET, WATCHDOG_USEC and
// WATCHDOG_PID set to the daemon's own pid (a shell that execs the binary
// keeps its pid). watchdogPID, if not empty, overrides WATCHDOG_PID.
func (s *stack) startNotifyDaemon(n *notifySocket, watchdogPID string) *daemon {
	s.t.Helper()
	pid := "$$"
	if watchdogPID != "" {
		pid = watchdogPID
	}
	cmd := exec.Command("sh", "-c", `WATCHDOG_PID=`+pid+` exec "$0" run`, daemonBinary(s.t))
	cmd.Env = append(envWithout(s.env(), "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"),
		"NOTIFY_SOCKET="+n.path, "WATCHDOG_USEC=2000000")
	return s.startRunProcess(cmd, s.listen)
}

func TestSdNotifyReadyAfterStreamOpenWatchdogReloadAndStopping(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	n := newNotifySocket(t)
	d := s.startNotifyDaemon(n, "")

	// READY=1 once the binlog stream is open: readyz agrees at that moment.
	n.waitFor(t, 0, "READY=1", 30*time.Second)
	resp, err := http.Get("http://" + s.listen + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"binlog_connected":true`) {
		t.Fatalf("READY=1 sent, but readyz answers %d %s", resp.StatusCode, b)
	}
	if c := n.count("READY=1", 0); c != 1 {
		t.Fatalf("%d READY=1 at start-up, want 1: %v", c, n.all())
	}

	// WATCHDOG=1 at least every WATCHDOG_USEC/2 (1s), from the main loop;
	// that it comes at all proves WATCHDOG_PID matched the daemon's pid.
	from := len(n.all())
	time.Sleep(5 * time.Second)
	var pings []time.Time
	for _, g := range n.all()[from:] {
		if g.has("WATCHDOG=1") {
			pings = append(pings, g.at)
		}
	}
	if len(pings) < 3 {
		t.Fatalf("%d WATCHDOG=1 in 5s with WATCHDOG_USEC=2000000, want at least 3: %v", len(pings), n.all())
	}
	// systemd kills at 2s without a ping; the daemon pings every 1s (plus
	// up to one 250ms tick of its loop).
	for i := 1; i < len(pings); i++ {
		if gap := pings[i].Sub(pings[i-1]); gap > 1750*time.Millisecond {
			t.Fatalf("%s between two WATCHDOG=1, want about 1s (half of WATCHDOG_USEC)", gap)
		}
	}

	// SIGHUP: RELOADING=1 (with MONOTONIC_USEC, for Type=notify-reload),
	// then READY=1 once the configuration was re-read.
	mark := len(n.all())
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloading := n.waitFor(t, mark, "RELOADING=1", 10*time.Second)
	g := n.all()[reloading]
	mono := slices.IndexFunc(g.fields, func(f string) bool { return strings.HasPrefix(f, "MONOTONIC_USEC=") })
	if mono < 0 {
		t.Fatalf("RELOADING=1 without MONOTONIC_USEC: %q", g.fields)
	}
	if us, err := strconv.ParseUint(strings.TrimPrefix(g.fields[mono], "MONOTONIC_USEC="), 10, 64); err != nil || us == 0 {
		t.Fatalf("MONOTONIC_USEC %q", g.fields[mono])
	}
	if i := n.waitFor(t, mark, "READY=1", 10*time.Second); i < reloading {
		t.Fatalf("READY=1 (datagram %d) before RELOADING=1 (datagram %d): %v", i, reloading, n.all())
	}

	// SIGTERM: STOPPING=1, then a clean exit.
	mark = len(n.all())
	d.stop(t)
	time.Sleep(100 * time.Millisecond) // the last datagram may still be in flight
	stopping := n.waitFor(t, mark, "STOPPING=1", 5*time.Second)
	for _, g := range n.all()[stopping+1:] {
		if g.has("READY=1") {
			t.Fatalf("READY=1 after STOPPING=1: %v", n.all()[mark:])
		}
	}
}

// WATCHDOG_PID names the process the watchdog is meant for: when it is
// another one (systemd's variables inherited by a child), the daemon must
// not ping, or it would keep a hung parent alive.
func TestSdNotifyWatchdogIsOffWhenWatchdogPIDIsAnotherProcess(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	n := newNotifySocket(t)
	d := s.startNotifyDaemon(n, "1")
	n.waitFor(t, 0, "READY=1", 30*time.Second)
	time.Sleep(2 * time.Second)
	if c := n.count("WATCHDOG=1", 0); c != 0 {
		t.Fatalf("%d WATCHDOG=1 with WATCHDOG_PID=1: %v", c, n.all())
	}
	d.stop(t)
}
