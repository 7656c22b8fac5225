package vtigerinstall

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallCopiesFilesAddsLineAndRegistersLikeVtlib(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	files := extFiles("1.0.0")

	rep, err := Install(ctx, root, db, files, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Changed() || rep.VtigerVersion != "8.0.0" {
		t.Fatalf("report: %+v", rep)
	}
	t.Logf("changes: %q", rep.Changes)
	if len(rep.Warnings) > 0 {
		t.Errorf("unexpected warnings: %q", rep.Warnings)
	}

	// Files: every extension file at its place, 0644, folders 0755.
	src, _ := loadSourceOrFail(t, files)
	for _, f := range src {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if got := readFile(t, p); got != string(f.Data) {
			t.Errorf("%s: content differs", f.Path)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", f.Path, fi.Mode())
		}
	}
	for _, d := range []string{"modules/DataExportTracker/probe", "languages/ja_jp/Settings", "layouts/v7/modules/Settings/DataExportTracker/resources"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("folder %s: %v %v", d, fi, err)
		}
	}
	for _, p := range []string{"tests", "manifest.xml.orig"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s was installed", p)
		}
	}
	if got := readFile(t, filepath.Join(root, "manifest.xml")); !strings.Contains(got, "Vtiger root manifest") {
		t.Errorf("Vtiger's own manifest.xml was overwritten: %q", got)
	}
	if got := readFile(t, filepath.Join(root, "modules/DataExportTracker/.installed.json")); !strings.Contains(got, `"path": "layouts/v7/modules/DataExportTracker/resources/tracker.js"`) {
		t.Errorf("install record: %s", got)
	}

	// config_override.php: the line appended, the rest untouched.
	want := "<?php\n/* site overrides */\n$max_mailboxes = 3;\n" + ProbeLine + "\n"
	if got := readFile(t, filepath.Join(root, "config_override.php")); got != want {
		t.Errorf("config_override.php:\n%s\nwant:\n%s", got, want)
	}

	// vtiger_tab as vtlib writes an imported extension (the testdata's
	// largest tabid is 49, ExtensionStore).
	if rep.TabID != 50 {
		t.Errorf("tabid %d, want 50", rep.TabID)
	}
	row := queryString(t, db, `SELECT CONCAT_WS('|', tabid, name, presence, tabsequence, tablabel, customized, ownedby, isentitytype, version, IFNULL(parent, 'NULL'))
FROM vtiger_tab WHERE name = 'DataExportTracker'`)
	if row.String != "50|DataExportTracker|0|-1|Data Export Tracker|1|0|0|1.0.0|NULL" {
		t.Errorf("vtiger_tab row %q", row.String)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM vtiger_tab_info WHERE tabid = 50 AND
((prefname = 'vtiger_min_version' AND prefvalue = '7.0.0') OR (prefname = 'vtiger_max_version' AND prefvalue = '8.*'))`); n != 2 {
		t.Errorf("vtiger_tab_info rows: %d", n)
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM vtiger_profile2tab WHERE tabid = 50 AND permissions = 0`); n != 4 {
		t.Errorf("vtiger_profile2tab rows: %d, want one per profile (4)", n)
	}
	// Settings (parenttabid 8) held ExtensionStore at sequences 1 and 2.
	if s := queryString(t, db, `SELECT CONCAT(parenttabid, '/', sequence) FROM vtiger_parenttabrel WHERE tabid = 50`); s.String != "8/3" {
		t.Errorf("vtiger_parenttabrel: %q", s.String)
	}
	if s := queryString(t, db, `SELECT CONCAT(appname, '/', sequence, '/', visible) FROM vtiger_app2tab WHERE tabid = 50`); s.String != "SETTINGS/2/1" {
		t.Errorf("vtiger_app2tab: %q", s.String)
	}

	// The Settings menu entry: Extensions block (12), after Extension Store
	// and Google; fieldid from vtiger_settings_field_seq (39).
	if rep.SettingsBlock != "LBL_EXTENSIONS" || rep.SettingsBlockID != 12 || rep.SettingsFieldID != 40 {
		t.Errorf("settings entry: block %s/%d field %d", rep.SettingsBlock, rep.SettingsBlockID, rep.SettingsFieldID)
	}
	row = queryString(t, db, `SELECT CONCAT_WS('|', fieldid, blockid, name, iconpath, description, linkto, sequence, active, pinned)
FROM vtiger_settings_field WHERE name = 'Data Export Tracker'`)
	if row.String != "40|12|Data Export Tracker||Data Export Tracker|index.php?module=DataExportTracker&parent=Settings&view=Index|3|0|0" {
		t.Errorf("vtiger_settings_field row %q", row.String)
	}
	if n := queryInt(t, db, `SELECT id FROM vtiger_settings_field_seq`); n != 40 {
		t.Errorf("vtiger_settings_field_seq %d, want 40", n)
	}

	// tracker.js as a header script for every user.
	if rep.LinkID != 111 {
		t.Errorf("linkid %d, want 111", rep.LinkID)
	}
	row = queryString(t, db, `SELECT CONCAT_WS('|', linkid, tabid, linktype, linklabel, linkurl, linkicon, sequence, IFNULL(handler_path, 'NULL'))
FROM vtiger_links WHERE linklabel = 'DataExportTrackerJS'`)
	if row.String != "111|0|HEADERSCRIPT|DataExportTrackerJS|layouts/v7/modules/DataExportTracker/resources/tracker.js||0|NULL" {
		t.Errorf("vtiger_links row %q", row.String)
	}
	if n := queryInt(t, db, `SELECT id FROM vtiger_links_seq`); n != 111 {
		t.Errorf("vtiger_links_seq %d, want 111", n)
	}

	// Vtiger's caches know the module.
	if got := readFile(t, filepath.Join(root, "tabdata.php")); !strings.Contains(got, "'ExtensionStore'=>49,'DataExportTracker'=>50,") || !strings.Contains(got, "'49'=>0,'50'=>0,") {
		t.Errorf("tabdata.php does not list the module:\n%s", got)
	}
	if got := readFile(t, filepath.Join(root, "parent_tabdata.php")); !strings.Contains(got, "8=>array(49,49,50,)") {
		t.Errorf("parent_tabdata.php does not list the module under Settings:\n%s", got)
	}
}

