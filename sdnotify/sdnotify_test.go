package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen opens a unixgram socket like systemd's and points NOTIFY_SOCKET
// at it. The path lives in a short temp dir: sun_path holds 108 bytes.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return conn
}

func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "notify")
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestEachCallSendsExactlyItsDatagram(t *testing.T) {
	conn := listen(t, socketPath(t))
	for _, c := range []struct {
		name string
		call func() error
		want string
	}{
		{"Ready", Ready, "READY=1"},
		{"Stopping", Stopping, "STOPPING=1"},
		{"Watchdog", Watchdog, "WATCHDOG=1"},
		{"Status", func() error { return Status("following mysql-bin.000042:1337") }, "STATUS=following mysql-bin.000042:1337"},
		{"StatusNewlines", func() error { return Status("line one\nREADY=1\r\nthree") }, "STATUS=line one READY=1 three"},
		{"Notify", func() error { return Notify("STATUS=x\nWATCHDOG=1") }, "STATUS=x\nWATCHDOG=1"},
	} {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := receive(t, conn); got != c.want {
			t.Errorf("%s sent %q, want %q", c.name, got, c.want)
		}
	}
}

func TestReloadingCarriesTheMonotonicClock(t *testing.T) {
	conn := listen(t, socketPath(t))
	before, _ := monotonicUsec()
	if err := Reloading(); err != nil {
		t.Fatal(err)
	}
	after, _ := monotonicUsec()
	got := receive(t, conn)
	first, rest, ok := strings.Cut(got, "\n")
	if first != "RELOADING=1" || !ok || !strings.HasPrefix(rest, "MONOTONIC_USEC=") {
		t.Fatalf("sent %q, want RELOADING=1\\nMONOTONIC_USEC=<n>", got)
	}
	us, err := strconv.ParseUint(strings.TrimPrefix(rest, "MONOTONIC_USEC="), 10, 64)
	if err != nil || us < before || us > after || before == 0 {
		t.Errorf("MONOTONIC_USEC=%d (err %v), want between %d and %d", us, err, before, after)
	}
	// CLOCK_MONOTONIC counts from boot without suspend, so it is at most
	// the uptime; the wall clock (a mistake here) would be decades more.
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		var up float64
		fmt.Sscanf(string(b), "%f", &up)
		if float64(us)/1e6 > up+5 {
			t.Errorf("MONOTONIC_USEC %d s is far from uptime %.0f s", us/1e6, up)
		}
	}
}

func TestAbstractSocketName(t *testing.T) {
	conn := listen(t, fmt.Sprintf("@dxt-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := Ready(); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, conn); got != "READY=1" {
		t.Errorf("sent %q", got)
	}
}

func TestWithoutNotifySocketEverythingIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	os.Unsetenv("NOTIFY_SOCKET")
	for _, f := range []func() error{Ready, Stopping, Reloading, Watchdog, func() error { return Status("x") }} {
		if err := f(); err != nil {
			t.Errorf("error without NOTIFY_SOCKET: %v", err)
		}
	}
}

func TestErrorsWhenTheSocketIsGoneOrUnsupported(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	if err := Ready(); err == nil {
		t.Error("no error for a missing socket")
	}
	t.Setenv("NOTIFY_SOCKET", "vsock:2:1234")
	if err := Ready(); err == nil || !strings.Contains(err.Error(), "vsock:2:1234") {
		t.Errorf("vsock: err = %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := os.Getpid()
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
		on        bool
	}{
		{"30000000", "", 30 * time.Second, true},
		{"30000000", strconv.Itoa(self), 30 * time.Second, true},
		{"30000000", strconv.Itoa(self + 1), 0, false}, // for another process
		{"30000000", "x", 0, false},
		{"", "", 0, false},
		{"0", "", 0, false},
		{"-5", "", 0, false},
		{"abc", "", 0, false},
		{"99999999999999999999", "", 0, false},
	} {
		t.Setenv("WATCHDOG_USEC", c.usec)
		t.Setenv("WATCHDOG_PID", c.pid)
		got, on := WatchdogInterval()
		if got != c.want || on != c.on {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: got %v %v, want %v %v", c.usec, c.pid, got, on, c.want, c.on)
		}
	}
}
