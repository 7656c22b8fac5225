package vtigerinstall

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

// phpPearDatabase stands in for Vtiger's PearDatabase (the four methods the
// handler calls) over mysqli; getUniqueID works as Vtiger's ADOdb GenID
// does on MySQL: UPDATE <table>_seq SET id = LAST_INSERT_ID(id + 1).
const phpPearDatabase = `<?php
mysqli_report(MYSQLI_REPORT_OFF);
class PearDatabase {
    public static $instance;
    public $m;
    public static function getInstance() { return self::$instance; }
    public function pquery($sql, $params = array()) {
        $st = $this->m->prepare($sql);
        if (!$st) { fwrite(STDERR, "prepare: " . $this->m->error . "\n"); return false; }
        if ($params) { $params = array_values($params); $st->bind_param(str_repeat('s', count($params)), ...$params); }
        if (!$st->execute()) { fwrite(STDERR, "execute: " . $st->error . "\n"); return false; }
        $r = $st->get_result();
        return $r === false ? array() : $r->fetch_all(MYSQLI_ASSOC);
    }
    public function num_rows($r) { return count($r); }
    public function query_result($r, $i, $col) { return $r[$i][$col]; }
    public function getUniqueID($table) {
        $this->m->query("UPDATE {$table}_seq SET id = LAST_INSERT_ID(id + 1)");
        return $this->m->insert_id;
    }
}
PearDatabase::$instance = new PearDatabase();
PearDatabase::$instance->m = new mysqli($argv[1], $argv[2], $argv[3], $argv[4], (int) $argv[5]);
require $argv[6];
$h = new DataExportTracker();
foreach (array_slice($argv, 7) as $event) { $h->vtlib_handler('DataExportTracker', $event); }
`

