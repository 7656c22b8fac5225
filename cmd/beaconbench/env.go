package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
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

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/internal/procstat"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// env is the sandbox MariaDB with a migrated Vtiger database, the built
// daemon and the tokens of the bench users.
type env struct {
	o      options
	srv    *sandbox.Server
	db     *sql.DB
	dsn    string
	bin    string
	tmp    string
	tokens []string
	logf   func(string, ...any)
}

func setup(ctx context.Context, o options, logf func(string, ...any)) (*env, error) {
	e := &env{o: o, logf: logf}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	var err error
	if e.tmp, err = os.MkdirTemp("", "beaconbench-"); err != nil {
		return nil, err
	}
	extra := []string{"--max-connections=300", "--innodb-buffer-pool-size=512M"}
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
	if _, err := tracker.Migrate(ctx, e.db); err != nil {
		return nil, err
	}
	var secret string
	if err := e.db.QueryRowContext(ctx, `SELECT value FROM dxt_config WHERE name = 'beacon_secret'`).Scan(&secret); err != nil {
		return nil, err
	}
	for i := 0; i < o.users; i++ {
		id := 1000 + i
		if _, err := e.db.ExecContext(ctx, `INSERT INTO vtiger_users (id, user_name, user_password, first_name, last_name, is_admin,
  date_entered, email1, status, deleted, crypt_type, accesskey, userlabel)
VALUES (?, ?, 'x', 'Bench', ?, 'off', UTC_TIMESTAMP(), ?, 'Active', 0, 'PHASH', ?, ?)`,
			id, fmt.Sprintf("bench%d", i), fmt.Sprint(i), fmt.Sprintf("bench%d@example.com", i), fmt.Sprintf("benchkey%08d", i), fmt.Sprintf("Bench %d", i)); err != nil {
			return nil, fmt.Errorf("create bench user: %w", err)
		}
		e.tokens = append(e.tokens, beacon.Sign(secret, int64(id), time.Now().Add(12*time.Hour)))
	}
	e.bin = filepath.Join(e.tmp, "dxtracker")
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "github.com/dxtracker/dxtracker/cmd/dxtracker")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build dxtracker: %v\n%s", err, out)
	}
	ok = true
	return e, nil
}

func (e *env) close() {
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

// proc is a child process serving on addr.
type proc struct {
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
	done chan error
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) rssNow() int64 { return procstat.Status(p.pid(), "VmRSS") }

// peakRSS is the process's high-water mark (VmHWM).
func (p *proc) peakRSS() int64 { return procstat.Status(p.pid(), "VmHWM") }

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

func (e *env) spawn(ctx context.Context, name string, args []string, env []string, ready string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "{addr}", addr)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "DXT_LISTEN="+addr)
	p := &proc{cmd: cmd, addr: addr, out: &lockedBuffer{}, done: make(chan error, 1)}
	var w io.Writer = p.out
	if e.o.verbose {
		w = io.MultiWriter(p.out, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("%s exited during start-up: %v\n%s", name, err, p.out.String())
		default:
		}
		if res, err := http.Get("http://" + addr + ready); err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("%s not ready after 60s\n%s", name, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDaemon runs `dxtracker run` with the default configuration plus env,
// and waits until it follows the binlog.
func (e *env) startDaemon(ctx context.Context, env ...string) (*proc, error) {
	env = append([]string{"DXT_MYSQL_DSN=" + e.dsn, "DXT_SERVER_ID=4242", "DXT_LOG_FORMAT=json", "DXT_LOG_LEVEL=info"}, env...)
	if e.o.writers > 0 {
		env = append(env, fmt.Sprintf("DXT_BEACON_WRITERS=%d", e.o.writers))
	}
	p, err := e.spawn(ctx, e.bin, []string{"run"}, env, "/healthz")
	if err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		res, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("daemon not ready after 60s\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startNull runs this program as the baseline server.
func (e *env) startNull(ctx context.Context) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return e.spawn(ctx, self, []string{"-null-server", "{addr}"}, nil, "/healthz")
}

// serveNull answers every request by reading its body and 204: what the
// HTTP stack costs without any work.
func serveNull(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, beacon.MaxBody))
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// scrape reads the daemon's unlabelled metrics.
func (e *env) scrape(p *proc) (map[string]float64, error) {
	res, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// ingestResult is how the processor kept up with the stored beacons.
type ingestResult struct {
	BacklogAtEnd int     // intake rows not yet events when the load stopped
	DrainSeconds float64 // until none was left
	Events       int
}

func (e *env) waitIngest(ctx context.Context, p *proc) (ingestResult, error) {
	var r ingestResult
	count := func(q string) (int, error) {
		var n int
		err := e.db.QueryRowContext(ctx, q).Scan(&n)
		return n, err
	}
	var err error
	if r.BacklogAtEnd, err = count(`SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`); err != nil {
		return r, err
	}
	start := time.Now()
	for {
		n, err := count(`SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`)
		if err != nil {
			return r, err
		}
		if n == 0 {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return r, fmt.Errorf("%d intake rows still unprocessed after 10 minutes", n)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.DrainSeconds = time.Since(start).Seconds()
	r.Events, err = count(`SELECT COUNT(*) FROM dxt_event WHERE type = 'copy'`)
	return r, err
}

// backlog is the number of intake rows not yet turned into events (-1 when
// it cannot be read).
func (e *env) backlog(ctx context.Context) int {
	var n int
	if err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL`).Scan(&n); err != nil {
		return -1
	}
	return n
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// mariadbPID is the sandbox server's process id, from its pid file.
func (e *env) mariadbPID() int {
	b, err := os.ReadFile(filepath.Join(e.srv.DataDir(), "mysqld.pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
