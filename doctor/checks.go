package doctor

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

const (
	minPacket      = 4 << 20  // bytes; content chunks are 1 MiB plus the row around them
	suggestPacket  = 64 << 20 // what the fix sets
	minExpire      = 24 * time.Hour
	suggestExpireS = 7 * 24 * 3600
)

func checkServer(_ context.Context, _ *sql.Conn, s *server, _ Options) (Finding, error) {
	f := Finding{Check: CheckServer, OK: true,
		Detail: fmt.Sprintf("%s %d.%d.%d (%s), connected as %s", s.flavor(), s.major, s.minor, s.patch, s.version, s.user)}
	// Row images with full metadata and the replication protocol dxtracker
	// speaks need MariaDB 10.3 / MySQL 5.7 or later.
	if (s.mariadb && !s.atLeast(10, 3, 0)) || (!s.mariadb && !s.atLeast(5, 7, 0)) {
		f.OK = false
		f.Problem = fmt.Sprintf("%s %s is too old: dxtracker needs MariaDB 10.3 or MySQL 5.7 or later", s.flavor(), s.version)
		f.Fix = "Upgrade the database server (MariaDB 10.6+ or MySQL 8.0+ recommended)."
	}
	return f, nil
}

func checkLogBin(_ context.Context, _ *sql.Conn, s *server, opts Options) (Finding, error) {
	f := Finding{Check: CheckLogBin}
	if on := strings.EqualFold(s.vars["log_bin"], "ON") || s.vars["log_bin"] == "1"; on {
		f.OK, f.Detail = true, "binary log is on"
		return f, nil
	}
	// A server_id for the database server that does not clash with dxtracker's.
	id := uint64(1)
	if cur, err := strconv.ParseUint(s.vars["server_id"], 10, 32); err == nil && cur != 0 && cur != uint64(opts.ServerID) {
		id = cur
	} else if opts.ServerID == 1 {
		id = 2
	}
	f.Problem = "the binary log is off (log_bin = OFF): dxtracker reads every change from it"
	f.Fix = "Add " + s.cnfLines("log_bin = mysql-bin", "server_id = "+strconv.FormatUint(id, 10)) +
		"\nthen restart the server: " + s.restart()
	return f, nil
}

func checkBinlogFormat(_ context.Context, _ *sql.Conn, s *server, _ Options) (Finding, error) {
	return checkGlobal(s, CheckBinlogFormat, "ROW",
		"dxtracker needs the changed rows themselves, not the statements"), nil
}

func checkBinlogRowImage(_ context.Context, _ *sql.Conn, s *server, _ Options) (Finding, error) {
	return checkGlobal(s, CheckBinlogRowImage, "FULL",
		"dxtracker needs every column of a changed row, before and after"), nil
}

// checkGlobal checks a dynamic global variable that must have the value
// want, fixed at run time and in the option file.
func checkGlobal(s *server, name, want, why string) Finding {
	f := Finding{Check: name}
	got, ok := s.vars[name]
	if strings.EqualFold(got, want) {
		f.OK, f.Detail = true, name+" = "+want
		return f
	}
	if !ok {
		f.Problem = fmt.Sprintf("the server has no %s variable (too old); %s", name, why)
		f.Fix = "Upgrade the database server (MariaDB 10.6+ or MySQL 8.0+ recommended)."
		return f
	}
	f.Problem = fmt.Sprintf("%s is %s, must be %s: %s", name, got, want, why)
	f.Fix = fmt.Sprintf("SET GLOBAL %s = '%s';\nand, so that it survives a restart, add %s\n"+
		"Connections already open keep the old value until they reconnect: restart the web server running Vtiger (PHP-FPM/Apache) too.",
		name, want, s.cnfLines(name+" = "+want))
	return f
}

