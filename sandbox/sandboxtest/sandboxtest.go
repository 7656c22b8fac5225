// Package sandboxtest gives tests a private MariaDB: one shared server per
// test binary, a fresh database per test, and private servers for tests
// that kill or restart theirs.
package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
)

const startTimeout = 2 * time.Minute

var (
	once      sync.Once
	shared    *sandbox.Server
	sharedErr error
	dbSeq     atomic.Int64
)

// Main runs the tests, then closes the shared server. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }
//
// Without it the server still dies with the test binary (Pdeathsig), but its
// temp dir stays behind.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "sandboxtest: close shared server:", err)
		}
	}
	return code
}

// Server returns the shared server, starting it on first use.
func Server(t testing.TB) *sandbox.Server {
	t.Helper()
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared, sharedErr = sandbox.Start(ctx, sandbox.Options{})
	})
	if sharedErr != nil {
		t.Fatalf("sandboxtest: cannot start MariaDB: %v", sharedErr)
	}
	return shared
}

// NewDatabase creates an empty database vt_<n> on the shared server, dropped
// when the test ends, and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	s := Server(t)
	name := fmt.Sprintf("vt_%d", dbSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sandbox.CreateDatabase(ctx, s, name); err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.Exec(ctx, "", "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("sandboxtest: drop %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// NewVtigerDatabase is NewDatabase loaded with sandbox.LoadVtigerMinimal.
func NewVtigerDatabase(t testing.TB) string {
	t.Helper()
	dsn := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sandbox.LoadVtigerMinimal(ctx, dsn); err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	return dsn
}

// OwnServer starts a private server, closed when the test ends. Use it when
// the test kills, restarts or purges the server.
func OwnServer(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatalf("sandboxtest: cannot start MariaDB: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sandboxtest: close server: %v", err)
		}
	})
	return s
}

// FixturesDir is ../shared/fixtures next to the module root. The test is
// skipped when the folder is absent (it is not part of the project).
func FixturesDir(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("sandboxtest: fixtures absent: %v", err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "fixtures")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("sandboxtest: fixtures absent: %s not found", dir)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
