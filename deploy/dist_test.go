package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDistBuildsStaticBinariesAndDebsThatCheckDebAccepts runs scripts/dist.sh
// (what `make dist` runs) into a temp dir with a given version, then
// scripts/check-deb.sh on the result. It cross-compiles twice and runs nfpm
// (downloaded through the Go module proxy the first time), about a minute
// with a warm build cache, so it runs only with DXT_TEST_DIST=1:
//
//	DXT_TEST_DIST=1 go test -run Dist -v ./deploy/
//
// The fast parts stay in every run: the unit (systemd_test.go), the
// maintainer scripts (maintscripts_test.go) and the version stamping of
// dxtrackerBinary (TestVersionCommitAndDateAreLinkedIn).
func TestDistBuildsStaticBinariesAndDebsThatCheckDebAccepts(t *testing.T) {
	if os.Getenv("DXT_TEST_DIST") != "1" {
		t.Skip("set DXT_TEST_DIST=1 to build both architectures and the .debs (about a minute)")
	}
	for _, tool := range []string{"dpkg-deb", "sha256sum", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	root := repoRoot(t)
	dist := t.TempDir()
	start := time.Now()
	out, err := run(t, root, []string{"DIST_DIR=" + dist, "VERSION=v1.2.3-4-gabcdef1", "COMMIT=abcdef1", "DATE=2026-01-02T03:04:05Z"},
		"scripts/dist.sh")
	t.Logf("dist.sh (%v):\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("dist.sh: %v", err)
	}
	for _, f := range []string{"dxtracker-linux-amd64", "dxtracker-linux-arm64",
		"dxtracker_1.2.3+4.gabcdef1_amd64.deb", "dxtracker_1.2.3+4.gabcdef1_arm64.deb", "SHA256SUMS"} {
		fi, err := os.Stat(filepath.Join(dist, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		t.Logf("%-40s %6.1f MiB", f, float64(fi.Size())/(1<<20))
	}
	if _, err := os.Stat(filepath.Join(dist, ".pkg")); !os.IsNotExist(err) {
		t.Errorf("staging dir left behind: %v", err)
	}
	out, err = run(t, root, nil, "scripts/check-deb.sh", dist)
	t.Logf("check-deb.sh:\n%s", out)
	if err != nil {
		t.Fatalf("check-deb.sh: %v", err)
	}
	if !strings.Contains(out, "dxtracker v1.2.3-4-gabcdef1 (commit abcdef1, built 2026-01-02T03:04:05Z)") {
		t.Errorf("version line not as linked")
	}
}

// TestVersionCommitAndDateAreLinkedIn checks that the -X flags make dist
// passes reach what `dxtracker version` prints (main.version, main.commit,
// main.date in cmd/dxtracker/main.go).
func TestVersionCommitAndDateAreLinkedIn(t *testing.T) {
	out, err := run(t, "", nil, dxtrackerBinary(t), "version")
	if err != nil {
		t.Fatalf("dxtracker version: %v\n%s", err, out)
	}
	want := "dxtracker " + testVersion + " (commit " + testCommit + ", built " + testDate + ")"
	if out != want {
		t.Errorf("dxtracker version = %q, want %q", out, want)
	}
}