func checkServerID(ctx context.Context, conn *sql.Conn, s *server, opts Options) (Finding, error) {
	f := Finding{Check: CheckServerID}
	own, _ := strconv.ParseUint(s.vars["server_id"], 10, 32)
	if opts.ServerID == 0 {
		f.Problem = "dxtracker has no server_id configured: the binlog connection needs a replica id of its own"
		f.Fix = fmt.Sprintf("Set server_id = %d in /etc/dxtracker/dxtracker.toml (or DXT_SERVER_ID), a number no server or replica uses.",
			freeID(own, nil))
		return f, nil
	}
	pick := func(used []uint32) string {
		id := freeID(own, used)
		return fmt.Sprintf("Pick another value: server_id = %d in /etc/dxtracker/dxtracker.toml (or DXT_SERVER_ID=%d), then restart dxtracker.", id, id)
	}
	if uint64(opts.ServerID) == own {
		f.Problem = fmt.Sprintf("server_id %d is the database server's own @@server_id", opts.ServerID)
		f.Fix = pick(nil)
		return f, nil
	}
	hosts, err := replicaHosts(ctx, conn, s)
	if err != nil {
		if !isAccessDenied(err) {
			return f, err
		}
		f.Warning = true
		f.Problem = fmt.Sprintf("cannot list the replicas to see whether one uses server_id %d: %v", opts.ServerID, err)
		grant := "REPLICATION SLAVE"
		if s.mariadb && s.atLeast(10, 5, 2) {
			grant = "REPLICATION MASTER ADMIN"
		}
		f.Fix = fmt.Sprintf("Run SELECT @@server_id; on every replica and make sure none is %d, or let this account list them: GRANT %s ON *.* TO %s;",
			opts.ServerID, grant, s.user)
		return f, nil
	}
	used := make([]uint32, 0, len(hosts))
	for _, h := range hosts {
		used = append(used, h.id)
	}
	for _, h := range hosts {
		if h.id != opts.ServerID {
			continue
		}
		if opts.Hostname != "" && strings.EqualFold(h.host, opts.Hostname) {
			f.OK = true
			f.Detail = fmt.Sprintf("server_id %d is in use by a replica on this host (%s): a running dxtracker", opts.ServerID, h.host)
			return f, nil
		}
		f.Problem = fmt.Sprintf("server_id %d is already used by the replica on host %s (port %d); two replicas with one id disconnect each other",
			opts.ServerID, h.host, h.port)
		f.Fix = pick(used)
		return f, nil
	}
	f.OK = true
	f.Detail = fmt.Sprintf("server_id %d is free (the server is %d, %d %s connected)", opts.ServerID, own, len(hosts), plural(len(hosts), "replica"))
	return f, nil
}

// freeID suggests a server id that is neither the server's nor a replica's.
func freeID(own uint64, used []uint32) uint32 {
	id := uint32(4242)
	for uint64(id) == own || slices.Contains(used, id) {
		id++
	}
	return id
}

type replicaHost struct {
	id   uint32
	host string
	port int
}

