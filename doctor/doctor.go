// Package doctor checks that a MariaDB or MySQL server is ready for
// dxtracker (binary log on, row format with full images, privileges, a free
// replica server id, the Vtiger tables) and says how to fix what is not.
package doctor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Finding is the outcome of one check. A finding that is not OK is a
// problem, unless Warning is set: then it is advice that does not stop the
// daemon.
type Finding struct {
	Check   string // stable name: "log_bin", "binlog_format", ...
	OK      bool
	Problem string // what is wrong; "" when OK
	Fix     string // exactly what to do, SQL or option-file lines; may span lines
	Warning bool   // not OK, but not a problem either
	Detail  string // what was found when OK, e.g. "MariaDB 10.11.19"
}

// Options says what to check against.
type Options struct {
	ServerID    uint32 // the server_id dxtracker will use; 0 = not configured (a problem)
	Schema      string // the Vtiger database; "" = the connection's current database
	ReplicaUser string // account whose replication grants to check, user@host; "" = the connected user
	// Hostname is the name dxtracker's binlog connection reports to the
	// server (shown by SHOW REPLICA HOSTS); "" = os.Hostname(). A replica
	// with ServerID from this host is taken for a running dxtracker.
	Hostname string
	// SchemaVersion is the tracker schema version this binary creates
	// (tracker.LatestSchemaVersion); 0 only checks that the tracker tables
	// exist.
	SchemaVersion int
}

// Checks, in the order Run reports them.
const (
	CheckServer            = "server"
	CheckLogBin            = "log_bin"
	CheckBinlogFormat      = "binlog_format"
	CheckBinlogRowImage    = "binlog_row_image"
	CheckServerID          = "server_id"
	CheckReplicationGrants = "replication_grants"
	CheckVtigerTables      = "vtiger_tables"
	CheckWriteGrants       = "write_grants"
	CheckTrackerSchema     = "tracker_schema"
	CheckBinlogExpire      = "binlog_expire"
	CheckMaxAllowedPacket  = "max_allowed_packet"
)

// vtigerTables are the Vtiger tables dxtracker reads.
var vtigerTables = []string{"vtiger_users", "vtiger_tab", "vtiger_loginhistory", "vtiger_report", "vtiger_reportmodules", "vtiger_schedulereports"}

// variables Run reads with SHOW GLOBAL VARIABLES; absent ones are missing
// from the server (old versions).
var variables = []string{"log_bin", "binlog_format", "binlog_row_image", "server_id",
	"binlog_expire_logs_seconds", "expire_logs_days", "max_allowed_packet"}

// server is what the checks know about the server.
type server struct {
	version  string // VERSION()
	mariadb  bool
	major    int
	minor    int
	patch    int
	user     account // CURRENT_USER()
	schema   string
	vars     map[string]string
	grants   []string // SHOW GRANTS of the connected user
	grantErr error
}

