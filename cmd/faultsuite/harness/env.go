// Package harness is the shared rig of cmd/faultsuite and cmd/soak: a
// private MariaDB (durable settings), the real dxtracker binary run as a
// child process, an in-process SMTP sink, a producer of intake rows and
// signed copy beacons, and the exactly-once checks over the tracker tables
// and the sink.
//
// It lives under cmd/faultsuite so that both commands share it; it is not
// part of the product.
package harness

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/tracker"
)

// Config sets up an Env. The zero value is not usable: Logf is required.
type Config struct {
	// Durable: innodb_flush_log_at_trx_commit=1 and sync_binlog=1, as in
	// production (a MariaDB crash then loses no committed transaction).
	Durable bool
	// RetryBase is the daemon's notify_retry_base (DXT_NOTIFY_RETRY_BASE,
	// at least 1s); 0 keeps the daemon's default (30s).
	RetryBase time.Duration
	// MinRecords is notify_min_records: exports with at least this many
	// records notify.
	MinRecords int
	// Recipients is notify_admin_email (one e-mail per recipient and event).
	Recipients []string
	// Users are the Vtiger user ids the producer's rows and beacons belong
	// to (seeded users 5 and 6 when empty).
	Users []int64
	// DaemonEnv is appended to the daemon's environment.
	DaemonEnv []string
	// LogLevel of the daemon ("info" when empty).
	LogLevel string
	// Keep leaves the work directory (daemon log, MariaDB datadir) behind.
	Keep bool
	// SMTPDelay: the sink waits up to this long (random) after a message's
	// final dot before it answers 250, widening the window in which a kill
	// leaves a notification "uncertain".
	SMTPDelay time.Duration
	// Verbose copies the sink's connection errors and the MySQL driver's
	// messages to Logf.
	Verbose bool
	Logf    func(format string, args ...any)
}

// From is the daemon's smtp_from; its domain ends the Message-IDs.
const From = "dxtracker@faultsuite.example"

// Env is the running rig.
type Env struct {
	Cfg      Config
	Srv      *sandbox.Server
	DB       *sql.DB // root, for checks and faults
	DSN      string
	Bin      string // the dxtracker binary
	Dir      string // work directory: binary, daemon.log
	Sink     *sink.Sink
	Secret   string // beacon_secret
	Tokens   []string
	APIToken string
	Listen   string // the daemon's API and beacon address, the same across restarts

	logMu   sync.Mutex
	logFile *os.File
	starts  int

	mu     sync.Mutex
	daemon *Daemon
}

