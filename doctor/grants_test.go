package doctor

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseGrantReadsMariaDBAndMySQLLines(t *testing.T) {
	cases := []struct {
		line      string
		ok        bool
		db, table string
		privs     []string
	}{
		{"GRANT USAGE ON *.* TO `dx`@`%`", true, "*", "*", []string{"USAGE"}},
		{"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `dx`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'",
			true, "*", "*", []string{"REPLICATION SLAVE", "BINLOG MONITOR"}},
		{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", true, "*", "*", []string{"ALL PRIVILEGES"}},
		{"grant all on `vt\\_1`.* to 'dx'@'%'", true, `vt\_1`, "*", []string{"ALL PRIVILEGES"}},
		{"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON `vtiger`.* TO 'dx'@'10.0.%'", true, "vtiger", "*",
			[]string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"}},
		{"GRANT SELECT (id, user_name), UPDATE (status) ON `vtiger`.`vtiger_users` TO `dx`@`%`", true, "vtiger", "vtiger_users",
			[]string{"SELECT", "UPDATE"}},
		{"GRANT APPLICATION_PASSWORD_ADMIN,BINLOG_ADMIN,REPLICATION_APPLIER ON *.* TO `root`@`localhost`", true, "*", "*",
			[]string{"APPLICATION_PASSWORD_ADMIN", "BINLOG_ADMIN", "REPLICATION_APPLIER"}},
		{"GRANT SELECT ON `we``ird db`.* TO `dx`@`%`", true, "we`ird db", "*", []string{"SELECT"}},
		{"GRANT SELECT ON vtiger.* TO dx@localhost", true, "vtiger", "*", []string{"SELECT"}},
		{"GRANT `dxrole` TO `dx`@`%`", false, "", "", nil},
		{"GRANT `r`@`%` TO `dx`@`%` WITH ADMIN OPTION", false, "", "", nil},
		{"GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION", false, "", "", nil},
		{"GRANT EXECUTE ON PROCEDURE `vtiger`.`p` TO `dx`@`%`", false, "", "", nil},
		{"SET DEFAULT ROLE `dxrole` FOR `dx`@`%`", false, "", "", nil},
		{"GRANT SELECT ON `db name with  ON  TO `.* TO `dx`@`%`", true, "db name with  ON  TO ", "*", []string{"SELECT"}},
	}
	for _, tc := range cases {
		g, ok := parseGrant(tc.line)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.line, ok)
			continue
		}
		if !ok {
			continue
		}
		var privs []string
		for p := range g.privs {
			privs = append(privs, p)
		}
		slices.Sort(privs)
		want := slices.Sorted(slices.Values(tc.privs))
		if g.db != tc.db || g.table != tc.table || !slices.Equal(privs, want) {
			t.Errorf("%s:\n got db=%q table=%q privs=%q\nwant db=%q table=%q privs=%q", tc.line, g.db, g.table, privs, tc.db, tc.table, want)
		}
	}
}

func TestPrivilegesCountGlobalAndDatabaseGrants(t *testing.T) {
	p := newPrivileges([]string{
		"GRANT REPLICATION SLAVE ON *.* TO `dx`@`%`",
		"GRANT SELECT, INSERT ON `vt\\_%`.* TO `dx`@`%`",
		"GRANT ALL PRIVILEGES ON `crm`.* TO `dx`@`%`",
		"GRANT UPDATE ON `other`.`t` TO `dx`@`%`",
	})
	if !p.hasGlobal("REPLICATION SLAVE") || p.hasGlobal("REPLICATION CLIENT") {
		t.Error("global privileges wrong")
	}
	for _, tc := range []struct {
		db, priv string
		want     bool
	}{
		{"vt_1", "SELECT", true},
		{"vtx1", "SELECT", false}, // \_ is a literal underscore
		{"vt_1", "UPDATE", false},
		{"crm", "CREATE", true},
		{"crm2", "CREATE", false},
		{"other", "UPDATE", false}, // table-level only
	} {
		if got := p.onDatabase(tc.db, tc.priv); got != tc.want {
			t.Errorf("onDatabase(%s, %s) = %v", tc.db, tc.priv, got)
		}
	}
	if !newPrivileges([]string{"GRANT ALL ON *.* TO x"}).onDatabase("any", "DELETE") {
		t.Error("ALL on *.* does not cover a database")
	}
}