// Run checks the server behind db. It returns an error only when it cannot
// query the server at all (or ctx ends); everything else is a Finding.
func Run(ctx context.Context, db *sql.DB, opts Options) ([]Finding, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("doctor: cannot connect to the database: %w", err)
	}
	defer conn.Close()

	s := &server{vars: map[string]string{}}
	var current string
	var schema sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT VERSION(), CURRENT_USER(), DATABASE()`).Scan(&s.version, &current, &schema); err != nil {
		return nil, fmt.Errorf("doctor: cannot query the database: %w", err)
	}
	s.user = parseAccount(current)
	s.mariadb = strings.Contains(strings.ToLower(s.version), "mariadb")
	s.major, s.minor, s.patch = parseVersion(s.version)
	s.schema = opts.Schema
	if s.schema == "" {
		s.schema = schema.String
	}
	if err := s.readVariables(ctx, conn); err != nil {
		return nil, fmt.Errorf("doctor: cannot read server variables: %w", err)
	}
	s.grants, s.grantErr = showGrants(ctx, conn, "")
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}

	checks := []func(context.Context, *sql.Conn, *server, Options) (Finding, error){
		checkServer, checkLogBin, checkBinlogFormat, checkBinlogRowImage, checkServerID,
		checkReplicationGrants, checkVtigerTables, checkWriteGrants, checkTrackerSchema,
		checkBinlogExpire, checkMaxAllowedPacket,
	}
	out := make([]Finding, 0, len(checks))
	for _, check := range checks {
		f, err := check(ctx, conn, s, opts)
		if err != nil {
			if ctx.Err() != nil {
				return out, fmt.Errorf("doctor: %w", ctx.Err())
			}
			f.OK, f.Warning = false, false
			f.Problem = "could not check: " + err.Error()
			if f.Fix == "" {
				f.Fix = "Run dxtracker doctor with an account that may run that query (e.g. root), or look at the server's error log."
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *server) readVariables(ctx context.Context, conn *sql.Conn) error {
	q := `SHOW GLOBAL VARIABLES WHERE Variable_name IN ('` + strings.Join(variables, `','`) + `')`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return err
		}
		s.vars[strings.ToLower(name)] = value
	}
	return rows.Err()
}

// showGrants runs SHOW GRANTS for the current user (acct "") or for acct.
func showGrants(ctx context.Context, conn *sql.Conn, acct string) ([]string, error) {
	q := "SHOW GRANTS"
	if acct != "" {
		q += " FOR " + acct
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, rows.Err()
}

// parseVersion reads the leading major.minor.patch of VERSION().
func parseVersion(v string) (major, minor, patch int) {
	nums := [3]int{}
	for i, part := range strings.SplitN(v, ".", 3) {
		end := 0
		for end < len(part) && part[end] >= '0' && part[end] <= '9' {
			end++
		}
		nums[i], _ = strconv.Atoi(part[:end])
		if end < len(part) {
			break
		}
	}
	return nums[0], nums[1], nums[2]
}

// atLeast compares the server version with major.minor.patch.
func (s *server) atLeast(major, minor, patch int) bool {
	if s.major != major {
		return s.major > major
	}
	if s.minor != minor {
		return s.minor > minor
	}
	return s.patch >= patch
}

func (s *server) flavor() string {
	if s.mariadb {
		return "MariaDB"
	}
	return "MySQL"
}

// restart is the command that restarts the server on a systemd host.
func (s *server) restart() string {
	if s.mariadb {
		return "sudo systemctl restart mariadb"
	}
	return "sudo systemctl restart mysql   (mysqld on Red Hat)"
}

// optionFile names the usual option file to edit.
func (s *server) optionFile() string {
	if s.mariadb {
		return "/etc/mysql/mariadb.conf.d/50-server.cnf on Debian/Ubuntu, /etc/my.cnf.d/server.cnf on Red Hat"
	}
	return "/etc/mysql/mysql.conf.d/mysqld.cnf on Debian/Ubuntu, /etc/my.cnf on Red Hat"
}

// cnfLines renders lines for the [mysqld] section of the option file.
func (s *server) cnfLines(lines ...string) string {
	return "in the [mysqld] section of the server's option file (" + s.optionFile() + "):\n" +
		"  [mysqld]\n  " + strings.Join(lines, "\n  ")
}

// isAccessDenied reports a MySQL privilege error.
func isAccessDenied(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1044, 1045, 1142, 1143, 1227, 1370: // ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_PROCACCESS_DENIED_ERROR
		return true
	}
	return false
}

// Print writes the findings for a terminal, each problem with its fix, and
// returns the number of problems (warnings are not counted).
func Print(w io.Writer, fs []Finding) (problems int) {
	width := 0
	for _, f := range fs {
		width = max(width, len(f.Check))
	}
	warnings := 0
	for _, f := range fs {
		status, text := "ok  ", f.Detail
		switch {
		case f.OK:
		case f.Warning:
			status, text = "WARN", f.Problem
			warnings++
		default:
			status, text = "FAIL", f.Problem
			problems++
		}
		fmt.Fprintf(w, "%s  %-*s  %s\n", status, width, f.Check, text)
		if !f.OK && f.Fix != "" {
			indent := strings.Repeat(" ", 4+2+width+2)
			for i, line := range strings.Split(f.Fix, "\n") {
				prefix := indent + "     "
				if i == 0 {
					prefix = indent + "fix: "
				}
				fmt.Fprintf(w, "%s%s\n", prefix, line)
			}
		}
	}
	switch {
	case problems == 0 && warnings == 0:
		fmt.Fprintln(w, "All checks passed.")
	default:
		fmt.Fprintf(w, "%d %s, %d %s.\n", problems, plural(problems, "problem"), warnings, plural(warnings, "warning"))
	}
	return problems
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