// Setup builds the daemon binary, starts MariaDB and the sink, loads the
// Vtiger fixture, migrates and writes dxt_config.
func Setup(ctx context.Context, cfg Config) (*Env, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if len(cfg.Users) == 0 {
		cfg.Users = []int64{5, 6}
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	if cfg.Verbose {
		_ = mysql.SetLogger(driverLog(cfg.Logf))
	} else {
		_ = mysql.SetLogger(driverLog(func(string, ...any) {}))
	}
	e := &Env{Cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	var err error
	if e.Dir, err = os.MkdirTemp("", "faultsuite-"); err != nil {
		return nil, err
	}
	if e.logFile, err = os.OpenFile(filepath.Join(e.Dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, err
	}

	// Build the binary while MariaDB starts.
	e.Bin = filepath.Join(e.Dir, "dxtracker")
	built := make(chan error, 1)
	go func() {
		out, err := exec.CommandContext(ctx, "go", "build", "-o", e.Bin, "github.com/dxtracker/dxtracker/cmd/dxtracker").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build dxtracker: %v\n%s", err, out)
		}
		built <- err
	}()

	extra := []string{"--max-connections=300"}
	if cfg.Durable {
		extra = append(extra, "--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1")
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	e.Srv, err = sandbox.Start(sctx, sandbox.Options{ServerID: 1, ExtraArgs: extra})
	cancel()
	if err != nil {
		<-built
		return nil, err
	}
	if e.DSN, err = sandbox.CreateVtigerDatabase(ctx, e.Srv, "vtiger"); err != nil {
		<-built
		return nil, err
	}
	if e.DB, err = sql.Open("mysql", e.DSN+"&timeout=5s&readTimeout=60s&writeTimeout=60s"); err != nil {
		<-built
		return nil, err
	}
	e.DB.SetMaxOpenConns(8)
	e.DB.SetConnMaxIdleTime(30 * time.Second)
	if _, err := tracker.Migrate(ctx, e.DB); err != nil {
		<-built
		return nil, err
	}
	if err := e.DB.QueryRowContext(ctx, `SELECT value FROM dxt_config WHERE name = 'beacon_secret'`).Scan(&e.Secret); err != nil {
		<-built
		return nil, err
	}
	for _, id := range cfg.Users {
		e.Tokens = append(e.Tokens, beacon.Sign(e.Secret, id, time.Now().Add(12*time.Hour)))
	}
	if e.APIToken, _, err = tracker.CreateToken(ctx, e.DB, "faultsuite"); err != nil {
		<-built
		return nil, err
	}
	if _, err := tracker.WriteConfig(ctx, e.DB, map[string]string{
		tracker.KeyNotifyAdminEmail:   strings.Join(cfg.Recipients, ","),
		tracker.KeyNotifyMinRecords:   strconv.Itoa(cfg.MinRecords),
		tracker.KeyNotifyMaxPerMinute: "10000", // no storm summaries: one mail per notification
	}); err != nil {
		<-built
		return nil, err
	}
	sinkLog := func(string, ...any) {}
	if cfg.Verbose {
		sinkLog = cfg.Logf
	}
	var onMessage func(sink.Received)
	if cfg.SMTPDelay > 0 {
		onMessage = func(sink.Received) { time.Sleep(rand.N(cfg.SMTPDelay)) }
	}
	if e.Sink, err = sink.Start(context.Background(), sink.Options{Logf: sinkLog, OnMessage: onMessage}); err != nil {
		<-built
		return nil, err
	}
	if e.Listen, err = freeAddr(); err != nil {
		<-built
		return nil, err
	}
	if err := <-built; err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// Close stops the daemon, the sink and MariaDB and removes the work
// directory unless Keep.
func (e *Env) Close() {
	if d := e.Daemon(); d != nil {
		d.Kill()
	}
	if e.Sink != nil {
		_ = e.Sink.Close()
	}
	if e.DB != nil {
		_ = e.DB.Close()
	}
	if e.Srv != nil {
		if e.Cfg.Keep {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = e.Srv.Stop(ctx)
			cancel()
		} else {
			_ = e.Srv.Close()
		}
	}
	if e.logFile != nil {
		_ = e.logFile.Close()
	}
	if e.Dir != "" && !e.Cfg.Keep {
		_ = os.RemoveAll(e.Dir)
	}
}

// LogPath is the daemon's log (every run appended, each headed by a line).
func (e *Env) LogPath() string { return filepath.Join(e.Dir, "daemon.log") }

// LogTail returns the last n bytes of the daemon log.
func (e *Env) LogTail(n int64) string {
	f, err := os.Open(e.LogPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-n, 0)
	b := make([]byte, fi.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

// LogSize is the current size of the daemon log (to read what a run wrote).
func (e *Env) LogSize() int64 {
	fi, err := os.Stat(e.LogPath())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// LogSince returns the daemon log from byte offset off.
func (e *Env) LogSince(off int64) string {
	b, err := os.ReadFile(e.LogPath())
	if err != nil || int64(len(b)) < off {
		return ""
	}
	return string(b[off:])
}

// MariaDBPID is the sandbox server's pid, from its pid file.
func (e *Env) MariaDBPID() int {
	b, err := os.ReadFile(filepath.Join(e.Srv.DataDir(), "mysqld.pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
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

// driverLog sends the MySQL driver's messages ("closing bad idle
// connection" after a restart) to a Logf.
type driverLog func(string, ...any)

func (l driverLog) Print(v ...any) { l("mysql driver: %s", fmt.Sprint(v...)) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
