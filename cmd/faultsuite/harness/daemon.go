package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Daemon is one `dxtracker run` process.
type Daemon struct {
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	Started time.Time
	LogOff  int64 // where its output starts in the daemon log
	N       int   // 1 for the first start
}

// PID is the process id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// Alive reports whether the process still runs.
func (d *Daemon) Alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// Err is the exit status once the process is gone.
func (d *Daemon) Err() error {
	<-d.done
	return d.err
}

// Kill sends SIGKILL and waits for the exit.
func (d *Daemon) Kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// Stop sends SIGTERM and waits (SIGKILL after timeout); it returns the
// exit status, or an error when it had to kill.
func (d *Daemon) Stop(timeout time.Duration) error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return d.err
	case <-time.After(timeout):
		d.Kill()
		return fmt.Errorf("daemon did not stop within %s of SIGTERM; killed", timeout)
	}
}

// Daemon is the current daemon process (nil before the first start).
func (e *Env) Daemon() *Daemon {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.daemon
}

// DaemonEnv is the environment the daemon runs with.
func (e *Env) DaemonEnv() []string {
	env := append(os.Environ(),
		"DXT_MYSQL_DSN="+e.DSN,
		"DXT_SERVER_ID=4242",
		"DXT_LISTEN="+e.Listen,
		"DXT_LOG_FORMAT=json",
		"DXT_LOG_LEVEL="+e.Cfg.LogLevel,
		"DXT_HEARTBEAT=1s",
		"DXT_SMTP_ADDR="+e.Sink.Addr(),
		"DXT_SMTP_FROM="+From,
		"DXT_SMTP_TLS=none",
		"DXT_SMTP_TIMEOUT=10s",
		// The producer's beacons are all from loopback; the limits are
		// not what is tested here.
		"DXT_BEACON_USER_RATE=off",
		"DXT_BEACON_IP_RATE=off",
	)
	if e.Cfg.RetryBase > 0 {
		env = append(env, "DXT_NOTIFY_RETRY_BASE="+e.Cfg.RetryBase.String())
	}
	return append(env, e.Cfg.DaemonEnv...)
}

// StartDaemon starts a daemon (the previous one must be gone) and returns
// at once; use WaitReady to wait until it follows the binlog.
func (e *Env) StartDaemon() (*Daemon, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.daemon != nil && e.daemon.Alive() {
		return nil, fmt.Errorf("daemon %d still running", e.daemon.PID())
	}
	e.starts++
	e.logMu.Lock()
	fmt.Fprintf(e.logFile, "=== faultsuite: daemon start %d at %s ===\n", e.starts, time.Now().UTC().Format(time.RFC3339Nano))
	off := e.LogSize()
	e.logMu.Unlock()
	cmd := exec.Command(e.Bin, "run")
	cmd.Env = e.DaemonEnv()
	cmd.Stdout, cmd.Stderr = e.logFile, e.logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	d := &Daemon{cmd: cmd, done: make(chan struct{}), Started: time.Now(), LogOff: off, N: e.starts}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	e.daemon = d
	return d, nil
}

// WaitReady waits until the daemon answers /readyz with 200 (leader,
// binlog connected, lag small) or fails when it exits or timeout passes.
func (e *Env) WaitReady(ctx context.Context, d *Daemon, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 3 * time.Second}
	for {
		if !d.Alive() {
			return fmt.Errorf("daemon (start %d) exited: %v\n--- log tail ---\n%s", d.N, d.err, e.LogTail(4096))
		}
		if res, err := c.Get("http://" + e.Listen + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon (start %d) not ready after %s\n--- log tail ---\n%s", d.N, timeout, e.LogTail(4096))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// StartReady is StartDaemon then WaitReady.
func (e *Env) StartReady(ctx context.Context, timeout time.Duration) (*Daemon, error) {
	d, err := e.StartDaemon()
	if err != nil {
		return nil, err
	}
	return d, e.WaitReady(ctx, d, timeout)
}

// EnsureDaemon makes sure a daemon runs and is ready: it reports (and
// restarts) a daemon that exited on its own. unexpected is the exit status
// of such a daemon, "" when it was alive.
func (e *Env) EnsureDaemon(ctx context.Context, timeout time.Duration) (unexpected string, err error) {
	d := e.Daemon()
	if d != nil && d.Alive() {
		return "", e.WaitReady(ctx, d, timeout)
	}
	if d != nil {
		unexpected = fmt.Sprintf("daemon start %d exited on its own: %v", d.N, d.err)
	}
	_, err = e.StartReady(ctx, timeout)
	return unexpected, err
}

// LogOf returns what daemon d has written so far.
func (e *Env) LogOf(d *Daemon) string { return e.LogSince(d.LogOff) }

// Grep counts log lines of d containing every one of subs.
func (e *Env) Grep(d *Daemon, subs ...string) int {
	n := 0
	for _, line := range strings.Split(e.LogOf(d), "\n") {
		all := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				all = false
				break
			}
		}
		if all && line != "" {
			n++
		}
	}
	return n
}