func loadSourceOrFail(t *testing.T, files fs.FS) ([]srcFile, Manifest) {
	t.Helper()
	man, src, err := loadSource(files)
	if err != nil {
		t.Fatal(err)
	}
	return src, man
}

func TestSecondInstallChangesNothing(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	tree, rows := treeHash(t, root), dbSnapshot(t, db)

	rep, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() || len(rep.Warnings) > 0 {
		t.Errorf("second install changed %q, warned %q", rep.Changes, rep.Warnings)
	}
	if rep.TabID != 50 || rep.SettingsFieldID != 40 || rep.LinkID != 111 || rep.SettingsBlock != "LBL_EXTENSIONS" {
		t.Errorf("second install reports %+v", rep)
	}
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree changed:\n%s", strings.Join(d, "\n"))
	}
	if d := diffMaps(rows, dbSnapshot(t, db)); len(d) > 0 {
		t.Errorf("rows changed:\n%s", strings.Join(d, "\n"))
	}
}

func TestUninstallRestoresTreeAndRowsExactly(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	tree, rows := treeHash(t, root), dbSnapshot(t, db)

	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	rep, err := Uninstall(ctx, root, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("changes: %q", rep.Changes)
	if !rep.Changed() || len(rep.Warnings) > 0 {
		t.Errorf("uninstall: changes %q warnings %q", rep.Changes, rep.Warnings)
	}
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree not restored byte for byte:\n%s", strings.Join(d, "\n"))
	}
	after := dbSnapshot(t, db)
	if d := diffMaps(withoutSeqs(rows), withoutSeqs(after)); len(d) > 0 {
		t.Errorf("rows not restored:\n%s", strings.Join(d, "\n"))
	}
	// Vtiger never hands an id out twice; the sequences stay advanced.
	if after["vtiger_settings_field_seq"] != "'40'" || after["vtiger_links_seq"] != "'111'" {
		t.Errorf("sequences: %q %q", after["vtiger_settings_field_seq"], after["vtiger_links_seq"])
	}

	rep, err = Uninstall(ctx, root, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() {
		t.Errorf("second uninstall changed %q", rep.Changes)
	}

	// Installing again after an uninstall works and takes fresh ids.
	rep, err = Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.SettingsFieldID != 41 || rep.LinkID != 112 || rep.TabID != 50 {
		t.Errorf("reinstall: %+v", rep)
	}
}

func TestUninstallRemovesConfigOverrideItCreated(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if err := os.Remove(filepath.Join(root, "config_override.php")); err != nil {
		t.Fatal(err)
	}
	tree := treeHash(t, root)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "config_override.php")); got != "<?php\n"+ProbeLine+"\n" {
		t.Errorf("created config_override.php: %q", got)
	}
	if _, err := Uninstall(ctx, root, db, testLog(t)); err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree not restored:\n%s", strings.Join(d, "\n"))
	}
}

