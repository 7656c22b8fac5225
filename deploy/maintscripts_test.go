package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The .deb's maintainer scripts, run against stand-ins for adduser,
// getent, stat, chgrp and systemctl that record their calls and keep the
// account's state in files, with DPKG_ROOT pointing at a temp dir: what a
// first install, a reinstall, an upgrade, a removal and a purge do.

const stubs = `#!/bin/sh
# stand-in: log the call, keep state under $STUB_STATE
echo "$(basename "$0") $*" >>"$STUB_STATE/calls"
case "$(basename "$0")" in
getent)
	[ -e "$STUB_STATE/$1-$2" ] ;;
adduser)
	touch "$STUB_STATE/passwd-dxtracker" "$STUB_STATE/group-dxtracker" ;;
addgroup)
	touch "$STUB_STATE/group-dxtracker" ;;
deluser)
	rm -f "$STUB_STATE/passwd-dxtracker" ;;
delgroup)
	rm -f "$STUB_STATE/group-dxtracker" ;;
stat) # stat -c %G FILE
	f=$(echo "$3" | tr / _); cat "$STUB_STATE/grp$f" 2>/dev/null || echo root ;;
chgrp) # chgrp GROUP FILE
	f=$(echo "$2" | tr / _); echo "$1" >"$STUB_STATE/grp$f" ;;
esac
`

type maint struct {
	t     *testing.T
	root  string // DPKG_ROOT
	state string
	bin   string
}

func newMaint(t *testing.T) *maint {
	m := &maint{t: t, root: t.TempDir(), state: t.TempDir(), bin: t.TempDir()}
	for _, name := range []string{"getent", "adduser", "addgroup", "deluser", "delgroup", "stat", "chgrp", "systemctl"} {
		if err := os.WriteFile(filepath.Join(m.bin, name), []byte(stubs), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// What dpkg unpacked, and a running systemd.
	for _, d := range []string{"etc/dxtracker", "run/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(m.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(m.root, "etc/dxtracker/dxtracker.toml"), []byte("# config\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return m
}

// run runs deploy/deb/<script> with args and returns the stand-ins' calls.
func (m *maint) run(script string, args ...string) []string {
	m.t.Helper()
	os.Remove(filepath.Join(m.state, "calls"))
	if m.root == "" || m.root == "/" {
		m.t.Fatal("DPKG_ROOT must be a temp dir") // the scripts rm -rf $DPKG_ROOT/etc/dxtracker on purge
	}
	out, err := run(m.t, "", []string{"DPKG_ROOT=" + m.root, "STUB_STATE=" + m.state, "PATH=" + m.bin + ":" + os.Getenv("PATH")},
		"sh", append([]string{"-eu", filepath.Join("deb", script)}, args...)...)
	if err != nil {
		m.t.Fatalf("%s %v: %v\n%s", script, args, err, out)
	}
	b, _ := os.ReadFile(filepath.Join(m.state, "calls"))
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(calls) == 1 && calls[0] == "" {
		calls = nil
	}
	for _, c := range calls {
		if strings.HasPrefix(c, "systemctl start") || strings.HasPrefix(c, "systemctl enable") || strings.HasPrefix(c, "systemctl restart") {
			m.t.Errorf("%s %v ran %q: the service must never be started by the package", script, args, c)
		}
	}
	return calls
}

func has(calls []string, prefix string) bool {
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

func TestMaintainerScriptsInstallUpgradeRemovePurge(t *testing.T) {
	m := newMaint(t)

	// First install: account, config group, daemon-reload, no (re)start.
	calls := m.run("postinst", "configure", "")
	for _, want := range []string{
		"adduser --system --group --no-create-home --home /nonexistent",
		"chgrp dxtracker " + m.root + "/etc/dxtracker",
		"chgrp dxtracker " + m.root + "/etc/dxtracker/dxtracker.toml",
		"systemctl daemon-reload",
	} {
		if !has(calls, want) {
			t.Errorf("first install: no %q in %q", want, calls)
		}
	}
	if has(calls, "systemctl try-restart") {
		t.Errorf("first install restarts: %q", calls)
	}

	// Reinstall of the same version: idempotent, nothing created twice.
	calls = m.run("postinst", "configure", "")
	if has(calls, "adduser") || has(calls, "addgroup") || has(calls, "chgrp") {
		t.Errorf("second configure redid work: %q", calls)
	}

	// Upgrade: a running daemon moves to the new binary; try-restart
	// leaves a stopped one stopped. prerm keeps it running meanwhile.
	if calls := m.run("prerm", "upgrade", "1.1.0"); has(calls, "systemctl stop") {
		t.Errorf("prerm upgrade stops the daemon: %q", calls)
	}
	if calls := m.run("postinst", "configure", "1.0.0"); !has(calls, "systemctl try-restart dxtracker.service") || has(calls, "adduser") {
		t.Errorf("upgrade: %q", calls)
	}

	// An administrator's own group on the config is kept.
	os.WriteFile(filepath.Join(m.state, "grp"+strings.ReplaceAll(m.root+"/etc/dxtracker/dxtracker.toml", "/", "_")), []byte("admins\n"), 0o644)
	if calls := m.run("postinst", "configure", "1.1.0"); has(calls, "chgrp") {
		t.Errorf("postinst overrode the config's group: %q", calls)
	}

	// Remove: stopped, systemd forgets the unit; account and config stay.
	if calls := m.run("prerm", "remove"); !has(calls, "systemctl stop dxtracker.service") {
		t.Errorf("prerm remove: %q", calls)
	}
	calls = m.run("postrm", "remove")
	if !has(calls, "systemctl daemon-reload") || has(calls, "deluser") {
		t.Errorf("postrm remove: %q", calls)
	}
	if _, err := os.Stat(filepath.Join(m.root, "etc/dxtracker")); err != nil {
		t.Errorf("remove deleted /etc/dxtracker: %v", err)
	}

	// Purge: account, group and /etc/dxtracker (with any secret files) go.
	os.WriteFile(filepath.Join(m.root, "etc/dxtracker/mysql_dsn"), []byte("secret"), 0o640)
	calls = m.run("postrm", "purge")
	if !has(calls, "deluser --system --quiet dxtracker") || !has(calls, "delgroup --system --quiet dxtracker") {
		t.Errorf("purge: %q", calls)
	}
	if _, err := os.Stat(filepath.Join(m.root, "etc/dxtracker")); !os.IsNotExist(err) {
		t.Errorf("purge left /etc/dxtracker: %v", err)
	}
	// Purging again (dpkg may) is harmless.
	if calls := m.run("postrm", "purge"); has(calls, "deluser") {
		t.Errorf("second purge: %q", calls)
	}

	// Without systemd (a container, a chroot): no systemctl at all.
	m2 := newMaint(t)
	os.RemoveAll(filepath.Join(m2.root, "run"))
	for _, c := range [][]string{{"postinst", "configure", ""}, {"postinst", "configure", "1.0.0"}, {"prerm", "remove"}, {"postrm", "purge"}} {
		if calls := m2.run(c[0], c[1:]...); has(calls, "systemctl") {
			t.Errorf("%v without systemd: %q", c, calls)
		}
	}
}
