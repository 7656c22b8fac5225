package sandbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"

	"github.com/go-sql-driver/mysql"
)

var (
	//go:embed vtiger_minimal.sql
	vtigerSchema string
	//go:embed vtiger_seed.sql
	vtigerSeed string
)

// dbName keeps CreateDatabase safe to interpolate into DDL.
var dbName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Exec runs sql (one or more statements) as root in database ("" = none).
func (s *Server) Exec(ctx context.Context, database, sql string) error {
	return execDSN(ctx, s.DSN(database), sql)
}

// CreateDatabase creates an empty utf8mb4 database.
func CreateDatabase(ctx context.Context, s *Server, name string) error {
	if !dbName.MatchString(name) {
		return fmt.Errorf("sandbox: bad database name %q", name)
	}
	return s.Exec(ctx, "", "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4")
}

// LoadVtigerMinimal creates the embedded minimal Vtiger 8 schema in the
// (empty) database of dsn and seeds it: users admin(1), jsmith(5), mjones(6),
// old(7, inactive), gone(8, deleted), 50 contacts and scheduled report 26.
func LoadVtigerMinimal(ctx context.Context, dsn string) error {
	if err := execDSN(ctx, dsn, vtigerSchema); err != nil {
		return fmt.Errorf("sandbox: vtiger schema: %w", err)
	}
	if err := execDSN(ctx, dsn, vtigerSeed); err != nil {
		return fmt.Errorf("sandbox: vtiger seed: %w", err)
	}
	return nil
}

// LoadSQLGzipFile pipes a .sql.gz dump into the mariadb client. The client,
// not the driver, because mariadb-dump output starts with a sandbox-mode
// comment that only MariaDB clients understand.
func LoadSQLGzipFile(ctx context.Context, s *Server, database, path string) error {
	bin, err := lookBin("mariadb")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", path, err)
	}
	cmd := exec.CommandContext(ctx, bin, "--no-defaults", "--protocol=TCP",
		"--host=127.0.0.1", "--port="+strconv.Itoa(s.Port()), "--user=root",
		"--default-character-set=utf8mb4", "--max-allowed-packet=64M", database)
	cmd.Stdin = zr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sandbox: load %s into %s: %w\n%s", path, database, err, tail(out.Bytes(), 2048))
	}
	return nil
}

// execDSN runs a multi-statement script on one connection; multiStatements
// is forced on so any DSN works.
func execDSN(ctx context.Context, dsn, script string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	_, err = db.ExecContext(ctx, script)
	return err
}

// CreateVtigerDatabase creates database name on s with the minimal Vtiger
// schema and seed (LoadVtigerMinimal) and returns its DSN.
func CreateVtigerDatabase(ctx context.Context, s *Server, name string) (string, error) {
	if err := CreateDatabase(ctx, s, name); err != nil {
		return "", err
	}
	dsn := s.DSN(name)
	return dsn, LoadVtigerMinimal(ctx, dsn)
}