// After a Module Manager import, vtlib writes the module rows itself and
// then calls the extension's vtlib_handler with module.postinstall; the
// result must be the rows and the config_override.php line that
// `dxtracker vtiger install` makes. Disabling, enabling and uninstalling
// through the handler must do what the module states promise.
func TestPHPHandlerRegistersLikeTheInstaller(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php not installed: cannot run the extension's vtlib_handler")
	}
	if out, err := exec.Command(php, "-r", "exit(class_exists('mysqli') ? 0 : 1);").CombinedOutput(); err != nil {
		t.Skipf("php has no mysqli (php-mysql): %v %s", err, out)
	}
	ctx := testCtx(t)

	// The Go installer's result.
	goDB, goName := vtigerDB(t, true)
	goRoot := fakeVtiger(t, goDB, goName)
	if _, err := Install(ctx, goRoot, goDB, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}

	// vtlib's part of a Module Manager import of the same manifest (the rows
	// a real Vtiger 8 has for ExtensionStore: parent as in the manifest,
	// parenttabrel twice), then the handler.
	phpDSN := sandboxtest.NewVtigerDatabase(t)
	phpDB, _ := openDSN(t, phpDSN)
	if _, err := phpDB.ExecContext(ctx, registrationSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := phpDB.ExecContext(ctx, `
INSERT INTO vtiger_tab (tabid, name, presence, tabsequence, tablabel, modifiedby, modifiedtime, customized, ownedby, isentitytype, version, parent)
  VALUES (50, 'DataExportTracker', 0, -1, 'Data Export Tracker', NULL, NULL, 1, 0, 0, '1.0.0', 'Settings');
INSERT INTO vtiger_tab_info VALUES (50, 'vtiger_min_version', '7.0.0'), (50, 'vtiger_max_version', '8.*');
INSERT INTO vtiger_profile2tab VALUES (1, 50, 0), (2, 50, 0), (3, 50, 0), (4, 50, 0);
INSERT INTO vtiger_parenttabrel VALUES (8, 50, 3), (8, 50, 4);
INSERT INTO vtiger_app2tab (tabid, appname, sequence) VALUES (50, 'SETTINGS', 2);`); err != nil {
		t.Fatal(err)
	}
	phpRoot := t.TempDir()
	writeFile(t, filepath.Join(phpRoot, "config_override.php"), "<?php\n/* site overrides */\n$max_mailboxes = 3;\n", 0o644)
	_, self, _, _ := runtime.Caller(0)
	class, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "deploy", "vtiger", "modules", "DataExportTracker", "DataExportTracker.php"))
	if err != nil {
		t.Fatal(err)
	}
	classPath := filepath.Join(phpRoot, "modules", "DataExportTracker", "DataExportTracker.php")
	writeFile(t, classPath, string(class), 0o644)
	script := filepath.Join(t.TempDir(), "handler.php")
	writeFile(t, script, phpPearDatabase, 0o644)
	cfg, err := mysql.ParseDSN(phpDSN)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	handler := func(events ...string) {
		t.Helper()
		args := append([]string{"-d", "display_errors=stderr", script, host, cfg.User, cfg.Passwd, cfg.DBName, port, classPath}, events...)
		cmd := exec.Command(php, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || out.Len() > 0 {
			t.Fatalf("php handler %v: %v\n%s", events, err, out.String())
		}
	}

	handler("module.postinstall")
	goRows, phpRows := dbSnapshot(t, goDB), dbSnapshot(t, phpDB)
	for _, table := range []string{"vtiger_tab", "vtiger_settings_blocks", "vtiger_settings_field", "vtiger_links", "vtiger_settings_field_seq", "vtiger_links_seq", "vtiger_tab_info", "vtiger_profile2tab", "vtiger_app2tab"} {
		if goRows[table] != phpRows[table] {
			t.Errorf("%s differs after postinstall:\nGo:\n%s\nPHP:\n%s", table, lastLines(goRows[table]), lastLines(phpRows[table]))
		}
	}
	goOverride := readFile(t, filepath.Join(goRoot, "config_override.php"))
	if got := readFile(t, filepath.Join(phpRoot, "config_override.php")); got != goOverride {
		t.Errorf("config_override.php:\nPHP %q\nGo  %q", got, goOverride)
	}

	handler("module.postinstall", "module.postupdate")
	if d := diffMaps(phpRows, dbSnapshot(t, phpDB)); len(d) > 0 {
		t.Errorf("a repeated postinstall changed rows:\n%s", strings.Join(d, "\n"))
	}

	handler("module.disabled")
	if n := queryInt(t, phpDB, `SELECT active FROM vtiger_settings_field WHERE name = ?`, SettingsFieldName); n != 1 {
		t.Errorf("disabled: settings entry active = %d, want 1 (hidden)", n)
	}
	if n := queryInt(t, phpDB, `SELECT COUNT(*) FROM vtiger_links WHERE linklabel = ?`, LinkLabel); n != 0 {
		t.Errorf("disabled: %d header script links left", n)
	}
	if strings.Contains(readFile(t, filepath.Join(phpRoot, "config_override.php")), ProbeMarker) {
		t.Errorf("disabled: probe line left")
	}

	handler("module.enabled")
	if n := queryInt(t, phpDB, `SELECT active FROM vtiger_settings_field WHERE name = ?`, SettingsFieldName); n != 0 {
		t.Errorf("enabled: settings entry active = %d", n)
	}
	if n := queryInt(t, phpDB, `SELECT COUNT(*) FROM vtiger_links WHERE linklabel = ? AND tabid = 0`, LinkLabel); n != 1 {
		t.Errorf("enabled: %d header script links", n)
	}
	if got := readFile(t, filepath.Join(phpRoot, "config_override.php")); got != goOverride {
		t.Errorf("enabled: config_override.php %q", got)
	}

	handler("module.preuninstall")
	if n := queryInt(t, phpDB, `SELECT COUNT(*) FROM vtiger_settings_field WHERE name = ?`, SettingsFieldName); n != 0 {
		t.Errorf("preuninstall: settings entry left")
	}
	if n := queryInt(t, phpDB, `SELECT COUNT(*) FROM vtiger_links WHERE linklabel = ?`, LinkLabel); n != 0 {
		t.Errorf("preuninstall: header script left")
	}
	if got := readFile(t, filepath.Join(phpRoot, "config_override.php")); got != "<?php\n/* site overrides */\n$max_mailboxes = 3;\n" {
		t.Errorf("preuninstall: config_override.php %q", got)
	}

	// The Go uninstaller cleans up a Module Manager install as well.
	writeCaches(t, phpDB, phpRoot)
	for _, f := range []string{"index.php", "vtigerversion.php", "layouts/v7/modules/Vtiger/Header.tpl"} {
		writeFile(t, filepath.Join(phpRoot, f), readFile(t, filepath.Join(goRoot, f)), 0o644)
	}
	writeFile(t, filepath.Join(phpRoot, "config.inc.php"), "<?php\n$dbconfig['db_name'] = '"+cfg.DBName+"';\n", 0o644)
	handler("module.postinstall")
	if _, err := Uninstall(ctx, phpRoot, phpDB, testLog(t)); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, phpDB, `SELECT COUNT(*) FROM vtiger_tab WHERE name = ?`, ModuleName); n != 0 {
		t.Errorf("the Go uninstaller left the module row")
	}
	if strings.Contains(readFile(t, filepath.Join(phpRoot, "config_override.php")), ProbeMarker) {
		t.Errorf("the Go uninstaller left the probe line the PHP handler wrote")
	}
}

func lastLines(s string) string {
	l := strings.Split(s, "\n")
	if len(l) > 4 {
		l = l[len(l)-4:]
	}
	return strings.Join(l, "\n")
}