func TestUninstallKeepsFilesTheAdministratorChanged(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(root, "layouts/v7/modules/DataExportTracker/resources/tracker.js")
	writeFile(t, changed, "// patched by the admin\n", 0o644)
	extra := filepath.Join(root, "modules/DataExportTracker/probe/local.php")
	writeFile(t, extra, "<?php // the admin's own file\n", 0o644)

	rep, err := Uninstall(ctx, root, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, changed); got != "// patched by the admin\n" {
		t.Errorf("changed file: %q", got)
	}
	if _, err := os.Stat(extra); err != nil {
		t.Errorf("admin's file: %v", err)
	}
	w := strings.Join(rep.Warnings, "\n")
	for _, s := range []string{"layouts/v7/modules/DataExportTracker/resources/tracker.js was changed", "folder modules/DataExportTracker/probe still holds files"} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
	for _, gone := range []string{"modules/DataExportTracker/probe/bootstrap.php", "modules/DataExportTracker/.installed.json", "languages/ja_jp", "modules/Settings/DataExportTracker"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", gone, err)
		}
	}
	if n := queryInt(t, db, `SELECT COUNT(*) FROM vtiger_tab WHERE name = 'DataExportTracker'`); n != 0 {
		t.Errorf("module still registered")
	}
}

func TestUpgradeReplacesFilesRemovesDroppedOnesAndBacksUpChangedOnes(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	handEdited := filepath.Join(root, "modules/DataExportTracker/lib/Token.php")
	writeFile(t, handEdited, "<?php // hot fix\n", 0o644)

	v2 := extFiles("1.0.1")
	delete(v2, "modules/DataExportTracker/resources/readme.txt")
	v2["modules/DataExportTracker/lib/Token.php"].Data = []byte("<?php\n// token 1.0.1\n")
	rep, err := Install(ctx, root, db, v2, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("changes: %q warnings: %q", rep.Changes, rep.Warnings)
	if got := readFile(t, handEdited); got != "<?php\n// token 1.0.1\n" {
		t.Errorf("Token.php: %q", got)
	}
	if got := readFile(t, handEdited+".dxtracker-backup"); got != "<?php // hot fix\n" {
		t.Errorf("backup: %q", got)
	}
	if got := readFile(t, filepath.Join(root, "modules/DataExportTracker/probe/bootstrap.php")); !strings.Contains(got, "1.0.1") {
		t.Errorf("bootstrap.php not updated: %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "modules/DataExportTracker/resources")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dropped file's folder: %v", err)
	}
	if v := queryString(t, db, `SELECT version FROM vtiger_tab WHERE name = 'DataExportTracker'`); v.String != "1.0.1" {
		t.Errorf("version %q", v.String)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "Token.php differed") {
		t.Errorf("no warning about the replaced file: %q", rep.Warnings)
	}
}

func TestInstallReenablesAModuleDisabledInModuleManager(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	// What the extension's vtlib_handler and vtlib do on module.disabled.
	for _, q := range []string{
		`UPDATE vtiger_tab SET presence = 1 WHERE name = 'DataExportTracker'`,
		`UPDATE vtiger_settings_field SET active = 1 WHERE name = 'Data Export Tracker'`,
		`DELETE FROM vtiger_links WHERE linklabel = 'DataExportTrackerJS'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("changes: %q", rep.Changes)
	if n := queryInt(t, db, `SELECT presence FROM vtiger_tab WHERE name = 'DataExportTracker'`); n != 0 {
		t.Errorf("presence %d", n)
	}
	if n := queryInt(t, db, `SELECT active FROM vtiger_settings_field WHERE name = 'Data Export Tracker'`); n != 0 {
		t.Errorf("active %d", n)
	}
	if rep.LinkID != 112 {
		t.Errorf("link %d", rep.LinkID)
	}
	if got := readFile(t, filepath.Join(root, "tabdata.php")); !strings.Contains(got, "'50'=>0,") {
		t.Errorf("tabdata.php not refreshed")
	}
}

func TestInstallMakesAnOtherSettingsBlockWhenVtigerHasNone(t *testing.T) {
	db, name := vtigerDB(t, true)
	ctx := testCtx(t)
	if _, err := db.ExecContext(ctx, `DELETE FROM vtiger_settings_blocks WHERE label IN ('LBL_EXTENSIONS', 'LBL_OTHER_SETTINGS')`); err != nil {
		t.Fatal(err)
	}
	root := fakeVtiger(t, db, name)
	rows := dbSnapshot(t, db)
	rep, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.SettingsBlock != "LBL_OTHER_SETTINGS" || rep.SettingsBlockID != 13 {
		t.Errorf("block %s/%d", rep.SettingsBlock, rep.SettingsBlockID)
	}
	if s := queryString(t, db, `SELECT CONCAT(label, '/', sequence) FROM vtiger_settings_blocks WHERE blockid = 13`); s.String != "LBL_OTHER_SETTINGS/9" {
		t.Errorf("new block %q", s.String)
	}
	if _, err := Uninstall(ctx, root, db, testLog(t)); err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(withoutSeqs(rows), withoutSeqs(dbSnapshot(t, db))); len(d) > 0 {
		t.Errorf("rows not restored:\n%s", strings.Join(d, "\n"))
	}
}

func TestInstallPutsEntryUnderOtherSettingsOnAVtigerWithoutExtensionsBlock(t *testing.T) {
	db, name := vtigerDB(t, true)
	ctx := testCtx(t)
	if _, err := db.ExecContext(ctx, `DELETE FROM vtiger_settings_blocks WHERE label = 'LBL_EXTENSIONS'`); err != nil {
		t.Fatal(err)
	}
	root := fakeVtiger(t, db, name)
	rep, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	// Other Settings (block 4) holds fields up to sequence 9 (ModTracker).
	if rep.SettingsBlock != "LBL_OTHER_SETTINGS" || rep.SettingsBlockID != 4 {
		t.Errorf("block %s/%d", rep.SettingsBlock, rep.SettingsBlockID)
	}
	if n := queryInt(t, db, `SELECT sequence FROM vtiger_settings_field WHERE name = 'Data Export Tracker'`); n != 10 {
		t.Errorf("sequence %d, want 10", n)
	}
}

// Vtiger's files usually belong to the web server user, and Vtiger rewrites
// some of them (tabdata.php, config_override.php through its config editor,
// module folders through Module Manager). Run as root, the installer gives
// what it creates to the owner of the folder it creates it in, and keeps
// the owner and mode of the files it rewrites.
func TestInstallKeepsFilesOwnedByTheWebServerUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const www = 33
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	for _, p := range []string{"modules", "layouts/v7/modules", "languages", "languages/en_us", "config_override.php", "tabdata.php"} {
		if err := os.Chown(filepath.Join(root, p), www, www); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "config_override.php"), 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]int{
		"modules/DataExportTracker":                                 www,
		"modules/DataExportTracker/probe/bootstrap.php":             www,
		"modules/DataExportTracker/.installed.json":                 www,
		"layouts/v7/modules/DataExportTracker/resources/tracker.js": www,
		"languages/en_us/DataExportTracker.php":                     www,
		"languages/ja_jp/DataExportTracker.php":                     www, // ja_jp/ is made inside www's languages/
		"config_override.php":                                       www,
		"tabdata.php":                                               www,
		"parent_tabdata.php":                                        0,
		"modules/Settings/DataExportTracker/views/Index.php":        0, // modules/Settings belongs to root in the fake tree
	} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if own := ownerOf(fi); own.uid != want || own.gid != want {
			t.Errorf("%s: owner %d:%d, want %d", p, own.uid, own.gid, want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(root, "config_override.php")); fi.Mode().Perm() != 0o664 {
		t.Errorf("config_override.php mode %v, want 0664 kept", fi.Mode())
	}
}
