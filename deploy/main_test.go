// Package deploy_test checks the operations artefacts in deploy/ and
// scripts/: the systemd unit (systemd-analyze verify and security), the
// MySQL grants against a private MariaDB with dxtracker's doctor, the
// Grafana dashboard's metric names, the .deb maintainer scripts, and, with
// DXT_TEST_DIST=1, `make dist` and scripts/check-deb.sh end to end.
//
// deploy/ has no Go package of its own; these tests are one (deploy/vtiger
// is a separate package).
package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	// A starting mariadbd deletes every #sql* file in its tmpdir, which may
	// be another test binary's temporary tables: keep ours private (as
	// doctor's tests do).
	dir, err := os.MkdirTemp("", "dxt-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", dir)
	code := sandboxtest.Main(m)
	os.RemoveAll(dir)
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// repoRoot is the module root, one level above deploy/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	return root
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// Linked into the test binary like make dist does.
const (
	testVersion = "9.8.7-test"
	testCommit  = "abcdef1"
	testDate    = "2026-01-02T03:04:05Z"
)

// dxtrackerBinary builds cmd/dxtracker once per test run, with version,
// commit and date linked in as make dist does, and returns its path.
func dxtrackerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "dxt-deploy-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "dxtracker")
		ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s -X main.date=%s", testVersion, testCommit, testDate)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", builtBin, "./cmd/dxtracker")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// run runs a command and returns its combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
