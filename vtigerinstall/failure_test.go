package vtigerinstall

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every failed check stops before anything changes: the tree and the rows
// are compared before and after.
//
// Tests run as root, where chmod 0444 does not stop a write. The installer
// does not rely on the kernel alone: it also refuses a file whose
// permission bits grant no write (an administrator's chmod 0444 is a
// "hands off", even for root), so chmod 0444 is a real test of that check.
// Folders are probed by creating and removing a temp file, which root
// passes whatever the mode; the test for an unwritable target folder makes
// the folder a file instead, which fails for root too. Read-only file
// systems (EROFS) and immutable files (chattr +i) fail the same probes.
func TestFailedChecksChangeNothing(t *testing.T) {
	db, name := vtigerDB(t, true)
	cases := []struct {
		name  string
		setup func(t *testing.T, root string) string // returns the root to use
		want  string
	}{
		{"empty folder is not Vtiger", func(t *testing.T, root string) string {
			return t.TempDir()
		}, "is not a Vtiger 7/8 installation: vtigerversion.php, config.inc.php, index.php, modules/, layouts/v7/ missing"},
		{"root is a file", func(t *testing.T, root string) string {
			return filepath.Join(root, "index.php")
		}, "is not a folder"},
		{"root does not exist", func(t *testing.T, root string) string {
			return filepath.Join(root, "nope")
		}, "no such file or directory"},
		{"Vtiger 6 layout without layouts/v7", func(t *testing.T, root string) string {
			if err := os.RemoveAll(filepath.Join(root, "layouts")); err != nil {
				t.Fatal(err)
			}
			return root
		}, "layouts/v7/ missing"},
		{"Vtiger 6.5.0", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "vtigerversion.php"), "<?php\n$vtiger_current_version = '6.5.0';\n", 0o644)
			return root
		}, "Vtiger 6.5.0 is not supported: DataExportTracker 1.0.0 works with Vtiger from 7.0.0 to 8.*"},
		{"Vtiger 9.0.0", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "vtigerversion.php"), "<?php\n$vtiger_current_version = '9.0.0';\n", 0o644)
			return root
		}, "Vtiger 9.0.0 is not supported"},
		{"version unreadable", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "vtigerversion.php"), "<?php\n// nothing here\n", 0o644)
			return root
		}, "vtigerversion.php does not set $vtiger_current_version"},
		{"read-only config_override.php", func(t *testing.T, root string) string {
			if err := os.Chmod(filepath.Join(root, "config_override.php"), 0o444); err != nil {
				t.Fatal(err)
			}
			return root
		}, "config_override.php is read-only (mode 0444)"},
		{"read-only tabdata.php", func(t *testing.T, root string) string {
			if err := os.Chmod(filepath.Join(root, "tabdata.php"), 0o444); err != nil {
				t.Fatal(err)
			}
			return root
		}, "tabdata.php is read-only (mode 0444)"},
		{"target folder is a file", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "layouts/v7/modules/DataExportTracker"), "not a folder\n", 0o644)
			return root
		}, "layouts/v7/modules/DataExportTracker exists but is not a folder"},
		{"target file is a folder", func(t *testing.T, root string) string {
			if err := os.MkdirAll(filepath.Join(root, "modules/DataExportTracker/DataExportTracker.php"), 0o755); err != nil {
				t.Fatal(err)
			}
			return root
		}, "modules/DataExportTracker/DataExportTracker.php exists and is not a regular file"},
		{"database of another Vtiger", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "config.inc.php"), "<?php\n$dbconfig['db_name'] = 'vtiger_other';\n", 0o644)
			return root
		}, `mysql_dsn points at database "` + name + `", but`},
		{"db_name from the environment", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "config.inc.php"), "<?php\n$dbconfig['db_name'] = getenv('DB_NAME');\n", 0o644)
			return root
		}, "not to a plain quoted name"},
		{"damaged install record", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, RecordPath), "{not json", 0o644)
			return root
		}, ".installed.json is damaged"},
		{"install record naming a Vtiger file", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, RecordPath), `{"files":[{"path":"index.php","sha256":"`+strings.Repeat("0", 64)+`"}]}`, 0o644)
			return root
		}, `lists "index.php", which is not a file of the extension`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t)
			base := fakeVtiger(t, db, name)
			root := c.setup(t, base)
			tree, rows := treeHash(t, base), dbSnapshot(t, db)
			_, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t))
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("want a CheckError, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			t.Logf("%v", err)
			if d := diffMaps(tree, treeHash(t, base)); len(d) > 0 {
				t.Errorf("tree changed:\n%s", strings.Join(d, "\n"))
			}
			if d := diffMaps(rows, dbSnapshot(t, db)); len(d) > 0 {
				t.Errorf("rows changed:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestInstallWithoutTrackerTablesSaysRunMigrate(t *testing.T) {
	db, name := vtigerDB(t, false)
	root := fakeVtiger(t, db, name)
	tree, rows := treeHash(t, root), dbSnapshot(t, db)
	_, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t))
	var ce *CheckError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "run `dxtracker migrate` with the same configuration first") {
		t.Fatalf("error %v", err)
	}
	t.Logf("%v", err)
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree changed:\n%s", strings.Join(d, "\n"))
	}
	if d := diffMaps(rows, dbSnapshot(t, db)); len(d) > 0 {
		t.Errorf("rows changed:\n%s", strings.Join(d, "\n"))
	}
}

