package vtigerinstall

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

//go:embed testdata/vtiger_registration.sql
var registrationSQL string

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func testLog(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// openDSN opens dsn with multiStatements on (for loading SQL files).
func openDSN(t *testing.T, dsn string) (*sql.DB, string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db, cfg.DBName
}

// vtigerDB is a fresh database with the sandbox's minimal Vtiger schema,
// the registration tables of a real Vtiger 8 (testdata), and, when
// migrate is set, the tracker tables.
func vtigerDB(t *testing.T, migrate bool) (*sql.DB, string) {
	t.Helper()
	ctx := testCtx(t)
	db, name := openDSN(t, sandboxtest.NewVtigerDatabase(t))
	if _, err := db.ExecContext(ctx, registrationSQL); err != nil {
		t.Fatalf("load testdata/vtiger_registration.sql: %v", err)
	}
	if migrate {
		if _, err := tracker.Migrate(ctx, db); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return db, name
}

// fakeVtiger builds a Vtiger 8 root as far as the installer looks at it:
// the files that mark a Vtiger installation, a few stock module files, a
// config_override.php, and tabdata.php / parent_tabdata.php as Vtiger
// would have written them for db.
func fakeVtiger(t *testing.T, db *sql.DB, dbName string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"index.php":         "<?php\n// Vtiger front controller (stand-in)\n",
		"config.php":        "<?php\ninclude('config.inc.php');\n",
		"vtigerversion.php": "<?php\n$patch_version = '20231026';\n$modified_database = '';\n$vtiger_current_version = '8.0.0';\n$_SESSION['vtiger_version'] = $vtiger_current_version;\n\n?>\n",
		"config.inc.php": "<?php\n// $dbconfig['db_name'] = 'commented_out';\n$dbconfig['db_server'] = '127.0.0.1';\n$dbconfig['db_name'] = '" + dbName + "';\n" +
			"$dbconfig['db_type'] = 'mysqli';\n$site_URL = 'http://crm.example.com/';\n",
		"config_override.php":                          "<?php\n/* site overrides */\n$max_mailboxes = 3;\n",
		"manifest.xml":                                 "<?xml version='1.0'?>\n<module><name>Vtiger root manifest, not ours</name></module>\n",
		"modules/Vtiger/Vtiger.php":                    "<?php\n",
		"modules/Settings/Vtiger/views/Index.php":      "<?php\n",
		"layouts/v7/modules/Vtiger/Header.tpl":         "{* header *}\n",
		"layouts/v7/modules/Settings/Vtiger/Index.tpl": "{* settings *}\n",
		"languages/en_us/Vtiger.php":                   "<?php\n$languageStrings = array();\n",
		"languages/en_us/Settings/Vtiger.php":          "<?php\n$languageStrings = array();\n",
	}
	for p, content := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), content, 0o644)
	}
	writeCaches(t, db, root)
	return root
}

// writeCaches writes tabdata.php and parent_tabdata.php for db's tables.
func writeCaches(t *testing.T, db *sql.DB, root string) {
	t.Helper()
	ctx := testCtx(t)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	tab, err := renderTabdata(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := renderParentTabdata(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "tabdata.php"), string(tab), 0o644)
	writeFile(t, filepath.Join(root, "parent_tabdata.php"), string(parent), 0o644)
}

func writeFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// extFiles is a small extension tree in the layout of deploy/vtiger.
func extFiles(version string) fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	return fstest.MapFS{
		"manifest.xml": f(`<?xml version="1.0" encoding="UTF-8"?>
<module>
	<type>extension</type>
	<name>DataExportTracker</name>
	<label>Data Export Tracker</label>
	<parent>Settings</parent>
	<version>` + version + `</version>
	<dependencies>
		<vtiger_version>7.0.0</vtiger_version>
		<vtiger_max_version>8.*</vtiger_max_version>
	</dependencies>
</module>
`),
		"modules/DataExportTracker/DataExportTracker.php":                    f("<?php\nclass DataExportTracker {}\n"),
		"modules/DataExportTracker/probe/bootstrap.php":                      f("<?php\n// probe " + version + "\n"),
		"modules/DataExportTracker/probe/.htaccess":                          f("Require all denied\n"),
		"modules/DataExportTracker/lib/Token.php":                            f("<?php\n// token\n"),
		"modules/Settings/DataExportTracker/views/Index.php":                 f("<?php\nclass Settings_DataExportTracker_Index_View {}\n"),
		"modules/Settings/DataExportTracker/Helper.php":                      f("<?php\n// a file outside the standard Settings folders\n"),
		"layouts/v7/modules/DataExportTracker/resources/tracker.js":          f("(function(){ /* tracker " + version + " */ })();\n"),
		"layouts/v7/modules/Settings/DataExportTracker/Index.tpl":            f("{* settings page *}\n"),
		"layouts/v7/modules/Settings/DataExportTracker/resources/Index.js":   f("// settings page js\n"),
		"languages/en_us/DataExportTracker.php":                              f("<?php\n$languageStrings = array('DataExportTracker' => 'Data Export Tracker');\n"),
		"languages/en_us/Settings/DataExportTracker.php":                     f("<?php\n$languageStrings = array();\n"),
		"languages/ja_jp/DataExportTracker.php":                              f("<?php\n$languageStrings = array('DataExportTracker' => 'データエクスポート追跡');\n"),
		"languages/ja_jp/Settings/DataExportTracker.php":                     f("<?php\n$languageStrings = array();\n"),
		"modules/DataExportTracker/" + filepath.Base(RecordPath):             f("{}\n"), // never installed
		"tests/ProbeTest.php":                                                f("<?php\n// not part of the extension\n"),
		"modules/DataExportTracker/lib/.Token.php.swp":                       f("editor swap file"),
		"layouts/v7/modules/DataExportTracker/.DS_Store":                     f("finder"),
		"modules/DataExportTracker/resources/readme.txt":                     f("extension notes\n"),
		"layouts/v7/modules/DataExportTracker/resources/tracker.min.js.map":  f("{}\n"),
		"layouts/v7/modules/Settings/DataExportTracker/ScheduledReports.tpl": f("{* schedules *}\n"),
	}
}

// treeHash describes every file and folder under root (type, mode, content
// hash), for comparing a tree before and after.
func treeHash(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out[rel] = fmt.Sprintf("dir %v", fi.Mode())
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			out[rel] = fmt.Sprintf("file %v %s", fi.Mode(), hex.EncodeToString(h[:]))
		default:
			out[rel] = fmt.Sprintf("other %v", fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffMaps(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, "- "+k+" "+v)
		} else if v != w {
			d = append(d, "~ "+k+" "+v+" -> "+w)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "+ "+k+" "+v)
		}
	}
	sort.Strings(d)
	return d
}

// The tables the installer may write, and the id sequences among them.
var (
	snapTables = []string{"vtiger_tab", "vtiger_tab_info", "vtiger_profile2tab", "vtiger_profile2standardpermissions",
		"vtiger_parenttabrel", "vtiger_app2tab", "vtiger_settings_blocks", "vtiger_settings_field", "vtiger_links",
		"vtiger_settings_blocks_seq", "vtiger_settings_field_seq", "vtiger_links_seq"}
	seqTables = map[string]bool{"vtiger_settings_blocks_seq": true, "vtiger_settings_field_seq": true, "vtiger_links_seq": true}
)

// dbSnapshot is every row of the tables the installer may write, as text.
func dbSnapshot(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	ctx := testCtx(t)
	out := map[string]string{}
	for _, table := range snapTables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if v.Valid {
					parts[i] = "'" + v.String + "'"
				} else {
					parts[i] = "NULL"
				}
			}
			lines = append(lines, strings.Join(parts, ","))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(lines)
		out[table] = strings.Join(lines, "\n")
	}
	return out
}

// withoutSeqs drops the id sequence tables from a snapshot.
func withoutSeqs(s map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range s {
		if !seqTables[k] {
			out[k] = v
		}
	}
	return out
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRowContext(testCtx(t), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

func queryString(t *testing.T, db *sql.DB, q string, args ...any) sql.NullString {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRowContext(testCtx(t), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}