// replicaHosts lists the registered replicas (SHOW REPLICA HOSTS).
func replicaHosts(ctx context.Context, conn *sql.Conn, s *server) ([]replicaHost, error) {
	q := "SHOW SLAVE HOSTS"
	if (s.mariadb && s.atLeast(10, 5, 1)) || (!s.mariadb && s.atLeast(8, 0, 22)) {
		q = "SHOW REPLICA HOSTS"
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []replicaHost
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		var h replicaHost
		for i, c := range cols {
			switch strings.ToLower(c) {
			case "server_id":
				n, _ := strconv.ParseUint(vals[i].String, 10, 32)
				h.id = uint32(n)
			case "host":
				h.host = vals[i].String
			case "port":
				h.port, _ = strconv.Atoi(vals[i].String)
			}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func checkReplicationGrants(ctx context.Context, conn *sql.Conn, s *server, opts Options) (Finding, error) {
	f := Finding{Check: CheckReplicationGrants}
	acct, lines, err := s.user, s.grants, s.grantErr
	if opts.ReplicaUser != "" {
		acct = parseAccount(opts.ReplicaUser)
		lines, err = showGrants(ctx, conn, acct.String())
	}
	if err != nil {
		if ctx.Err() != nil {
			return f, err
		}
		f.Problem = fmt.Sprintf("cannot read the grants of %s: %v", acct, err)
		f.Fix = "Check the account name (SELECT user, host FROM mysql.user;), or run dxtracker doctor as root."
		return f, nil
	}
	p := newPrivileges(lines)
	// Reading the binlog (COM_BINLOG_DUMP) needs REPLICATION SLAVE, which
	// MariaDB 10.5+ also calls REPLICATION REPLICA and MySQL 8.0.22+ shows
	// as REPLICATION SLAVE still; SUPER does not replace it. SHOW BINARY
	// LOGS / MASTER STATUS need REPLICATION CLIENT, called BINLOG MONITOR
	// in MariaDB 10.5+, where SUPER implied it until 11.0.
	var missing []string
	if !p.hasGlobal("REPLICATION SLAVE", "REPLICATION REPLICA") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	client := []string{"REPLICATION CLIENT", "BINLOG MONITOR"}
	if !s.mariadb || !s.atLeast(11, 0, 0) {
		client = append(client, "SUPER")
	}
	if !p.hasGlobal(client...) {
		missing = append(missing, "REPLICATION CLIENT")
	}
	if len(missing) == 0 {
		f.OK, f.Detail = true, acct.String()+" may read the binary log"
		return f, nil
	}
	f.Problem = fmt.Sprintf("%s lacks %s on *.*, needed to read the binary log", acct, strings.Join(missing, " and "))
	if s.mariadb && s.atLeast(10, 5, 2) {
		f.Problem += " (MariaDB also names them REPLICATION REPLICA and BINLOG MONITOR)"
	}
	f.Fix = fmt.Sprintf("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO %s;", acct)
	return f, nil
}

func checkVtigerTables(ctx context.Context, conn *sql.Conn, s *server, _ Options) (Finding, error) {
	f := Finding{Check: CheckVtigerTables}
	if s.schema == "" {
		f.Problem = "no database selected: mysql_dsn must name the Vtiger database"
		f.Fix = "Put the Vtiger database after the slash of mysql_dsn: user:pass@tcp(host:3306)/vtiger"
		return f, nil
	}
	present, err := tablesIn(ctx, conn, s.schema, vtigerTables)
	if err != nil {
		return f, err
	}
	var missing []string
	for _, t := range vtigerTables {
		if !present[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		f.OK, f.Detail = true, fmt.Sprintf("database %s has the Vtiger tables", quoteIdent(s.schema))
		return f, nil
	}
	if len(missing) == len(vtigerTables) {
		f.Problem = fmt.Sprintf("database %s has none of the Vtiger tables (%s): it is not the Vtiger database, or %s may not see it",
			quoteIdent(s.schema), strings.Join(vtigerTables, ", "), s.user)
	} else {
		f.Problem = fmt.Sprintf("database %s lacks the Vtiger tables %s", quoteIdent(s.schema), strings.Join(missing, ", "))
	}
	f.Fix = fmt.Sprintf("Point mysql_dsn at the Vtiger database, user:pass@tcp(host:3306)/<database>; to find it, as root:\n"+
		"  SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = 'vtiger_users';\n"+
		"If the tables are there but hidden from this account:\n"+
		"  GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON %s.* TO %s;\n"+
		"If some tables are missing from a real Vtiger database, it is older than Vtiger 7 or damaged: restore it from a backup.",
		quoteIdent(s.schema), s.user)
	return f, nil
}

// tablesIn returns which of names exist in schema (as far as the user may see).
func tablesIn(ctx context.Context, conn *sql.Conn, schema string, names []string) (map[string]bool, error) {
	q := `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?` +
		strings.Repeat(",?", len(names)-1) + `)`
	args := []any{schema}
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("information_schema.TABLES: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// writePrivileges are what the daemon and `dxtracker migrate` need on the
// Vtiger database; ALTER and INDEX are granted by the fix for later upgrades.
var writePrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE"}

func checkWriteGrants(ctx context.Context, conn *sql.Conn, s *server, _ Options) (Finding, error) {
	f := Finding{Check: CheckWriteGrants}
	if s.schema == "" {
		f.Problem = "no database selected, so where the dxt_ tables go is unknown"
		f.Fix = "Put the Vtiger database after the slash of mysql_dsn: user:pass@tcp(host:3306)/vtiger"
		return f, nil
	}
	if s.grantErr != nil {
		return f, fmt.Errorf("SHOW GRANTS: %w", s.grantErr)
	}
	p := newPrivileges(s.grants)
	var missing []string
	perTable := false
	for _, priv := range writePrivileges {
		if p.onDatabase(s.schema, priv) {
			continue
		}
		// Least privilege (deploy/mysql/grants.sql): the right on each
		// tracker table rather than on the whole Vtiger database.
		all := true
		for _, t := range tracker.Tables {
			all = all && p.onTable(s.schema, t, priv)
		}
		if all {
			perTable = true
			continue
		}
		missing = append(missing, priv)
	}
	if len(missing) == 0 {
		how := "on the database"
		if perTable {
			how = "table by table (least privilege)"
		}
		f.OK, f.Detail = true, fmt.Sprintf("%s may create and write the dxt_ tables in %s, %s", s.user, quoteIdent(s.schema), how)
		return f, nil
	}
	f.Problem = fmt.Sprintf("%s lacks %s on %s.* (or, least privilege, ALL on each dxt_ table as deploy/mysql/grants.sql grants it), needed for the dxt_ tracker tables",
		s.user, strings.Join(missing, ", "), quoteIdent(s.schema))
	f.Fix = fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON %s.* TO %s;", quoteIdent(s.schema), s.user)
	return f, nil
}

func checkTrackerSchema(ctx context.Context, conn *sql.Conn, s *server, opts Options) (Finding, error) {
	f := Finding{Check: CheckTrackerSchema}
	if s.schema == "" {
		f.Problem = "no database selected, so the tracker tables cannot be looked for"
		f.Fix = "Put the Vtiger database after the slash of mysql_dsn: user:pass@tcp(host:3306)/vtiger"
		return f, nil
	}
	present, err := tablesIn(ctx, conn, s.schema, []string{"dxt_schema_version"})
	if err != nil {
		return f, err
	}
	if !present["dxt_schema_version"] {
		f.Problem = fmt.Sprintf("the dxt_ tracker tables are not created in %s yet", quoteIdent(s.schema))
		f.Fix = "Run: dxtracker migrate   (dxtracker run also migrates when it starts)"
		return f, nil
	}
	var version sql.NullInt64
	q := "SELECT MAX(version) FROM " + quoteIdent(s.schema) + ".dxt_schema_version"
	if err := conn.QueryRowContext(ctx, q).Scan(&version); err != nil {
		return f, fmt.Errorf("%s: %w", q, err)
	}
	got := int(version.Int64)
	switch {
	case !version.Valid:
		f.Problem = "dxt_schema_version is empty: a migration was interrupted"
		f.Fix = "Run: dxtracker migrate"
	case opts.SchemaVersion > 0 && got < opts.SchemaVersion:
		f.Problem = fmt.Sprintf("the tracker tables are at schema version %d, this dxtracker needs %d", got, opts.SchemaVersion)
		f.Fix = "Run: dxtracker migrate"
	case opts.SchemaVersion > 0 && got > opts.SchemaVersion:
		f.Problem = fmt.Sprintf("the tracker tables are at schema version %d, newer than this dxtracker knows (%d)", got, opts.SchemaVersion)
		f.Fix = "Install the dxtracker version that created them, or a later one."
	default:
		f.OK, f.Detail = true, fmt.Sprintf("tracker schema version %d", got)
	}
	return f, nil
}

func checkBinlogExpire(_ context.Context, _ *sql.Conn, s *server, _ Options) (Finding, error) {
	f := Finding{Check: CheckBinlogExpire}
	secs, hasSecs := parseFloat(s.vars["binlog_expire_logs_seconds"])
	days, _ := parseFloat(s.vars["expire_logs_days"])
	expire := time.Duration(0)
	switch {
	case hasSecs && secs > 0:
		expire = time.Duration(secs * float64(time.Second))
	case days > 0:
		expire = time.Duration(days * 24 * float64(time.Hour))
	}
	if expire == 0 {
		f.OK, f.Detail = true, "binary logs are not purged automatically"
		return f, nil
	}
	if expire >= minExpire {
		f.OK, f.Detail = true, "binary logs are kept for "+humanDuration(expire)
		return f, nil
	}
	f.Warning = true
	f.Problem = fmt.Sprintf("binary logs are purged after %s: when dxtracker is down longer than that, the binlog it would resume from is gone "+
		"and it can only recover from the tables (intake rows, schedules), without the binlog's detail", humanDuration(expire))
	if _, ok := s.vars["binlog_expire_logs_seconds"]; ok {
		f.Fix = fmt.Sprintf("SET GLOBAL binlog_expire_logs_seconds = %d;\nand add %s", suggestExpireS,
			s.cnfLines(fmt.Sprintf("binlog_expire_logs_seconds = %d", suggestExpireS)))
	} else {
		f.Fix = "SET GLOBAL expire_logs_days = 7;\nand add " + s.cnfLines("expire_logs_days = 7")
	}
	return f, nil
}

func checkMaxAllowedPacket(_ context.Context, _ *sql.Conn, s *server, _ Options) (Finding, error) {
	f := Finding{Check: CheckMaxAllowedPacket}
	n, err := strconv.ParseInt(s.vars["max_allowed_packet"], 10, 64)
	if err != nil {
		return f, fmt.Errorf("max_allowed_packet = %q: %w", s.vars["max_allowed_packet"], err)
	}
	if n >= minPacket {
		f.OK, f.Detail = true, "max_allowed_packet = "+humanBytes(n)
		return f, nil
	}
	f.Problem = fmt.Sprintf("max_allowed_packet is %s, must be at least 4 MiB: captured files are stored in 1 MiB chunks", humanBytes(n))
	f.Fix = fmt.Sprintf("SET GLOBAL max_allowed_packet = %d;\nand add %s", suggestPacket, s.cnfLines("max_allowed_packet = 64M"))
	return f, nil
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		return strconv.Itoa(n) + " " + plural(n, "day")
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " " + plural(int(d/time.Hour), "hour")
	}
	return d.Round(time.Second).String()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
