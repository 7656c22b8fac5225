// Package sandbox runs a private MariaDB server with a row-based binlog, for
// tests and for `dxtracker demo`.
package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"
)

// Options configures Start. The zero value is usable.
type Options struct {
	ServerID  uint32         // server_id, default 1
	BaseDir   string         // where to create the temp datadir ("" = os.TempDir)
	ExtraArgs []string       // extra mariadbd args, appended last so they win
	Log       zerolog.Logger // optional; the zero value logs nothing
}

// Server is a running (or stopped) private mariadbd. Its methods are safe for
// concurrent use.
type Server struct {
	opts      Options
	log       zerolog.Logger
	serverBin string
	dataDir   string
	sockDir   string // set when the socket had to live outside dataDir
	tmpDir    string // private --tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir
	socket    string
	port      int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start initialises a fresh datadir and starts mariadbd on a free port. It
// returns once the server answers `SELECT 1`, or when ctx ends.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.ServerID == 0 {
		opts.ServerID = 1
	}
	installBin, err := lookBin("mariadb-install-db")
	if err != nil {
		return nil, err
	}
	serverBin, err := lookBin("mariadbd")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opts.BaseDir, "dxtracker-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("sandbox: create datadir: %w", err)
	}
	s := &Server{opts: opts, log: opts.Log.With().Str("component", "sandbox").Logger(),
		dataDir: dir, serverBin: serverBin}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	if err := s.pickSocket(); err != nil {
		return nil, err
	}
	// A shared /tmp would let one starting server delete another's
	// temporary tables (parallel test packages start several at once).
	if s.tmpDir, err = os.MkdirTemp("", "mdbtmp-"); err != nil {
		return nil, fmt.Errorf("sandbox: create tmpdir: %w", err)
	}
	if err := s.install(ctx, installBin); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		err = s.start(ctx)
		if err == nil {
			break
		}
		// Another process may take the port between freePort and mariadbd's
		// bind; only then is a new port worth a try.
		if attempt == 3 || ctx.Err() != nil || portFree(s.port) {
			return nil, err
		}
		s.log.Warn().Int("port", s.port).Msg("port taken during start-up, retrying on another")
	}
	ok = true
	return s, nil
}

// Port is the TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// DataDir holds the datadir, binlogs, error log and (usually) the socket.
func (s *Server) DataDir() string { return s.dataDir }

// DSN is a go-sql-driver DSN for root over TCP, in UTC.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s?parseTime=true&loc=UTC&time_zone=%%27%%2B00%%3A00%%27&multiStatements=true&interpolateParams=true",
		s.port, database)
}

// Stop shuts the server down gracefully (SIGTERM), escalating to SIGKILL when
// ctx ends first. The datadir is kept for Restart.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("sandbox: stop: %w", err)
	}
	select {
	case <-s.done:
		s.log.Debug().Msg("mariadb stopped")
		return nil
	case <-ctx.Done():
	}
	killErr := s.killLocked()
	return fmt.Errorf("sandbox: graceful stop timed out, killed: %w", errors.Join(ctx.Err(), killErr))
}

// Kill SIGKILLs the server, as a crash would.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	return s.killLocked()
}

// Restart starts the server again on the same datadir and port, stopping it
// first if it is still running.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.start(ctx)
}

// Close stops the server and removes its temp directories.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Stop(ctx)
	for _, d := range []string{s.dataDir, s.sockDir, s.tmpDir} {
		if d != "" {
			err = errors.Join(err, os.RemoveAll(d))
		}
	}
	return err
}

func (s *Server) runningLocked() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *Server) killLocked() error {
	// The whole group: mariadbd runs alone in it, so nothing else is hit.
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sandbox: kill: %w", err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("sandbox: mariadbd did not exit 30s after SIGKILL")
	}
}

// pickSocket keeps the socket in the datadir unless that path is too long
// for a unix socket (108 bytes on Linux), as under a deep BaseDir.
func (s *Server) pickSocket() error {
	s.socket = filepath.Join(s.dataDir, "mysqld.sock")
	if len(s.socket) < 100 {
		return nil
	}
	d, err := os.MkdirTemp("", "mdbsock-")
	if err != nil {
		return fmt.Errorf("sandbox: create socket dir: %w", err)
	}
	s.sockDir, s.socket = d, filepath.Join(d, "mysqld.sock")
	return nil
}

func (s *Server) install(ctx context.Context, bin string) error {
	args := []string{"--no-defaults", "--datadir=" + s.dataDir, "--tmpdir=" + s.tmpDir,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sandbox: mariadb-install-db: %w\n%s", err, tail(out, 2048))
	}
	return nil
}

func (s *Server) args() []string {
	args := []string{"--no-defaults", // must be first; ignores /etc/mysql
		"--datadir=" + s.dataDir,
		"--tmpdir=" + s.tmpDir,
		"--log-bin=" + filepath.Join(s.dataDir, "binlog"),
		"--binlog-format=ROW", "--binlog-row-image=FULL",
		"--server-id=" + strconv.FormatUint(uint64(s.opts.ServerID), 10),
		"--port=" + strconv.Itoa(s.port), "--bind-address=127.0.0.1",
		"--socket=" + s.socket,
		"--pid-file=" + filepath.Join(s.dataDir, "mysqld.pid"),
		"--log-error=" + s.errorLog(),
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=256M", "--max-allowed-packet=64M",
		"--character-set-server=utf8mb4", "--default-time-zone=+00:00",
		// Speed: no fsync per commit. A SIGKILL of the process still keeps
		// everything committed, since the OS holds the written pages.
		"--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root") // mariadbd refuses root otherwise
	}
	return append(args, s.opts.ExtraArgs...)
}

func (s *Server) errorLog() string  { return filepath.Join(s.dataDir, "error.log") }
func (s *Server) outputLog() string { return filepath.Join(s.dataDir, "mariadbd.out") }

// start launches mariadbd on the existing datadir and waits until it is ready.
func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return errors.New("sandbox: already running")
	}
	out, err := os.OpenFile(s.outputLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	// Not CommandContext: the server outlives the ctx of Start.
	cmd := exec.Command(s.serverBin, s.args()...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("sandbox: start mariadbd: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status is reported through the logs
		_ = out.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(ctx); err != nil {
		_ = s.killLocked()
		return fmt.Errorf("%w\n--- %s (tail) ---\n%s%s", err, s.errorLog(), tailFile(s.errorLog()), tailFile(s.outputLog()))
	}
	s.log.Info().Int("port", s.port).Str("datadir", s.dataDir).
		Dur("took", time.Since(began)).Msg("mariadb sandbox ready")
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	cfg, err := mysql.ParseDSN(s.DSN(""))
	if err != nil {
		return err
	}
	cfg.Timeout = time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-s.done:
			return errors.New("sandbox: mariadbd exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("sandbox: mariadbd not ready on %s: %w (last: %v)", addr, ctx.Err(), last)
		case <-tick.C:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			last = err
			continue
		}
		_ = c.Close()
		var one int
		if last = db.QueryRowContext(ctx, "SELECT 1").Scan(&one); last == nil {
			return nil
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("sandbox: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// lookBin finds a MariaDB binary, naming the Debian package when it is missing.
func lookBin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	// Debian keeps mariadbd in /usr/sbin, often not in a user's PATH.
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(d, name); isExec(p) {
			return p, nil
		}
	}
	pkg := "mariadb-server"
	if name == "mariadb" {
		pkg = "mariadb-client"
	}
	return "", fmt.Errorf("sandbox: %s not found (install it: apt-get install %s): %w", name, pkg, err)
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(tail(b, 4096))
}
