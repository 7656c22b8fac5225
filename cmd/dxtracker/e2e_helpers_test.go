package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// daemonBinary builds the real dxtracker binary once per test run: the
// end-to-end tests kill and restart real processes.
func daemonBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dxtracker-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dxtracker")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// stack is a private MariaDB with the minimal Vtiger schema, migrated.
type stack struct {
	t      *testing.T
	ctx    context.Context
	srv    *sandbox.Server
	dsn    string
	db     *sql.DB
	listen string
	token  string
}

func newStack(t *testing.T, opts sandbox.Options) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	srv := sandboxtest.OwnServer(t, opts)
	dsn, err := sandbox.CreateVtigerDatabase(ctx, srv, "vtiger")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	tok, _, err := tracker.CreateToken(ctx, db, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	return &stack{t: t, ctx: ctx, srv: srv, dsn: dsn, db: db, listen: freeAddr(t), token: tok}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// daemon is one running dxtracker process.
type daemon struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
	err  error
}

func (s *stack) env(extra ...string) []string {
	return append(append(os.Environ(),
		"DXT_MYSQL_DSN="+s.dsn,
		"DXT_SERVER_ID=4242",
		"DXT_LISTEN="+s.listen,
		"DXT_LOG_FORMAT=json",
		"DXT_LOG_LEVEL=debug",
		"DXT_HEARTBEAT=1s",
	), extra...)
}

// start runs the daemon and waits until its API answers.
func (s *stack) start(extra ...string) *daemon {
	s.t.Helper()
	return s.startAt(s.listen, extra...)
}

// startAt is start with the API on listen (a second daemon of a pair).
func (s *stack) startAt(listen string, extra ...string) *daemon {
	s.t.Helper()
	cmd := exec.Command(daemonBinary(s.t), "run")
	cmd.Env = append(s.env(extra...), "DXT_LISTEN="+listen)
	return s.startRunProcess(cmd, listen)
}

// startRunProcess runs cmd (`dxtracker run`, perhaps through a wrapper) as
// one of s's daemons and waits until its API on listen answers /healthz.
func (s *stack) startRunProcess(cmd *exec.Cmd, listen string) *daemon {
	s.t.Helper()
	d := &daemon{cmd: cmd, log: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: d.log}, &lockedWriter{w: d.log}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	s.t.Cleanup(func() {
		d.kill()
		if s.t.Failed() {
			s.t.Logf("daemon log:\n%s", d.output())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-d.done:
			s.t.Fatalf("daemon exited during start-up: %v\n%s", d.err, d.output())
		default:
		}
		if resp, err := http.Get("http://" + listen + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("daemon not healthy after 60s\n%s", d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", d.err, d.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not stop within 30s of SIGTERM\n%s", d.output())
	}
}

func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

var logMu sync.Mutex

type lockedWriter struct{ w *bytes.Buffer }

func (l *lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(p)
}

func (d *daemon) output() string {
	logMu.Lock()
	defer logMu.Unlock()
	return d.log.String()
}

// writeIntakes writes n intake rows, one transaction each, as the probe does.
func (s *stack) writeIntakes(n int, tag string) {
	s.t.Helper()
	for i := 0; i < n; i++ {
		if err := s.writeIntake(fmt.Sprintf(`{"tag":%q,"n":%d}`, tag, i)); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *stack) writeIntake(details string) error {
	_, err := s.db.ExecContext(s.ctx, `INSERT INTO dxt_intake (kind, occurred_at, user_id, module, record_count, client_ip, details)
VALUES ('listview_export', UTC_TIMESTAMP(6), 5, 'Contacts', 3, '192.0.2.1', ?)`, details)
	return err
}

func (s *stack) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRowContext(s.ctx, q, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// waitEvents waits until dxt_event holds want rows (it fails on more).
func (s *stack) waitEvents(want int, d *daemon) {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		n := s.count(`SELECT COUNT(*) FROM dxt_event`)
		if n == want {
			return
		}
		if n > want {
			s.t.Fatalf("%d events, more than the %d take-outs", n, want)
		}
		if d != nil && !d.alive() {
			s.t.Fatalf("daemon died with %d/%d events: %v\n%s", n, want, d.err, d.output())
		}
		if time.Now().After(deadline) {
			out := ""
			if d != nil {
				out = d.output()
			}
			s.t.Fatalf("%d/%d events after 90s\n%s", n, want, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertExactlyOnce checks that every intake row became exactly one event.
func (s *stack) assertExactlyOnce(want int) {
	s.t.Helper()
	if n := s.count(`SELECT COUNT(*) FROM dxt_intake`); n != want {
		s.t.Fatalf("%d intake rows, want %d", n, want)
	}
	if n := s.count(`SELECT COUNT(*) FROM dxt_intake WHERE processed_at IS NULL OR event_id IS NULL`); n != 0 {
		s.t.Fatalf("%d intake rows unprocessed", n)
	}
	if n := s.count(`SELECT COUNT(DISTINCT i.id) FROM dxt_intake i JOIN dxt_event e ON e.id = i.event_id AND e.dedupe_key = CONCAT('intake:', i.id)`); n != want {
		s.t.Fatalf("%d intake rows point at their own event, want %d", n, want)
	}
	if n := s.count(`SELECT COUNT(*) FROM dxt_event`); n != want {
		s.t.Fatalf("%d events, want %d", n, want)
	}
}

func (s *stack) getJSON(path string, out any) int {
	s.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.listen+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && resp.StatusCode == 200 {
			s.t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
