// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) without a dependency: one datagram of newline-separated
// VAR=value assignments to the unix socket named by $NOTIFY_SOCKET.
//
// Every function is a no-op returning nil when NOTIFY_SOCKET is unset, so
// the daemon calls them unconditionally, also when run by hand or in tests.
// The unit runs the daemon with Type=notify and NotifyAccess=main: only the
// main process may notify, which is the process calling these functions.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notify sends state, e.g. "READY=1" or "STATUS=...\nWATCHDOG=1", to the
// service manager. It returns nil without doing anything when NOTIFY_SOCKET
// is unset.
func Notify(state string) error {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	switch {
	case name[0] == '@':
		// An abstract socket: the kernel name starts with a NUL byte. Go's
		// net package makes that translation itself for a leading '@'.
	case name[0] == '/':
	default:
		// systemd ≥ 254 may also pass vsock:CID:PORT (a VM's manager).
		return fmt.Errorf("sdnotify: NOTIFY_SOCKET=%q: only unix socket paths and @abstract names are supported", name)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Ready tells systemd that start-up is complete (or, after Reloading, that
// the reload is finished). systemctl start returns only then.
func Ready() error { return Notify("READY=1") }

// Stopping tells systemd that the daemon is shutting down gracefully.
func Stopping() error { return Notify("STOPPING=1") }

// Reloading tells systemd that the daemon re-reads its configuration; send
// Ready when done, whether the new configuration was taken or refused.
// MONOTONIC_USEC (CLOCK_MONOTONIC at the start of the reload) is what
// Type=notify-reload (systemd ≥ 253) requires; older managers ignore it.
func Reloading() error {
	state := "RELOADING=1"
	if us, ok := monotonicUsec(); ok {
		state += "\nMONOTONIC_USEC=" + strconv.FormatUint(us, 10)
	}
	return Notify(state)
}

// Status sets the one-line status shown by systemctl status. Line breaks
// are replaced by spaces: a newline would start another assignment.
func Status(s string) error {
	return Notify("STATUS=" + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
}

// Watchdog resets the watchdog timer (WatchdogSec= in the unit). Call it
// from the loop whose liveness it proves, every WatchdogInterval()/2.
func Watchdog() error { return Notify("WATCHDOG=1") }

// WatchdogInterval returns the watchdog timeout systemd expects pings
// within, from WATCHDOG_USEC, and whether the watchdog is on for this
// process (WATCHDOG_PID, when set, must be our pid). Ping at half of it.
func WatchdogInterval() (time.Duration, bool) {
	d, err := watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
	return d, err == nil && d > 0
}

var errNoWatchdog = errors.New("watchdog off")

func watchdogInterval(usec, pid string, self int) (time.Duration, error) {
	if usec == "" {
		return 0, errNoWatchdog
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0, errNoWatchdog // meant for another process (e.g. our parent)
		}
	}
	us, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || us == 0 || us > uint64(1<<63-1)/uint64(time.Microsecond) {
		return 0, errNoWatchdog
	}
	return time.Duration(us) * time.Microsecond, nil
}
