package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

const benchFrom = "dxtracker@bench.example.com"

// env is the sandbox MariaDB with a migrated Vtiger database configured to
// notify, the SMTP sink and the built daemon.
type env struct {
	o    options
	srv  *sandbox.Server
	db   *sql.DB
	dsn  string
	bin  string
	tmp  string
	sink *sink.Sink

	mu     sync.Mutex
	mailAt map[uint64][]time.Time // event id -> when the sink held each of its mails
	other  int                    // mails without an event id
}

func setup(ctx context.Context, o options) (*env, error) {
	e := &env{o: o, mailAt: map[uint64][]time.Time{}}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	var err error
	if e.tmp, err = os.MkdirTemp("", "notifybench-"); err != nil {
		return nil, err
	}
	extra := []string{"--max-connections=200", "--innodb-buffer-pool-size=256M"}
	if o.durable {
		extra = append(extra, "--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1")
	}
	if e.srv, err = sandbox.Start(ctx, sandbox.Options{ServerID: 1, ExtraArgs: extra}); err != nil {
		return nil, err
	}
	if e.dsn, err = sandbox.CreateVtigerDatabase(ctx, e.srv, "vtiger"); err != nil {
		return nil, err
	}
	if e.db, err = sql.Open("mysql", e.dsn); err != nil {
		return nil, err
	}
	e.db.SetMaxOpenConns(8)
	if _, err := tracker.Migrate(ctx, e.db); err != nil {
		return nil, err
	}
	var admins []string
	for i := range o.admins {
		admins = append(admins, fmt.Sprintf("admin%d@bench.example.com", i))
	}
	for k, v := range map[string]string{
		"notify_admin_email":    strings.Join(admins, ","),
		"notify_min_records":    "1000",
		"notify_max_per_minute": "10000", // the highest allowed: measure the path, not the storm limit
		"capture_content":       "0",
		"anchor_enabled":        "0", // no daily tamper-evidence anchor mail in the figures
	} {
		if _, err := e.db.ExecContext(ctx, `INSERT INTO dxt_config (name, value, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`, k, v); err != nil {
			return nil, fmt.Errorf("configure %s: %w", k, err)
		}
	}
	if e.sink, err = sink.Start(ctx, sink.Options{OnMessage: e.onMessage}); err != nil {
		return nil, err
	}
	e.bin = filepath.Join(e.tmp, "dxtracker")
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "github.com/dxtracker/dxtracker/cmd/dxtracker")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build dxtracker: %v\n%s", err, out)
	}
	ok = true
	return e, nil
}

// onMessage runs in the sink after it recorded a whole message and before
// its 250 reply: the moment the server has the mail.
func (e *env) onMessage(r sink.Received) {
	at := time.Now()
	id, err := strconv.ParseUint(r.Header.Get("X-DXT-Event-ID"), 10, 64)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil || id == 0 {
		e.other++
		return
	}
	e.mailAt[id] = append(e.mailAt[id], at)
}

func (e *env) close() {
	if e.sink != nil {
		e.sink.Close()
	}
	if e.db != nil {
		e.db.Close()
	}
	if e.srv != nil {
		_ = e.srv.Close()
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
}

func (e *env) serverVersion(ctx context.Context) string {
	var v string
	if err := e.db.QueryRowContext(ctx, `SELECT VERSION()`).Scan(&v); err != nil {
		return "?"
	}
	return v
}

// proc is the daemon process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startDaemon runs `dxtracker run` with the sink as its SMTP server and
// waits until it follows the binlog (readyz 200).
func (e *env) startDaemon(ctx context.Context) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.bin, "run")
	cmd.Env = append(os.Environ(),
		"DXT_MYSQL_DSN="+e.dsn,
		"DXT_SERVER_ID=4242",
		"DXT_LISTEN="+addr,
		"DXT_LOG_FORMAT=json",
		"DXT_LOG_LEVEL=info",
		"DXT_SMTP_ADDR="+e.sink.Addr(),
		"DXT_SMTP_TLS=none",
		"DXT_SMTP_FROM="+benchFrom,
	)
	p := &proc{cmd: cmd, addr: addr, out: &lockedBuffer{}, done: make(chan struct{})}
	var w io.Writer = p.out
	if e.o.verbose {
		w = io.MultiWriter(p.out, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !p.alive() {
			return nil, fmt.Errorf("daemon exited during start-up: %v\n%s", p.err, p.out.String())
		}
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("daemon not ready after 60s\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
