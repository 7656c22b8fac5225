package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/sandbox"
)

// envWithout is env without the variables named (KEY, not KEY=...).
func envWithout(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

// jsonLog is the daemon's JSON log, one object per line (other lines, if
// any, are skipped).
func jsonLog(d *daemon) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(d.output()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// waitLogEntry waits until an entry after the first skip entries
// satisfies match and returns its index.
func waitLogEntry(t *testing.T, d *daemon, skip int, what string, match func(map[string]any) bool) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		log := jsonLog(d)
		for i := skip; i < len(log); i++ {
			if match(log[i]) {
				return i
			}
		}
		if !d.alive() {
			t.Fatalf("daemon exited (%v) before logging %s\n%s", d.err, what, d.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log entry %s within 15s\n%s", what, d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func logStrs(e map[string]any, key string) []string {
	var out []string
	l, _ := e[key].([]any)
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func writeConfigFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSIGHUPAppliesGoodConfigRefusesBadOneAndFlagsRestartOnlyKeys runs the
// real daemon with a configuration file and edits it under the running
// process, as an administrator does before `systemctl reload dxtracker`.
func TestSIGHUPAppliesGoodConfigRefusesBadOneAndFlagsRestartOnlyKeys(t *testing.T) {
	s := newStack(t, sandbox.Options{ServerID: 1})
	path := filepath.Join(t.TempDir(), "dxtracker.toml")
	writeConfigFile(t, path, "log_level = \"info\"\nheartbeat = \"1s\"\n")
	cmd := exec.Command(daemonBinary(t), "run", "--config", path)
	// The file sets log_level and heartbeat; the environment must not,
	// or it would win over the file.
	cmd.Env = envWithout(s.env(), "DXT_LOG_LEVEL", "DXT_HEARTBEAT", "DXT_CONFIG")
	d := s.startRunProcess(cmd, s.listen)

	healthz := func() int {
		t.Helper()
		resp, err := http.Get("http://" + s.listen + "/healthz")
		if err != nil {
			t.Fatalf("healthz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	isDebugHealthz := func(e map[string]any) bool { return e["level"] == "debug" && e["path"] == "/healthz" }
	healthz()
	time.Sleep(200 * time.Millisecond)
	if slices.ContainsFunc(jsonLog(d), func(e map[string]any) bool { return e["level"] == "debug" }) {
		t.Fatalf("debug lines at log_level info:\n%s", d.output())
	}
	hup := func() int {
		t.Helper()
		n := len(jsonLog(d))
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return n
	}
	isReloaded := func(e map[string]any) bool {
		m, _ := e["message"].(string)
		return strings.Contains(m, "configuration reloaded")
	}

	// 1. A live key: applied at once, debug lines appear.
	writeConfigFile(t, path, "log_level = \"debug\"\nheartbeat = \"1s\"\n")
	mark := hup()
	i := waitLogEntry(t, d, mark, `"configuration reloaded"`, isReloaded)
	e := jsonLog(d)[i]
	if got := logStrs(e, "applied"); !slices.Equal(got, []string{"log_level"}) || e["level"] != "info" || e["need_restart"] != nil {
		t.Fatalf("reload entry %v: want level info, applied [log_level], no need_restart", e)
	}
	healthz()
	waitLogEntry(t, d, i, "at debug level for GET /healthz", isDebugHealthz)

	// 2. Broken files are refused; the daemon keeps running, serving and
	// tracking with the configuration in force.
	for n, broken := range []struct{ text, key string }{
		{"log_level = \"debug\"\nheartbeat = \"1s\"\nlog_levle = \"info\"\n", "log_levle"},
		{"log_level = \"loud\"\nheartbeat = \"1s\"\n", "log_level"},
	} {
		writeConfigFile(t, path, broken.text)
		mark := hup()
		i := waitLogEntry(t, d, mark, "refusing the new configuration", func(e map[string]any) bool {
			m, _ := e["message"].(string)
			return strings.Contains(m, "refused")
		})
		e := jsonLog(d)[i]
		if errText, _ := e["error"].(string); e["level"] != "error" || !strings.Contains(errText, broken.key) {
			t.Fatalf("broken file %d: refusal %v: want level error naming %s", n, e, broken.key)
		}
		if slices.ContainsFunc(jsonLog(d)[mark:], isReloaded) {
			t.Fatalf("broken file %d was reported as reloaded:\n%s", n, d.output())
		}
		if code := healthz(); code != 200 || !d.alive() {
			t.Fatalf("after the refused reload: healthz %d, alive %v", code, d.alive())
		}
		// Still at debug: the old configuration stays in force.
		waitLogEntry(t, d, i, "at debug level after the refusal", isDebugHealthz)
		if err := s.writeIntake(`{"mode":"after-refused-reload"}`); err != nil {
			t.Fatal(err)
		}
		s.waitEvents(n+1, d)
	}

	// 3. A key that needs a restart: accepted, with a warning naming it.
	writeConfigFile(t, path, "log_level = \"debug\"\nheartbeat = \"2s\"\n")
	mark = hup()
	i = waitLogEntry(t, d, mark, `"configuration reloaded"`, isReloaded)
	e = jsonLog(d)[i]
	if got := logStrs(e, "need_restart"); e["level"] != "warn" || !slices.Equal(got, []string{"heartbeat"}) || len(logStrs(e, "applied")) != 0 {
		t.Fatalf("reload entry %v: want level warn, need_restart [heartbeat], nothing applied", e)
	}

	// SIGTERM after all that: a clean exit, code 0.
	d.stop(t)
}
