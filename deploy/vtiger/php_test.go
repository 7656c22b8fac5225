package vtigerext

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// summaryLine is the last line tests/run.php prints.
var summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// TestPHPSuitePassesAgainstRealMariaDB runs the extension's PHP tests
// (tests/run.php: the probe, the stand-in Vtiger harness, and every other
// *Test.php there) against a fresh sandbox database with the minimal Vtiger
// schema and the tracker tables.
func TestPHPSuitePassesAgainstRealMariaDB(t *testing.T) {
	php := requirePHP(t)
	env := phpTestDatabase(t)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	passed, failed, err := runPHP(ctx, t, php, env, "tests/run.php")
	if err != nil {
		t.Fatalf("php tests/run.php: %v", err)
	}
	if failed > 0 || passed == 0 {
		t.Fatalf("php tests/run.php: %d passed, %d failed", passed, failed)
	}
}

// TestProbeOverheadOn10000RowExport measures what the probe adds to a
// 10,000-row list-view export served by the stand-in Vtiger (median of
// several runs with and without the probe) and logs the figures. It fails
// only if the benchmark itself fails; the ratio is reported, not judged,
// because the stand-in's export is far cheaper than Vtiger's own.
func TestProbeOverheadOn10000RowExport(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark: skipped with -short")
	}
	php := requirePHP(t)
	env := phpTestDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, php, "tests/bench_probe.php", "--rows=10000", "--runs=9")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		t.Log(line)
	}
	if err != nil {
		t.Fatalf("php tests/bench_probe.php: %v", err)
	}
}

// requirePHP finds php-cli with mysqli, or fails with how to install it.
func requirePHP(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Fatal("php not found: install php-cli php-mysql (scripts/install-deps.sh)")
	}
	if out, err := exec.Command(php, "-r", `exit(extension_loaded("mysqli") ? 0 : 3);`).CombinedOutput(); err != nil {
		t.Fatalf("php has no mysqli extension (%v %s): install php-cli php-mysql (scripts/install-deps.sh)", err, out)
	}
	return php
}

// phpTestDatabase makes a fresh Vtiger database with the tracker tables and
// returns the DXT_TEST_DB_* (and DXT_FIXTURES_DIR) environment for PHP.
func phpTestDatabase(t *testing.T) []string {
	t.Helper()
	dsn := sandboxtest.NewVtigerDatabase(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("parse sandbox DSN: %v", err)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		t.Fatalf("sandbox address %q: %v", cfg.Addr, err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open sandbox database: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate tracker tables: %v", err)
	}
	env := []string{
		"DXT_TEST_DB_HOST=" + host,
		"DXT_TEST_DB_PORT=" + port,
		"DXT_TEST_DB_USER=" + cfg.User,
		"DXT_TEST_DB_PASS=" + cfg.Passwd,
		"DXT_TEST_DB_NAME=" + cfg.DBName,
	}
	// The real Vtiger 8 samples, when the shared fixtures are next to the
	// project; the harness generates stand-ins otherwise.
	if wd, err := os.Getwd(); err == nil {
		dir := filepath.Join(wd, "..", "..", "..", "shared", "fixtures")
		if fi, err := os.Stat(filepath.Join(dir, "samples")); err == nil && fi.IsDir() {
			env = append(env, "DXT_FIXTURES_DIR="+dir)
		} else {
			t.Log("shared fixtures absent: the harness serves generated exports instead of the real Vtiger 8 samples")
		}
	}
	return env
}

// runPHP runs a PHP test script, streams its output into the test log and
// returns the counts of its final "N passed, M failed" line.
func runPHP(ctx context.Context, t *testing.T, php string, env []string, script string, args ...string) (passed, failed int, err error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, php, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		done <- err
	}()
	last := ""
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if strings.TrimSpace(line) != "" {
			last = line
		}
	}
	if scanErr := sc.Err(); scanErr != nil {
		_, _ = io.Copy(io.Discard, pr)
		t.Logf("reading php output: %v", scanErr)
	}
	waitErr := <-done
	m := summaryLine.FindStringSubmatch(strings.TrimSpace(last))
	if m == nil {
		if waitErr != nil {
			return 0, 0, fmt.Errorf("%w (no summary line; last output %q)", waitErr, last)
		}
		return 0, 0, errors.New("no final \"N passed, M failed\" line; last output " + strconv.Quote(last))
	}
	passed, _ = strconv.Atoi(m[1])
	failed, _ = strconv.Atoi(m[2])
	if waitErr != nil && failed == 0 {
		return passed, failed, fmt.Errorf("exit status: %w", waitErr)
	}
	return passed, failed, nil
}
