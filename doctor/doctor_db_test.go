package doctor

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"

	"github.com/dxtracker/dxtracker/sandbox"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) {
	// A starting mariadbd, and the bootstrap inside mariadb-install-db,
	// deletes every #sql* file in its tmpdir ($TMPDIR, else /tmp): the
	// temporary tables of any other server bootstrapping there at the same
	// moment. A private TMPDIR keeps other test runs on the machine out;
	// startMu keeps this package's own start-ups apart.
	dir, err := os.MkdirTemp("", "dxt-doctor-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", dir)
	code := sandboxtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// goodOptions are what `dxtracker doctor` passes for a well-configured host.
func goodOptions() Options {
	return Options{ServerID: 4242, Hostname: "doctor-test-host", SchemaVersion: tracker.LatestSchemaVersion()}
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

func runDoctor(t *testing.T, dsn string, opts Options) []Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	fs, err := Run(ctx, openDB(t, dsn), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var buf bytes.Buffer
	Print(&buf, fs)
	t.Logf("doctor says:\n%s", buf.String())
	return fs
}

// problemChecks lists the checks that failed (warnings excluded).
func problemChecks(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if !f.OK && !f.Warning {
			out = append(out, f.Check)
		}
	}
	return out
}

func wantProblems(t *testing.T, fs []Finding, want ...string) {
	t.Helper()
	got := problemChecks(fs)
	if !slices.Equal(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
	for _, f := range fs {
		if !f.OK && (f.Problem == "" || f.Fix == "") {
			t.Errorf("%s: a finding that is not OK needs a problem and a fix: %+v", f.Check, f)
		}
	}
}

func findingOf(t *testing.T, fs []Finding, check string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	t.Fatalf("no finding for %s", check)
	return Finding{}
}

func migrate(t *testing.T, dsn string) {
	t.Helper()
	if _, err := tracker.Migrate(t.Context(), openDB(t, dsn)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

// startMu serialises server start-ups; see TestMain.
var startMu sync.Mutex

// sharedServer is sandboxtest.Server, started under startMu.
func sharedServer(t *testing.T) *sandbox.Server {
	t.Helper()
	startMu.Lock()
	defer startMu.Unlock()
	return sandboxtest.Server(t)
}

// newDatabase is sandboxtest.NewDatabase with the server started under startMu.
func newDatabase(t *testing.T) string {
	t.Helper()
	sharedServer(t)
	return sandboxtest.NewDatabase(t)
}

// vtigerDatabase is sandboxtest.NewVtigerDatabase with the server started
// under startMu.
func vtigerDatabase(t *testing.T) string {
	t.Helper()
	sharedServer(t)
	return sandboxtest.NewVtigerDatabase(t)
}

// readyDatabase is a Vtiger database with the tracker tables on the shared
// server.
func readyDatabase(t *testing.T) string {
	t.Helper()
	dsn := vtigerDatabase(t)
	migrate(t, dsn)
	return dsn
}

// ownServerReady starts a private server with extra mariadbd arguments and
// gives it a migrated Vtiger database.
func ownServerReady(t *testing.T, args ...string) (*sandbox.Server, string) {
	t.Helper()
	srv := func() *sandbox.Server {
		startMu.Lock()
		defer startMu.Unlock() // also when OwnServer fails the test
		return sandboxtest.OwnServer(t, sandbox.Options{ExtraArgs: args})
	}()
	if err := sandbox.CreateDatabase(t.Context(), srv, "vtiger"); err != nil {
		t.Fatal(err)
	}
	dsn := srv.DSN("vtiger")
	if err := sandbox.LoadVtigerMinimal(t.Context(), dsn); err != nil {
		t.Fatal(err)
	}
	migrate(t, dsn)
	return srv, dsn
}

// exec runs SQL as root on the server behind dsn.
func exec(t *testing.T, dsn, query string) {
	t.Helper()
	if _, err := openDB(t, dsn).ExecContext(t.Context(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func dbName(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.DBName
}

var userSeq atomic.Int64

// newUser creates an account 'name'@'%' with the given GRANT statements
// (TO <user> appended) and returns a DSN connecting as it to the database
// of rootDSN.
func newUser(t *testing.T, rootDSN string, grants ...string) (dsn, name string) {
	t.Helper()
	name = fmt.Sprintf("doc_u%d", userSeq.Add(1))
	exec(t, rootDSN, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'pw-%s'", name, name))
	t.Cleanup(func() {
		db, err := sql.Open("mysql", rootDSN)
		if err == nil {
			_, _ = db.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", name))
			db.Close()
		}
	})
	for _, g := range grants {
		exec(t, rootDSN, fmt.Sprintf("%s TO '%s'@'%%'", g, name))
	}
	cfg, err := mysql.ParseDSN(rootDSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd = name, "pw-"+name
	return cfg.FormatDSN(), name
}

// applyFix runs the SQL statements of a fix (the lines ending in ';') as root.
func applyFix(t *testing.T, rootDSN string, f Finding) {
	t.Helper()
	n := 0
	for line := range strings.SplitSeq(f.Fix, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, ";") && !strings.HasPrefix(line, "SELECT") && !strings.HasPrefix(line, "Run ") {
			exec(t, rootDSN, line)
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%s: fix has no SQL: %q", f.Check, f.Fix)
	}
}

func TestGoodServerPassesEveryCheck(t *testing.T) {
	t.Parallel()
	fs := runDoctor(t, readyDatabase(t), goodOptions())
	wantProblems(t, fs)
	var names []string
	for _, f := range fs {
		names = append(names, f.Check)
		if !f.OK || f.Warning || f.Detail == "" {
			t.Errorf("%s: %+v", f.Check, f)
		}
	}
	want := []string{CheckServer, CheckLogBin, CheckBinlogFormat, CheckBinlogRowImage, CheckServerID,
		CheckReplicationGrants, CheckVtigerTables, CheckWriteGrants, CheckTrackerSchema, CheckBinlogExpire, CheckMaxAllowedPacket}
	if !slices.Equal(names, want) {
		t.Errorf("checks = %v, want %v", names, want)
	}
	if d := findingOf(t, fs, CheckServer).Detail; !strings.HasPrefix(d, "MariaDB 1") {
		t.Errorf("server detail = %q", d)
	}
	if n := Print(io.Discard, fs); n != 0 {
		t.Errorf("Print counted %d problems", n)
	}
}

func TestBinlogOffIsReportedWithOptionFileLines(t *testing.T) {
	t.Parallel()
	_, dsn := ownServerReady(t, "--skip-log-bin")
	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckLogBin)
	fix := findingOf(t, fs, CheckLogBin).Fix
	for _, want := range []string{"[mysqld]\n  log_bin = mysql-bin\n  server_id = 1", "systemctl restart mariadb"} {
		if !strings.Contains(fix, want) {
			t.Errorf("fix %q lacks %q", fix, want)
		}
	}
	// The server id suggested for the database server must not be dxtracker's.
	opts := goodOptions()
	opts.ServerID = 1
	fs = runDoctor(t, dsn, opts)
	if fix := findingOf(t, fs, CheckLogBin).Fix; !strings.Contains(fix, "server_id = 2") {
		t.Errorf("fix with dxtracker's server_id 1 = %q", fix)
	}
}

func TestStatementFormatIsReportedAndTheFixWorks(t *testing.T) {
	t.Parallel()
	_, dsn := ownServerReady(t, "--binlog-format=STATEMENT")
	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckBinlogFormat)
	f := findingOf(t, fs, CheckBinlogFormat)
	if !strings.HasPrefix(f.Fix, "SET GLOBAL binlog_format = 'ROW';") || !strings.Contains(f.Fix, "binlog_format = ROW") ||
		!strings.Contains(f.Problem, "STATEMENT") {
		t.Errorf("finding = %+v", f)
	}
	applyFix(t, dsn, f)
	wantProblems(t, runDoctor(t, dsn, goodOptions()))
}

func TestMinimalRowImageIsReportedAndTheFixWorks(t *testing.T) {
	t.Parallel()
	_, dsn := ownServerReady(t, "--binlog-row-image=MINIMAL")
	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckBinlogRowImage)
	f := findingOf(t, fs, CheckBinlogRowImage)
	if !strings.HasPrefix(f.Fix, "SET GLOBAL binlog_row_image = 'FULL';") || !strings.Contains(f.Fix, "binlog_row_image = FULL") {
		t.Errorf("finding = %+v", f)
	}
	applyFix(t, dsn, f)
	wantProblems(t, runDoctor(t, dsn, goodOptions()))
}

func TestSmallPacketAndShortBinlogExpiry(t *testing.T) {
	t.Parallel()
	_, dsn := ownServerReady(t, "--max-allowed-packet=1M", "--binlog-expire-logs-seconds=3600")
	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckMaxAllowedPacket)
	exp := findingOf(t, fs, CheckBinlogExpire)
	if exp.OK || !exp.Warning || !strings.Contains(exp.Problem, "1 hour") {
		t.Errorf("binlog_expire = %+v", exp)
	}
	applyFix(t, dsn, findingOf(t, fs, CheckMaxAllowedPacket))
	applyFix(t, dsn, exp)
	fs = runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs)
	if f := findingOf(t, fs, CheckBinlogExpire); !f.OK {
		t.Errorf("binlog_expire after the fix = %+v", f)
	}
}

func TestUserWithoutReplicationGrants(t *testing.T) {
	t.Parallel()
	root := readyDatabase(t)
	db := dbName(t, root)
	dsn, name := newUser(t, root, "GRANT ALL PRIVILEGES ON `"+db+"`.*")

	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckReplicationGrants)
	f := findingOf(t, fs, CheckReplicationGrants)
	wantFix := fmt.Sprintf("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '%s'@'%%';", name)
	if f.Fix != wantFix || !strings.Contains(f.Problem, "REPLICATION SLAVE and REPLICATION CLIENT") {
		t.Errorf("finding = %+v, want fix %s", f, wantFix)
	}
	// Without REPLICATION MASTER ADMIN the replica list is hidden: a warning.
	if sid := findingOf(t, fs, CheckServerID); !sid.Warning {
		t.Errorf("server_id = %+v, want a warning", sid)
	}

	// Root may check another account's grants.
	opts := goodOptions()
	opts.ReplicaUser = name + "@%"
	fs = runDoctor(t, root, opts)
	wantProblems(t, fs, CheckReplicationGrants)
	if got := findingOf(t, fs, CheckReplicationGrants).Fix; got != wantFix {
		t.Errorf("fix for ReplicaUser = %q", got)
	}

	// An account that does not exist is a problem, not an error of Run.
	opts.ReplicaUser = "nobody_here@%"
	fs = runDoctor(t, root, opts)
	wantProblems(t, fs, CheckReplicationGrants)
	if p := findingOf(t, fs, CheckReplicationGrants).Problem; !strings.Contains(p, "cannot read the grants of 'nobody_here'@'%'") {
		t.Errorf("problem = %q", p)
	}
	opts.ReplicaUser = name + "@%"

	srv := sharedServer(t)
	if err := streamBinlog(t, srv, 5001, name, "pw-"+name, "h"); err == nil {
		t.Fatal("the account streams the binlog without the grants doctor asks for")
	}
	applyFix(t, root, f)
	wantProblems(t, runDoctor(t, dsn, goodOptions()))
	wantProblems(t, runDoctor(t, root, opts))
	// The fix is enough for what dxtracker does: stream, and read positions.
	if err := streamBinlog(t, srv, 5002, name, "pw-"+name, "h"); err != nil {
		t.Errorf("binlog stream after the fix: %v", err)
	}
	if rows, err := openDB(t, dsn).QueryContext(t.Context(), "SHOW MASTER STATUS"); err != nil {
		t.Errorf("SHOW MASTER STATUS after the fix: %v", err)
	} else {
		rows.Close()
	}

	// MariaDB's new names count as well.
	dsn2, _ := newUser(t, root, "GRANT ALL PRIVILEGES ON `"+db+"`.*", "GRANT REPLICATION REPLICA, BINLOG MONITOR ON *.*")
	wantProblems(t, runDoctor(t, dsn2, goodOptions()))

	// SUPER lets an account read positions (it stands for REPLICATION
	// CLIENT before MariaDB 11) but not stream the binlog: REPLICATION SLAVE
	// is still missing, as the server confirms.
	dsn3, name3 := newUser(t, root, "GRANT ALL PRIVILEGES ON `"+db+"`.*", "GRANT SUPER ON *.*")
	fs = runDoctor(t, dsn3, goodOptions())
	wantProblems(t, fs, CheckReplicationGrants)
	if p := findingOf(t, fs, CheckReplicationGrants).Problem; strings.Contains(p, "REPLICATION CLIENT") {
		t.Errorf("SUPER should stand for REPLICATION CLIENT on MariaDB < 11: %q", p)
	}
	if err := streamBinlog(t, srv, 5003, name3, "pw-"+name3, "h"); err == nil {
		t.Error("a SUPER account streamed the binlog; doctor says it cannot")
	}
	if rows, err := openDB(t, dsn3).QueryContext(t.Context(), "SHOW MASTER STATUS"); err != nil {
		t.Errorf("SHOW MASTER STATUS with SUPER: %v", err)
	} else {
		rows.Close()
	}
}

func TestUserWithoutWriteGrants(t *testing.T) {
	t.Parallel()
	root := readyDatabase(t)
	db := dbName(t, root)
	dsn, name := newUser(t, root, "GRANT SELECT ON `"+db+"`.*", "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.*")
	fs := runDoctor(t, dsn, goodOptions())
	wantProblems(t, fs, CheckWriteGrants)
	f := findingOf(t, fs, CheckWriteGrants)
	want := fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON `%s`.* TO '%s'@'%%';", db, name)
	if f.Fix != want || !strings.Contains(f.Problem, "INSERT, UPDATE, DELETE, CREATE") {
		t.Errorf("finding = %+v, want fix %s", f, want)
	}
	applyFix(t, root, f)
	wantProblems(t, runDoctor(t, dsn, goodOptions()))
}

func TestServerIDClash(t *testing.T) {
	t.Parallel()
	dsn := readyDatabase(t)

	t.Run("the database server's own id", func(t *testing.T) {
		opts := goodOptions()
		opts.ServerID = 1 // the sandbox server's @@server_id
		fs := runDoctor(t, dsn, opts)
		wantProblems(t, fs, CheckServerID)
		f := findingOf(t, fs, CheckServerID)
		if !strings.Contains(f.Problem, "own @@server_id") || !strings.Contains(f.Fix, "server_id = 4242") {
			t.Errorf("finding = %+v", f)
		}
	})

	t.Run("not configured", func(t *testing.T) {
		opts := goodOptions()
		opts.ServerID = 0
		wantProblems(t, runDoctor(t, dsn, opts), CheckServerID)
	})

	t.Run("a replica with the id on another host", func(t *testing.T) {
		const id = 31337
		registerReplica(t, sharedServer(t), id, "other-host")
		opts := goodOptions()
		opts.ServerID = id
		fs := runDoctor(t, dsn, opts)
		wantProblems(t, fs, CheckServerID)
		f := findingOf(t, fs, CheckServerID)
		if !strings.Contains(f.Problem, "other-host") || !strings.Contains(f.Fix, "server_id = 4242") {
			t.Errorf("finding = %+v", f)
		}
		// From the host it registered from, it is this dxtracker running.
		opts.Hostname = "other-host"
		fs = runDoctor(t, dsn, opts)
		wantProblems(t, fs)
		if d := findingOf(t, fs, CheckServerID).Detail; !strings.Contains(d, "running dxtracker") {
			t.Errorf("detail = %q", d)
		}
	})
}

// streamBinlog opens a binlog stream as a replica with server id, as
// dxtracker does, and reads its first event. The stream stays open until the
// test ends.
func streamBinlog(t *testing.T, srv *sandbox.Server, id uint32, user, password, host string) error {
	t.Helper()
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: id, Flavor: "mariadb", Host: "127.0.0.1", Port: uint16(srv.Port()), User: user, Password: password,
		Localhost: host, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	t.Cleanup(syncer.Close)
	var file string
	var size uint64
	if err := openDB(t, srv.DSN("")).QueryRowContext(t.Context(), "SHOW BINARY LOGS").Scan(&file, &size); err != nil {
		t.Fatalf("SHOW BINARY LOGS: %v", err)
	}
	st, err := syncer.StartSync(gomysql.Position{Name: file, Pos: 4})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = st.GetEvent(ctx)
	return err
}

// registerReplica makes a replica with id from host show in SHOW REPLICA
// HOSTS until the test ends.
func registerReplica(t *testing.T, srv *sandbox.Server, id uint32, host string) {
	t.Helper()
	if err := streamBinlog(t, srv, id, "root", "", host); err != nil {
		t.Fatalf("binlog stream as replica %d: %v", id, err)
	}
	conn := mustConn(t, openDB(t, srv.DSN("")))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		hosts, err := replicaHosts(t.Context(), conn, &server{mariadb: true, major: 10, minor: 11})
		if err == nil && slices.ContainsFunc(hosts, func(h replicaHost) bool { return h.id == id }) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("replica %d never showed in SHOW REPLICA HOSTS", id)
}

func mustConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVtigerTablesAbsent(t *testing.T) {
	t.Parallel()
	t.Run("empty database", func(t *testing.T) {
		t.Parallel()
		fs := runDoctor(t, newDatabase(t), goodOptions())
		wantProblems(t, fs, CheckVtigerTables, CheckTrackerSchema)
		f := findingOf(t, fs, CheckVtigerTables)
		if !strings.Contains(f.Problem, "none of the Vtiger tables") || !strings.Contains(f.Fix, "TABLE_NAME = 'vtiger_users'") {
			t.Errorf("finding = %+v", f)
		}
	})
	t.Run("some tables missing", func(t *testing.T) {
		t.Parallel()
		dsn := readyDatabase(t)
		exec(t, dsn, "DROP TABLE vtiger_schedulereports")
		fs := runDoctor(t, dsn, goodOptions())
		wantProblems(t, fs, CheckVtigerTables)
		if p := findingOf(t, fs, CheckVtigerTables).Problem; !strings.HasSuffix(p, "lacks the Vtiger tables vtiger_schedulereports") {
			t.Errorf("problem = %q", p)
		}
	})
	t.Run("no database in the DSN", func(t *testing.T) {
		t.Parallel()
		fs := runDoctor(t, sharedServer(t).DSN(""), goodOptions())
		wantProblems(t, fs, CheckVtigerTables, CheckWriteGrants, CheckTrackerSchema)
	})
	t.Run("Options.Schema names the database", func(t *testing.T) {
		t.Parallel()
		opts := goodOptions()
		opts.Schema = dbName(t, readyDatabase(t))
		wantProblems(t, runDoctor(t, sharedServer(t).DSN(""), opts))
	})
}

func TestTrackerSchema(t *testing.T) {
	t.Parallel()
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		fs := runDoctor(t, vtigerDatabase(t), goodOptions())
		wantProblems(t, fs, CheckTrackerSchema)
		if fix := findingOf(t, fs, CheckTrackerSchema).Fix; !strings.Contains(fix, "dxtracker migrate") {
			t.Errorf("fix = %q", fix)
		}
	})
	t.Run("older than the binary", func(t *testing.T) {
		t.Parallel()
		opts := goodOptions()
		opts.SchemaVersion++
		fs := runDoctor(t, readyDatabase(t), opts)
		wantProblems(t, fs, CheckTrackerSchema)
		if f := findingOf(t, fs, CheckTrackerSchema); !strings.Contains(f.Fix, "dxtracker migrate") {
			t.Errorf("finding = %+v", f)
		}
	})
	t.Run("newer than the binary", func(t *testing.T) {
		t.Parallel()
		dsn := readyDatabase(t)
		exec(t, dsn, fmt.Sprintf("INSERT INTO dxt_schema_version (version, description, applied_at) VALUES (%d, 'future', NOW())",
			tracker.LatestSchemaVersion()+1))
		fs := runDoctor(t, dsn, goodOptions())
		wantProblems(t, fs, CheckTrackerSchema)
		if p := findingOf(t, fs, CheckTrackerSchema).Problem; !strings.Contains(p, "newer") {
			t.Errorf("problem = %q", p)
		}
	})
	t.Run("presence only", func(t *testing.T) {
		t.Parallel()
		opts := goodOptions()
		opts.SchemaVersion = 0
		wantProblems(t, runDoctor(t, readyDatabase(t), opts))
	})
}

func TestRunFailsOnlyWhenTheServerCannotBeQueried(t *testing.T) {
	t.Parallel()
	srv := sharedServer(t)
	cfg, _ := mysql.ParseDSN(srv.DSN(""))
	cfg.Addr = "127.0.0.1:1" // nothing listens there
	cfg.Timeout = 2 * time.Second
	conn, _ := mysql.NewConnector(cfg)
	db := sql.OpenDB(conn)
	defer db.Close()
	fs, err := Run(t.Context(), db, goodOptions())
	if err == nil || fs != nil {
		t.Fatalf("Run = %v, %v; want an error", fs, err)
	}
}