func TestMatchDB(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"vtiger", "vtiger", true},
		{"vtiger", "vtiger2", false},
		{"vt%", "vtiger", true},
		{"%", "", true},
		{"v_iger", "vtiger", true},
		{`v\_iger`, "vtiger", false},
		{`v\_iger`, "v_iger", true},
		{"%crm%", "my_crm_db", true},
	} {
		if got := matchDB(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchDB(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestParseAccountAndQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"dx@localhost":       `'dx'@'localhost'`,
		"dx":                 `'dx'@'%'`,
		"'dx'@'10.0.%'":      `'dx'@'10.0.%'`,
		"`dx`@`%`":           `'dx'@'%'`,
		"o'neil@host":        `'o''neil'@'host'`,
		"'a@b'@'c'":          `'a@b'@'c'`,
		`back\slash@%`:       `'back\\slash'@'%'`,
		"user@host@example":  `'user@host'@'example'`,
		" dx @ localhost ":   `'dx'@'localhost'`,
		"'it''s'@'somehost'": `'it''s'@'somehost'`,
	} {
		if got := parseAccount(in).String(); got != want {
			t.Errorf("parseAccount(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteIdent("a`b"); got != "`a``b`" {
		t.Errorf("quoteIdent = %s", got)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][3]int{
		"10.11.19-MariaDB-0+deb12u1": {10, 11, 19},
		"8.0.36":                     {8, 0, 36},
		"8.4.0-log":                  {8, 4, 0},
		"5.7":                        {5, 7, 0},
		"11":                         {11, 0, 0},
		"junk":                       {0, 0, 0},
	} {
		a, b, c := parseVersion(in)
		if [3]int{a, b, c} != want {
			t.Errorf("parseVersion(%q) = %d.%d.%d", in, a, b, c)
		}
	}
	s := &server{major: 10, minor: 5, patch: 2}
	if !s.atLeast(10, 5, 1) || !s.atLeast(10, 5, 2) || s.atLeast(10, 5, 3) || s.atLeast(11, 0, 0) || !s.atLeast(8, 0, 22) {
		t.Error("atLeast wrong")
	}
}

func TestPrintCountsProblemsNotWarningsAndIndentsFixes(t *testing.T) {
	var buf bytes.Buffer
	n := Print(&buf, []Finding{
		{Check: "server", OK: true, Detail: "MariaDB 10.11.19"},
		{Check: "binlog_format", Problem: "binlog_format is STATEMENT", Fix: "SET GLOBAL binlog_format = 'ROW';\nand more"},
		{Check: "binlog_expire", Warning: true, Problem: "short", Fix: "SET GLOBAL x = 1;"},
	})
	if n != 1 {
		t.Errorf("problems = %d, want 1", n)
	}
	want := "" +
		"ok    server         MariaDB 10.11.19\n" +
		"FAIL  binlog_format  binlog_format is STATEMENT\n" +
		"                     fix: SET GLOBAL binlog_format = 'ROW';\n" +
		"                          and more\n" +
		"WARN  binlog_expire  short\n" +
		"                     fix: SET GLOBAL x = 1;\n" +
		"1 problem, 1 warning.\n"
	if buf.String() != want {
		t.Errorf("Print:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	if n := Print(&buf, []Finding{{Check: "server", OK: true}}); n != 0 || !strings.Contains(buf.String(), "All checks passed.") {
		t.Errorf("Print = %d %q", n, buf.String())
	}
}

func TestCheckGlobalFixesAtRunTimeAndInTheOptionFile(t *testing.T) {
	s := &server{mariadb: true, vars: map[string]string{"binlog_format": "MIXED"}}
	f := checkGlobal(s, "binlog_format", "ROW", "why")
	if f.OK || !strings.HasPrefix(f.Fix, "SET GLOBAL binlog_format = 'ROW';\n") || !strings.Contains(f.Fix, "[mysqld]\n  binlog_format = ROW") {
		t.Errorf("finding = %+v", f)
	}
}

func TestBinlogExpireWarnsUnderOneDay(t *testing.T) {
	for _, tc := range []struct {
		vars    map[string]string
		ok      bool
		fixHint string
	}{
		{map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "0"}, true, ""},
		{map[string]string{"binlog_expire_logs_seconds": "2592000", "expire_logs_days": "0"}, true, ""},
		{map[string]string{"binlog_expire_logs_seconds": "3600", "expire_logs_days": "0"}, false, "binlog_expire_logs_seconds = 604800"},
		{map[string]string{"expire_logs_days": "0.5"}, false, "expire_logs_days = 7"},
		{map[string]string{"expire_logs_days": "10"}, true, ""},
		{map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "0.250000"}, false, "binlog_expire_logs_seconds = 604800"},
	} {
		f, _ := checkBinlogExpire(t.Context(), nil, &server{mariadb: true, vars: tc.vars}, Options{})
		if f.OK != tc.ok || (!f.OK && (!f.Warning || !strings.Contains(f.Fix, tc.fixHint))) {
			t.Errorf("%v: %+v", tc.vars, f)
		}
	}
}
