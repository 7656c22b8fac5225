package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/config"
)

const unitPath = "systemd/dxtracker.service"

// unitDirectives reads a unit file into section -> key -> values (a key
// may repeat, like SystemCallFilter=).
func unitDirectives(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: not a directive: %q", path, line)
			}
			out[section][strings.TrimSpace(k)] = append(out[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUnitFileDeclaresNotifyRestartPolicyAndHardening(t *testing.T) {
	svc := unitDirectives(t, unitPath)["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	want := map[string]string{
		"Type":                     "notify",
		"NotifyAccess":             "main",
		"ExecStart":                "/usr/bin/dxtracker run --config /etc/dxtracker/dxtracker.toml",
		"ExecReload":               "/bin/kill -HUP $MAINPID",
		"WatchdogSec":              "30s",
		"Restart":                  "on-failure",
		"RestartSec":               "5s",
		"RestartPreventExitStatus": strconv.Itoa(config.ExitConfig),
		"User":                     "dxtracker",
		"Group":                    "dxtracker",
		"UMask":                    "0077",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"ProtectHome":              "yes",
		"PrivateTmp":               "yes",
		"PrivateDevices":           "yes",
		"ProtectKernelTunables":    "yes",
		"ProtectKernelModules":     "yes",
		"ProtectKernelLogs":        "yes",
		"ProtectControlGroups":     "yes",
		"ProtectClock":             "yes",
		"ProtectHostname":          "yes",
		"RestrictAddressFamilies":  "AF_UNIX AF_INET AF_INET6",
		"RestrictNamespaces":       "yes",
		"RestrictRealtime":         "yes",
		"RestrictSUIDSGID":         "yes",
		"LockPersonality":          "yes",
		"MemoryDenyWriteExecute":   "yes",
		"SystemCallArchitectures":  "native",
		"CapabilityBoundingSet":    "", // empty: no capability at all
		"AmbientCapabilities":      "",
	}
	for k, v := range want {
		got, ok := svc[k]
		if !ok {
			t.Errorf("%s= missing, want %q", k, v)
			continue
		}
		if len(got) != 1 || got[0] != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if f := svc["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
		t.Errorf("SystemCallFilter=%q, want @system-service first", f)
	}
	// The daemon writes nothing to disk: no writable path may creep in.
	for _, k := range []string{"ReadWritePaths", "StateDirectory", "LogsDirectory", "CacheDirectory", "RuntimeDirectory"} {
		if v, ok := svc[k]; ok {
			t.Errorf("%s=%q: the daemon keeps its state in MySQL and needs no writable path", k, v)
		}
	}
	if _, ok := svc["LimitNOFILE"]; !ok {
		t.Error("LimitNOFILE= missing")
	}

	// The stop timeout must leave the daemon its own shutdown_timeout
	// (default) plus headroom for the checkpoint, or systemd SIGKILLs a
	// clean shutdown. The default comes from loading the packaged config.
	cfg, _, err := config.Load([]string{"--config", "dxtracker.example.toml"},
		[]string{"DXT_MYSQL_DSN=u:p@tcp(127.0.0.1:3306)/vtiger", "DXT_SERVER_ID=4242"})
	if err != nil {
		t.Fatalf("the packaged example config does not load: %v", err)
	}
	stop, err := time.ParseDuration(svc["TimeoutStopSec"][0])
	if err != nil {
		t.Fatalf("TimeoutStopSec=%q: %v", svc["TimeoutStopSec"], err)
	}
	if stop < cfg.ShutdownTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec=%v leaves too little over shutdown_timeout %v", stop, cfg.ShutdownTimeout)
	}
	t.Logf("TimeoutStopSec %v, shutdown_timeout default %v", stop, cfg.ShutdownTimeout)
}

// verifiableUnit copies the unit into a temp dir with ExecStart pointing at
// a freshly built dxtracker (systemd-analyze verify checks that it exists).
func verifiableUnit(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	bin := dxtrackerBinary(t)
	unit := strings.Replace(string(b), "ExecStart=/usr/bin/dxtracker ", "ExecStart="+bin+" ", 1)
	if unit == string(b) {
		t.Fatal("ExecStart=/usr/bin/dxtracker not found in the unit")
	}
	path := filepath.Join(t.TempDir(), "dxtracker.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUnitFilePassesSystemdAnalyzeVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd): unit not verified")
	}
	path := verifiableUnit(t)
	out, err := run(t, "", nil, "systemd-analyze", "verify", path)
	t.Logf("systemd-analyze verify: %q", out)
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Unknown or misspelt directives are only warnings (exit 0): any line
	// about our unit is a failure. Lines about the host's other units are not.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "dxtracker") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

var exposureRe = regexp.MustCompile(`Overall exposure level for dxtracker\.service: ([0-9.]+)`)

func TestUnitSecurityExposureIsLow(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	path := verifiableUnit(t)
	out, err := run(t, "", nil, "systemd-analyze", "security", "--offline=yes", "--no-pager", path)
	m := exposureRe.FindStringSubmatch(out)
	if m == nil {
		t.Skipf("systemd-analyze security --offline not supported here (systemd < 250?): %v %s", err, out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("systemd-analyze security --offline=yes: exposure %.1f (0 = best, 10 = unprotected)", score)
	// 1.4 when written; above 2 means a hardening directive went missing.
	if score > 2.0 {
		t.Errorf("exposure %.1f > 2.0:\n%s", score, out)
	}
}
