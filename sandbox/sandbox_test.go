package sandbox_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestServerHasRowBinlogInUTC(t *testing.T) {
	db := open(t, sandboxtest.Server(t).DSN(""))
	want := map[string]string{
		"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL",
		"server_id": "1", "time_zone": "+00:00", "character_set_server": "utf8mb4",
	}
	for name, v := range want {
		var n, got string
		if err := db.QueryRowContext(ctx(t), "SHOW VARIABLES LIKE ?", name).Scan(&n, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

func TestCreateDatabaseRejectsUnsafeName(t *testing.T) {
	if err := sandbox.CreateDatabase(ctx(t), sandboxtest.Server(t), "x`; DROP DATABASE mysql"); err == nil {
		t.Fatal("want an error for a name with backquote")
	}
}

func TestVtigerMinimalHasSeedUsersReportsAndContacts(t *testing.T) {
	db := open(t, sandboxtest.NewVtigerDatabase(t))
	c := ctx(t)
	ints := map[string]int{
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()":                                      22,
		"SELECT COUNT(*) FROM vtiger_tab":                                                                                     45,
		"SELECT tabid FROM vtiger_tab WHERE name = 'Contacts'":                                                                4,
		"SELECT COUNT(*) FROM vtiger_users":                                                                                   5,
		"SELECT COUNT(*) FROM vtiger_users WHERE status = 'Active' AND deleted = 0":                                           3,
		"SELECT deleted FROM vtiger_users WHERE id = 8":                                                                       1,
		"SELECT COUNT(*) FROM vtiger_report":                                                                                  26,
		"SELECT COUNT(*) FROM vtiger_crmentity c JOIN vtiger_contactdetails d ON d.contactid = c.crmid WHERE c.smownerid = 1": 35,
		"SELECT COUNT(*) FROM vtiger_crmentity WHERE setype = 'Contacts' AND smownerid = 5":                                   15,
		"SELECT COUNT(*) FROM vtiger_loginhistory WHERE user_name = 'admin' AND user_ip = '127.0.0.1'":                        2,
		"SELECT COUNT(*) FROM vtiger_group2grouprel":                                                                          2,
	}
	for q, want := range ints {
		var got int
		if err := db.QueryRowContext(c, q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	strs := map[string]string{
		"SELECT accesskey FROM vtiger_users WHERE user_name = 'admin' AND is_admin = 'on'":                                                                            "g9drHD5dUitbk8Iz",
		"SELECT accesskey FROM vtiger_users WHERE user_name = 'jsmith' AND is_admin = 'off'":                                                                          "FD8KFVdaxDnZZwQs",
		"SELECT accesskey FROM vtiger_users WHERE user_name = 'mjones' AND is_admin = 'on'":                                                                           "VsArECZSwU7vHHh",
		"SELECT status FROM vtiger_users WHERE user_name = 'old'":                                                                                                     "Inactive",
		"SELECT r.rolename FROM vtiger_user2role u JOIN vtiger_role r USING (roleid) WHERE u.userid = 5":                                                              "Sales Person",
		"SELECT parentrole FROM vtiger_role WHERE roleid = 'H5'":                                                                                                      "H1::H2::H3::H4::H5",
		"SELECT reportname FROM vtiger_report r JOIN vtiger_reportmodules m ON m.reportmodulesid = r.reportid WHERE r.reportid = 26 AND m.primarymodule = 'Contacts'": "Lab Contacts Export Report",
		"SELECT recipients FROM vtiger_schedulereports WHERE reportid = 26":                                                                                           `["USER::1","USER::5"]`,
		"SELECT specificemails FROM vtiger_schedulereports WHERE reportid = 26":                                                                                       `"reports@example.com"`,
		"SELECT fileformat FROM vtiger_schedulereports WHERE reportid = 26":                                                                                           "CSV",
		"SELECT user_ip FROM vtiger_loginhistory WHERE user_name = 'jsmith'":                                                                                          "10.0.0.5",
		"SELECT website FROM vtiger_organizationdetails":                                                                                                              "example.com",
		"SELECT TABLE_COLLATION FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'vtiger_users'":                                       "utf8mb3_general_ci",
	}
	for q, want := range strs {
		var got string
		if err := db.QueryRowContext(c, q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

func TestKilledServerRestartsWithCommittedData(t *testing.T) {
	s := sandboxtest.OwnServer(t, sandbox.Options{ServerID: 7})
	c := ctx(t)
	if err := sandbox.CreateDatabase(c, s, "crash"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(c, "crash", "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO t VALUES (1),(2),(3)"); err != nil {
		t.Fatal(err)
	}
	port := s.Port()
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(c, "crash", "SELECT 1"); err == nil {
		t.Fatal("server still answers after Kill")
	}
	if err := s.Restart(c); err != nil {
		t.Fatal(err)
	}
	if s.Port() != port {
		t.Errorf("port changed from %d to %d", port, s.Port())
	}
	var n int
	if err := open(t, s.DSN("crash")).QueryRowContext(c, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("rows after crash = %d, want 3", n)
	}
	if err := s.Stop(c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir(), "binlog.index")); err != nil {
		t.Errorf("datadir not kept after Stop: %v", err)
	}
}

func TestStartFailureReportsErrorLog(t *testing.T) {
	_, err := sandbox.Start(ctx(t), sandbox.Options{ExtraArgs: []string{"--no-such-option-xyz"}})
	if err == nil {
		t.Fatal("want an error for an unknown mariadbd option")
	}
	if !strings.Contains(err.Error(), "no-such-option-xyz") {
		t.Errorf("error does not show the server log:\n%v", err)
	}
}

func TestRealVtigerFixtureLoads(t *testing.T) {
	dump := filepath.Join(sandboxtest.FixturesDir(t), "vtiger8-fixture.sql.gz")
	if _, err := os.Stat(dump); err != nil {
		t.Skipf("fixture absent: %v", err)
	}
	dsn := sandboxtest.NewDatabase(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.LoadSQLGzipFile(ctx(t), sandboxtest.Server(t), cfg.DBName, dump); err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	var tables, jsmith int
	if err := db.QueryRowContext(ctx(t), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 526 {
		t.Errorf("tables = %d, want 526", tables)
	}
	if err := db.QueryRowContext(ctx(t), "SELECT COUNT(*) FROM vtiger_users WHERE user_name = 'jsmith' AND id = 5").Scan(&jsmith); err != nil {
		t.Fatal(err)
	}
	if jsmith != 1 {
		t.Errorf("jsmith rows = %d, want 1", jsmith)
	}
}
