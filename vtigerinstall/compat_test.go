package vtigerinstall

import (
	"path/filepath"
	"strings"
	"testing"

	vtigerext "github.com/dxtracker/dxtracker/deploy/vtiger"
	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

// The shipped extension against the dump of a real Vtiger 8.0.0 database.
func TestInstallAgainstRealVtiger8Database(t *testing.T) {
	dump := filepath.Join(sandboxtest.FixturesDir(t), "vtiger8-fixture.sql.gz")
	ctx := testCtx(t)
	db, name := openDSN(t, sandboxtest.NewDatabase(t))
	if err := sandbox.LoadSQLGzipFile(ctx, sandboxtest.Server(t), name, dump); err != nil {
		t.Fatal(err)
	}
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	root := fakeVtiger(t, db, name)
	tree, rows := treeHash(t, root), dbSnapshot(t, db)

	rep, err := Install(ctx, root, db, vtigerext.Files, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("changes: %q", rep.Changes)
	if len(rep.Warnings) > 0 {
		t.Errorf("warnings: %q", rep.Warnings)
	}
	// Vtiger 8 has both LBL_EXTENSIONS (12, shown as "Extensions") and
	// LBL_OTHER_SETTINGS (4); the entry goes to Extensions, after
	// LBL_EXTENSION_STORE (1) and LBL_GOOGLE (2).
	if rep.SettingsBlock != "LBL_EXTENSIONS" || rep.SettingsBlockID != 12 || rep.SettingsFieldID != 40 || rep.TabID != 50 || rep.LinkID != 111 {
		t.Errorf("registration: %+v", rep)
	}

	// The Settings sidebar's query (Settings_Vtiger_MenuItem_Model::getAll):
	// active items of the block by sequence.
	menu := queryString(t, db, `SELECT GROUP_CONCAT(name ORDER BY sequence SEPARATOR '|') FROM vtiger_settings_field WHERE blockid = 12 AND active = 0`)
	if menu.String != "LBL_EXTENSION_STORE|LBL_GOOGLE|Data Export Tracker" {
		t.Errorf("Extensions menu: %q", menu.String)
	}
	// Header scripts a non-admin sees (Vtiger_Link::getAllByType with
	// IGNORE_MODULE): tabid 0 or a permitted module.
	if n := queryInt(t, db, `SELECT COUNT(*) FROM vtiger_links WHERE linktype = 'HEADERSCRIPT' AND tabid = 0 AND linkurl = ?`, LinkURL); n != 1 {
		t.Errorf("tracker.js header script for every user: %d rows", n)
	}
	// The module row next to Vtiger's own Settings extension, ExtensionStore.
	got := queryString(t, db, `SELECT GROUP_CONCAT(CONCAT_WS('|', name, presence, tabsequence, customized, isentitytype, IFNULL(parent, 'NULL')) ORDER BY tabid SEPARATOR ' ; ')
FROM vtiger_tab WHERE name IN ('ExtensionStore', 'DataExportTracker')`)
	if got.String != "ExtensionStore|0|-1|1|0|NULL ; DataExportTracker|0|-1|1|0|NULL" {
		t.Errorf("vtiger_tab: %q", got.String)
	}
	if s := queryString(t, db, `SELECT GROUP_CONCAT(CONCAT(appname, '/', sequence)) FROM vtiger_app2tab WHERE tabid = 50`); s.String != "SETTINGS/2" {
		t.Errorf("vtiger_app2tab: %q", s.String)
	}
	if tab := readFile(t, filepath.Join(root, "tabdata.php")); !strings.Contains(tab, "'DataExportTracker'=>50,") {
		t.Errorf("tabdata.php lacks the module")
	}

	again, err := Install(ctx, root, db, vtigerext.Files, testLog(t))
	if err != nil || again.Changed() {
		t.Errorf("second install: %v %q", err, again.Changes)
	}

	if _, err := Uninstall(ctx, root, db, testLog(t)); err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree not restored:\n%s", strings.Join(d, "\n"))
	}
	if d := diffMaps(withoutSeqs(rows), withoutSeqs(dbSnapshot(t, db))); len(d) > 0 {
		t.Errorf("rows not restored:\n%s", strings.Join(d, "\n"))
	}
}
