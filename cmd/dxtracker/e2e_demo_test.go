package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoTmpDir is a short private TMPDIR for one demo process: the sandbox's
// datadir, socket and tmpdir go there, so the test can tell that the demo
// left neither a mariadbd nor a file behind.
func demoTmpDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dxdemo") // short: the socket path must fit sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// demoEnv is the test's environment with TMPDIR set to tmp and no DXT_
// variable (the demo must not depend on them).
func demoEnv(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DXT_") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return append(env, "TMPDIR="+tmp)
}

// processesUnder lists the processes whose command line mentions dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmd := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		if strings.Contains(cmd, dir) {
			out = append(out, e.Name()+": "+cmd)
		}
	}
	return out
}

// assertSandboxGone checks that no process runs from tmp and that tmp is
// empty: the demo stopped its MariaDB and removed its files.
func assertSandboxGone(t *testing.T, tmp string) {
	t.Helper()
	var procs []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if procs = processesUnder(t, tmp); len(procs) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(procs) > 0 {
		for _, p := range procs {
			if pid, err := strconv.Atoi(strings.SplitN(p, ":", 2)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL) // ours: its command line names our temp dir
			}
		}
		t.Fatalf("processes left behind by the demo: %q", procs)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("the demo left files in its TMPDIR: %v", names)
	}
}

// demoSection returns the lines of out after the line starting with title
// up to the next empty line.
func demoSection(out, title string) []string {
	_, after, ok := strings.Cut(out, "\n"+title)
	if !ok {
		return nil
	}
	lines := strings.Split(after, "\n")[1:]
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			return lines[:i]
		}
	}
	return lines
}

func TestDemoOncePlaysTheScenarioPrintsLogRulesMailsAPIAndCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB and the daemon")
	}
	tmp := demoTmpDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemonBinary(t), "demo", "--once", "--listen", "127.0.0.1:0")
	cmd.Env = demoEnv(tmp)
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	out := stdout.String()
	t.Logf("demo --once took %s; output:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("demo --once: %v\nstderr:\n%s", err, stderr.String())
	}
	// Quiet: the daemon logs at warn, and nothing went wrong.
	if s := stderr.String(); strings.Contains(s, `"level":"error"`) {
		t.Errorf("errors on stderr:\n%s", s)
	}
	if n := strings.Count(out, "\n"); n > 45 {
		t.Errorf("%d lines of output: more than a screen", n)
	}

	// The tracking log: exactly the three take-outs of the scenario.
	rows := demoSection(out, "Tracking log:")
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "ID ") {
		t.Fatalf("tracking log %q: want a header and 3 events", rows)
	}
	for i, re := range []*regexp.Regexp{
		regexp.MustCompile(`^\d+\s+\S+ \S+\s+jsmith\s+listview_export\s+Contacts\s+3000\s+203\.0\.113\.50\s+probe\s+Contacts\.csv$`),
		regexp.MustCompile(`^\d+\s+\S+ \S+\s+jsmith\s+copy\s+Contacts\s+2\s+127\.0\.0\.1\s+beacon\s`),
		regexp.MustCompile(`^\d+\s+\S+ \S+\s+\S+\s+scheduled_report\s+\S+\s+-\s+-\s+binlog\s`),
	} {
		if !re.MatchString(strings.TrimSpace(rows[i+1])) {
			t.Errorf("event %d: %q does not match %s", i+1, rows[i+1], re)
		}
	}

	// The rules that matched, per event.
	matched := strings.Join(demoSection(out, "Rules that matched:"), "\n")
	for _, want := range []string{
		"listview_export", "built-in: 3,000 records exported",
		"jsmith handed in notice: jsmith is on the watchlist until",
		"copy", "scheduled_report", "Outside recipients: scheduled report sent to 1 external recipient: partner@outside.example.org",
	} {
		if !strings.Contains(matched, want) {
			t.Errorf("rules section lacks %q:\n%s", want, matched)
		}
	}
	if c := strings.Count(matched, "jsmith handed in notice"); c != 2 {
		t.Errorf("the watchlist matched %d events, want 2 (the export and the copy)", c)
	}

	// The mails: one per alerting event, to the admin address.
	mails := demoSection(out, "Mails received by the sink")
	if len(mails) != 3 {
		t.Errorf("%d mails listed, want 3: %q", len(mails), mails)
	}
	for _, want := range []string{
		"security@example.com  [Data Export Tracker] jsmith exported 3,000 Contacts",
		"security@example.com  [Data Export Tracker] jsmith copied 2 rows from Contacts",
		`security@example.com  [Data Export Tracker] Scheduled report "Lab Contacts Export Report" sent`,
	} {
		if !strings.Contains(strings.Join(mails, "\n"), want) {
			t.Errorf("no mail %q in %q", want, mails)
		}
	}
	if !strings.Contains(strings.Join(mails, "\n"), "(1 external)") {
		t.Errorf("the scheduled report's mail does not flag the external recipient: %q", mails)
	}

	// The API: URL, token, a curl line that uses both.
	m := regexp.MustCompile(`(?m)^API:\s+(http://127\.0\.0\.1:\d+)/api/v1/events\nToken:\s+(dxt_[0-9a-f]+)\nTry:\s+curl -H 'Authorization: Bearer (dxt_[0-9a-f]+)' '(http://127\.0\.0\.1:\d+)/api/v1/events`).FindStringSubmatch(out)
	if m == nil || m[2] != m[3] || m[1] != m[4] {
		t.Errorf("no consistent API / Token / curl lines in the output (match %q)", m)
	}

	assertSandboxGone(t, tmp)
}

func TestDemoCtrlCStopsEverythingAndRemovesTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MariaDB and the daemon")
	}
	tmp := demoTmpDir(t)
	cmd := exec.Command(daemonBinary(t), "demo", "--listen", "127.0.0.1:0")
	cmd.Env = demoEnv(tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Read until the demo waits for Ctrl+C.
	var out strings.Builder
	waiting := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		signalled := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "Press Ctrl+C") {
				signalled = true
				close(waiting)
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		done <- cmd.Wait()
	}()
	select {
	case <-waiting:
	case err := <-done:
		t.Fatalf("demo exited before waiting for Ctrl+C: %v\n%s\n%s", err, out.String(), stderr.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("demo not waiting for Ctrl+C after 3 minutes\n%s", stderr.String())
	}
	if len(processesUnder(t, tmp)) == 0 {
		t.Fatal("no process runs from the demo's TMPDIR while it waits: the cleanup check would prove nothing")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo after Ctrl+C: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo still running 30s after Ctrl+C\n%s", stderr.String())
	}
	assertSandboxGone(t, tmp)
}
