package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

const (
	flavorMariaDB = "mariadb"
	flavorMySQL   = "mysql"
)

// Server error numbers this package acts on.
const (
	erDBAccessDenied       = 1044
	erAccessDenied         = 1045
	erParse                = 1064
	erTableAccessDenied    = 1142
	erNoBinaryLogging      = 1381
	erSpecificAccessDenied = 1227
	erSourceFatalReading   = 1236 // ER_MASTER_FATAL_ERROR_READING_BINLOG
)

// CurrentPosition is the server's current binlog write position (SHOW
// MASTER STATUS, or SHOW BINARY LOG STATUS where MySQL 8.4 dropped the
// former), with its GTID state: MySQL's Executed_Gtid_Set, or MariaDB's
// @@gtid_binlog_pos read around a second SHOW MASTER STATUS (see
// mariaDBPosition). The db user needs REPLICATION CLIENT (MariaDB: BINLOG
// MONITOR).
func CurrentPosition(ctx context.Context, db *sql.DB) (Position, error) {
	p, hasGTID, err := writePosition(ctx, db)
	if err != nil || hasGTID {
		return p, err
	}
	return mariaDBPosition(ctx, db, p)
}

// mariaDBPosition adds the GTID state to p, MariaDB's write position. The
// state is @@gtid_binlog_pos, read before and after another SHOW MASTER
// STATUS: when both reads agree, no transaction was binlogged in between
// (each has a GTID and changes the state), so the state belongs to that
// position. Only if writes keep racing does it ask BINLOG_GTID_POS, which
// on MariaDB reads the binlog file from its start up to the offset (a
// gigabyte file takes seconds). Where neither is known (MySQL without
// GTIDs, old MariaDB) GTID stays "".
func mariaDBPosition(ctx context.Context, db *sql.DB, p Position) (Position, error) {
	for range 3 {
		var before, after sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&before); err != nil {
			if ctx.Err() != nil {
				return Position{}, fmt.Errorf("binlog: current position: %w", ctx.Err())
			}
			break // no such variable: not MariaDB 10.0+
		}
		q, _, err := writePosition(ctx, db)
		if err != nil {
			return Position{}, err
		}
		if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&after); err != nil {
			return Position{}, fmt.Errorf("binlog: current position: %w", classify(err))
		}
		if before == after {
			q.GTID = after.String
			return q, nil
		}
		p = q
	}
	var g sql.NullString
	// Unknown on MySQL (error 1305) and on old MariaDB: GTID stays "".
	if err := db.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", p.File, p.Pos).Scan(&g); err == nil {
		p.GTID = g.String
	} else if ctx.Err() != nil {
		return Position{}, fmt.Errorf("binlog: current position: %w", ctx.Err())
	}
	return p, nil
}

// writePosition is SHOW MASTER STATUS (or SHOW BINARY LOG STATUS): the
// write position, with MySQL's Executed_Gtid_Set as GTID when the server
// has that column (hasGTID).
func writePosition(ctx context.Context, db *sql.DB) (p Position, hasGTID bool, err error) {
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if serverErrno(err) == erParse {
		rows, err = db.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("binlog: current position: %w", classify(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Position{}, false, fmt.Errorf("binlog: current position: %w", err)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Position{}, false, fmt.Errorf("binlog: current position: %w", err)
		}
		return Position{}, false, fmt.Errorf("%w: %s", ErrSetup, msgBinlogOff)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return Position{}, false, fmt.Errorf("binlog: current position: %w", err)
	}
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "file":
			p.File = vals[i].String
		case "position":
			var pos uint64
			if _, err := fmt.Sscan(vals[i].String, &pos); err != nil {
				return Position{}, false, fmt.Errorf("binlog: current position: bad Position %q", vals[i].String)
			}
			p.Pos = uint32(pos)
		case "executed_gtid_set":
			hasGTID = true
			p.GTID = stripSpace(vals[i].String)
		}
	}
	if err := rows.Close(); err != nil {
		return Position{}, false, fmt.Errorf("binlog: current position: %w", err)
	}
	if p.File == "" {
		return Position{}, false, fmt.Errorf("%w: %s", ErrSetup, msgBinlogOff)
	}
	return p, hasGTID, nil
}

// BinaryLogs lists the binlog files the server still has (SHOW BINARY
// LOGS), oldest first.
func BinaryLogs(ctx context.Context, db *sql.DB) ([]string, error) {
	logs, err := binaryLogs(ctx, db)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(logs))
	for i, l := range logs {
		names[i] = l.name
	}
	return names, nil
}

type logFile struct {
	name string
	size uint64
}

func binaryLogs(ctx context.Context, db *sql.DB) ([]logFile, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		if serverErrno(err) == erNoBinaryLogging {
			return nil, fmt.Errorf("%w: %s", ErrSetup, msgBinlogOff)
		}
		return nil, fmt.Errorf("binlog: list binary logs: %w", classify(err))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("binlog: list binary logs: %w", err)
	}
	var logs []logFile
	for rows.Next() {
		vals := make([]sql.NullString, len(cols)) // Log_name, File_size[, Encrypted]
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("binlog: list binary logs: %w", err)
		}
		l := logFile{name: vals[0].String}
		if len(vals) > 1 {
			_, _ = fmt.Sscan(vals[1].String, &l.size)
		}
		logs = append(logs, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binlog: list binary logs: %w", err)
	}
	return logs, nil
}