func TestInstallReportsSeveralProblemsAtOnce(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	for _, f := range []string{"config_override.php", "tabdata.php"} {
		if err := os.Chmod(filepath.Join(root, f), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t))
	var ce *CheckError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("want two problems, got %v", err)
	}
}

func TestInstallIntoADatabaseWithoutVtigerTablesFails(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	if _, err := db.ExecContext(testCtx(t), `DROP TABLE vtiger_links_seq`); err != nil {
		t.Fatal(err)
	}
	_, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t))
	if err == nil || !strings.Contains(err.Error(), "lacks the Vtiger tables vtiger_links_seq") {
		t.Fatalf("error %v", err)
	}
}

// A failure after the checks, in the middle of the changes, undoes the
// files already written and rolls the rows back.
func TestFailureMidwayUndoesEverything(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	// Passes the checks (writable), fails when the line is added, after the
	// files were copied and the rows inserted.
	writeFile(t, filepath.Join(root, "config_override.php"), "<?php\n$a = 1; /* an unterminated comment\n", 0o644)
	tree, rows := treeHash(t, root), dbSnapshot(t, db)
	_, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t))
	if err == nil || !strings.Contains(err.Error(), "add this line to it by hand") || !strings.Contains(err.Error(), "the file changes were undone, nothing was changed") {
		t.Fatalf("error %v", err)
	}
	t.Logf("%v", err)
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree changed:\n%s", strings.Join(d, "\n"))
	}
	if d := diffMaps(rows, dbSnapshot(t, db)); len(d) > 0 {
		t.Errorf("rows changed (sequences included):\n%s", strings.Join(d, "\n"))
	}
}

func TestUninstallChecksTheRootAndTheDatabaseToo(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	if _, err := Install(testCtx(t), root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "config.inc.php"), "<?php\n$dbconfig['db_name'] = \"vtiger_other\";\n", 0o644)
	tree, rows := treeHash(t, root), dbSnapshot(t, db)
	_, err := Uninstall(testCtx(t), root, db, testLog(t))
	var ce *CheckError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `uses database "vtiger_other"`) {
		t.Fatalf("error %v", err)
	}
	if d := diffMaps(tree, treeHash(t, root)); len(d) > 0 {
		t.Errorf("tree changed:\n%s", strings.Join(d, "\n"))
	}
	if d := diffMaps(rows, dbSnapshot(t, db)); len(d) > 0 {
		t.Errorf("rows changed:\n%s", strings.Join(d, "\n"))
	}

	// Not a Vtiger root at all.
	_, err = Uninstall(testCtx(t), t.TempDir(), db, testLog(t))
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not a Vtiger 7/8 installation") {
		t.Fatalf("error %v", err)
	}
}

func TestUninstallWithoutRecordUnregistersAndNamesTheFolders(t *testing.T) {
	db, name := vtigerDB(t, true)
	root := fakeVtiger(t, db, name)
	ctx := testCtx(t)
	if _, err := Install(ctx, root, db, extFiles("1.0.0"), testLog(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, RecordPath)); err != nil {
		t.Fatal(err)
	}
	rep, err := Uninstall(ctx, root, db, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "no files were removed. Remove by hand: modules/DataExportTracker") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	if _, err := os.Stat(filepath.Join(root, "modules/DataExportTracker/DataExportTracker.php")); err != nil {
		t.Errorf("files were removed without a record: %v", err)
	}
	var n sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM vtiger_links WHERE linklabel = 'DataExportTrackerJS'`).Scan(&n); err != nil || n.Int64 != 0 {
		t.Errorf("link left: %v %v", n, err)
	}
	if strings.Contains(readFile(t, filepath.Join(root, "config_override.php")), ProbeMarker) {
		t.Errorf("probe line left")
	}
}