const msgBinlogOff = "binary logging is off on the server: add `log_bin = mysql-bin` and `server_id = 1` under [mysqld] in my.cnf and restart the server"

// serverInfo is what the start-up check learns.
type serverInfo struct {
	version  string
	flavor   string
	serverID uint32
}

// checkServer verifies the server settings replication needs and returns
// every problem at once, each with its fix.
func checkServer(ctx context.Context, db *sql.DB, cfg Config) (serverInfo, error) {
	var (
		info                serverInfo
		logBin              sql.NullInt64
		format, image       sql.NullString
		serverID            sql.NullInt64
		versionComment      sql.NullString
		problems            []error
		formatVal, imageVal string
	)
	err := db.QueryRowContext(ctx, "SELECT VERSION(), @@GLOBAL.version_comment, @@GLOBAL.log_bin, "+
		"@@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.server_id").
		Scan(&info.version, &versionComment, &logBin, &format, &image, &serverID)
	if err != nil {
		return info, fmt.Errorf("binlog: check server settings: %w", classify(err))
	}
	info.serverID = uint32(serverID.Int64)
	info.flavor = cfg.Flavor
	if info.flavor == "" {
		info.flavor = flavorMySQL
		if strings.Contains(strings.ToLower(info.version+" "+versionComment.String), "mariadb") {
			info.flavor = flavorMariaDB
		}
	}
	formatVal, imageVal = strings.ToUpper(format.String), strings.ToUpper(image.String)
	if logBin.Int64 == 0 {
		problems = append(problems, errors.New(msgBinlogOff))
	}
	if formatVal != "ROW" {
		problems = append(problems, fmt.Errorf("binlog_format is %s, want ROW: run `SET GLOBAL binlog_format = 'ROW'` and add `binlog_format = ROW` under [mysqld] in my.cnf (open sessions keep the old format until they reconnect)", format.String))
	}
	if imageVal != "FULL" {
		problems = append(problems, fmt.Errorf("binlog_row_image is %s, want FULL: run `SET GLOBAL binlog_row_image = 'FULL'` and add `binlog_row_image = FULL` under [mysqld] in my.cnf", image.String))
	}
	if info.serverID == 0 && logBin.Int64 != 0 {
		problems = append(problems, errors.New("the server's server_id is 0, which refuses replicas: add `server_id = 1` under [mysqld] in my.cnf and restart the server"))
	}
	if info.serverID != 0 && info.serverID == cfg.ServerID {
		problems = append(problems, fmt.Errorf("the replica ServerID %d equals the server's own server_id: configure another replica server id (DXT_SERVER_ID)", cfg.ServerID))
	}
	if err := errors.Join(problems...); err != nil {
		return info, fmt.Errorf("%w: %w", ErrSetup, err)
	}
	return info, nil
}

// column is what a rows event needs to know about a table column beyond
// the table map: its name, and whether an integer is UNSIGNED (the table
// map says so only with binlog_row_metadata=FULL or MINIMAL).
type column struct {
	name     string
	unsigned bool
}

// loadColumns returns the columns of tables in schema, in ordinal order.
// Tables that do not exist are absent from the map.
func loadColumns(ctx context.Context, db *sql.DB, schema string, tables []string) (map[string][]column, error) {
	out := make(map[string][]column, len(tables))
	if len(tables) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(tables)+1)
	args = append(args, schema)
	for _, t := range tables {
		args = append(args, t)
	}
	q := "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?" +
		strings.Repeat(", ?", len(tables)-1) + ") ORDER BY TABLE_NAME, ORDINAL_POSITION"
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("binlog: load column names: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var table, name, typ string
		if err := rows.Scan(&table, &name, &typ); err != nil {
			return nil, fmt.Errorf("binlog: load column names: %w", err)
		}
		out[table] = append(out[table], column{name: name, unsigned: strings.Contains(strings.ToLower(typ), "unsigned")})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binlog: load column names: %w", err)
	}
	return out, nil
}

// serverErrno is the server error number carried by err (from either MySQL
// client library), or 0.
func serverErrno(err error) uint16 {
	if err == nil {
		return 0
	}
	var de *mysql.MySQLError
	if errors.As(err, &de) {
		return de.Number
	}
	var ge *gomysqlError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// classify wraps errors that no retry can fix with ErrSetup.
func classify(err error) error {
	switch serverErrno(err) {
	case erAccessDenied, erDBAccessDenied, erSpecificAccessDenied, erTableAccessDenied:
		return fmt.Errorf("%w: %w (grant the user REPLICATION SLAVE and REPLICATION CLIENT, or BINLOG MONITOR on MariaDB, and SELECT on the schema)", ErrSetup, err)
	}
	return err
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
}
