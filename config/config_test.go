package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const goodDSN = "dx:pw@tcp(db:3306)/vtiger"

// required is the environment every test needs unless it tests its absence.
var required = []string{"DXT_MYSQL_DSN=" + goodDSN, "DXT_SERVER_ID=4242"}

// writeFile writes content to name in a fresh temp dir and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// load runs Load with --config path (none when path is "") plus args.
func load(t *testing.T, path string, env []string, args ...string) (Config, []string, error) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "absent.toml")
		args = append([]string{"--config="}, args...)
	} else {
		args = append([]string{"--config", path}, args...)
	}
	return Load(args, env)
}

func mustLoad(t *testing.T, path string, env []string, args ...string) Config {
	t.Helper()
	c, _, err := load(t, path, env, args...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// configErrors returns the *Error values joined in err, failing the test
// when err holds anything else.
func configErrors(t *testing.T, err error) []*Error {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []*Error
	for _, e := range errs {
		ce, ok := e.(*Error)
		if !ok {
			t.Fatalf("error %T %q is not a *config.Error", e, e)
		}
		out = append(out, ce)
	}
	return out
}

// errorFor returns the one *Error about key, failing when there is none.
func errorFor(t *testing.T, err error, key string) *Error {
	t.Helper()
	for _, e := range configErrors(t, err) {
		if e.Key == key {
			return e
		}
	}
	t.Fatalf("no error for key %q in:\n%v", key, err)
	return nil
}

func TestDefaultsApplyWhenOnlyRequiredKeysAreSet(t *testing.T) {
	c := mustLoad(t, "", required)
	want := Config{
		MySQLDSN: goodDSN, ServerID: 4242, Listen: "127.0.0.1:8787", SMTPTLS: "starttls",
		LogLevel: "info", LogFormat: "auto", Flavor: "auto",
		Heartbeat: 5 * time.Second, ScheduleMergeWindow: 10 * time.Minute, ShutdownTimeout: 15 * time.Second,
		SMTPTimeout: 30 * time.Second, NotifyRetryBase: 30 * time.Second, BeaconUserRate: 20, BeaconUserBurst: 60, BeaconIPRate: 200, BeaconIPBurst: 400,
		BeaconQueue: 8192, BeaconMemoryMB: 64, BeaconWriters: 2,
	}
	if got := fmt.Sprintf("%+v", c.Redacted()); got != fmt.Sprintf("%+v", want.Redacted()) {
		t.Errorf("defaults:\n got %s\nwant %s", got, fmt.Sprintf("%+v", want.Redacted()))
	}
	if c.TrustedProxies != nil || c.AllowedOrigins != nil || c.Path != "" {
		t.Errorf("unexpected non-zero fields: %#v", c)
	}
}

func TestPrecedenceIsFlagThenEnvThenFileThenDefault(t *testing.T) {
	file := writeFile(t, "dxtracker.toml", `
mysql_dsn = "file:pw@tcp(file:3306)/vtiger"
server_id = 1
listen = "127.0.0.1:1001"
log_level = "warn"
heartbeat = "7s"
trusted_proxies = ["10.0.0.0/8"]
`)
	env := []string{"DXT_SERVER_ID=2", "DXT_LISTEN=127.0.0.1:1002", "DXT_TRUSTED_PROXIES=10.1.0.0/16, 10.2.0.0/16"}
	c := mustLoad(t, file, env, "--listen", "127.0.0.1:1003")

	if c.Listen != "127.0.0.1:1003" {
		t.Errorf("listen = %q, want the flag's", c.Listen)
	}
	if c.ServerID != 2 {
		t.Errorf("server_id = %d, want the environment's 2", c.ServerID)
	}
	if c.LogLevel != "warn" || c.Heartbeat != 7*time.Second || c.MySQLDSN != "file:pw@tcp(file:3306)/vtiger" {
		t.Errorf("file values lost: %v", c)
	}
	if c.ShutdownTimeout != 15*time.Second {
		t.Errorf("shutdown_timeout = %v, want the default", c.ShutdownTimeout)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("10.2.0.0/16")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("trusted_proxies = %v, want %v (environment replaces the file's list)", c.TrustedProxies, want)
	}
	if c.Path != file {
		t.Errorf("Path = %q, want %q", c.Path, file)
	}
}

func TestListsAcceptCommasInEnvAndFlagsAndArraysInTheFile(t *testing.T) {
	file := writeFile(t, "d.toml", `allowed_origins = ["https://CRM.example.com/", "http://10.0.0.5:8080"]`)
	c := mustLoad(t, file, required)
	if want := []string{"https://crm.example.com", "http://10.0.0.5:8080"}; !slices.Equal(c.AllowedOrigins, want) {
		t.Errorf("file allowed_origins = %q, want %q", c.AllowedOrigins, want)
	}
	c = mustLoad(t, "", required, "--trusted-proxies", "192.0.2.1,2001:db8::/32", "--trusted-proxies=10.0.0.0/8")
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("flag trusted_proxies = %v, want %v", c.TrustedProxies, want)
	}
}

func TestSecretsComeFromFilesWithTheTrailingNewlineTrimmed(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("dx:from-file@tcp(db:3306)/vtiger\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := writeFile(t, "pw", "  spaces kept  \r\n")
	cfgPath := filepath.Join(dir, "dxtracker.toml")
	// A relative _file path in the file is relative to the file's folder.
	if err := os.WriteFile(cfgPath, []byte(`mysql_dsn_file = "dsn"
server_id = 7
smtp_addr = "mail.example.com:587"
smtp_from = "dx@example.com"
smtp_user = "dx"
smtp_password = "in-the-file"
`), 0o600); err != nil {
		t.Fatal(err)
	}

	c := mustLoad(t, cfgPath, []string{"DXT_SMTP_PASSWORD_FILE=" + pwFile})
	if c.MySQLDSN != "dx:from-file@tcp(db:3306)/vtiger" {
		t.Errorf("mysql_dsn from mysql_dsn_file = %q", c.MySQLDSN)
	}
	if c.SMTPPassword != "  spaces kept  " {
		t.Errorf("smtp_password = %q, want the env file's content (env beats file)", c.SMTPPassword)
	}

	other := writeFile(t, "dsn2", "dx:flag@tcp(db:3306)/vtiger")
	c = mustLoad(t, cfgPath, []string{"DXT_MYSQL_DSN=" + goodDSN}, "--mysql-dsn-file", other)
	if c.MySQLDSN != "dx:flag@tcp(db:3306)/vtiger" {
		t.Errorf("--mysql-dsn-file lost to lower levels: %q", c.MySQLDSN)
	}
}

func TestSecretSetTwiceAtOneLevelIsAnError(t *testing.T) {
	pw := writeFile(t, "pw", "x")
	env := append([]string{"DXT_SMTP_USER=u", "DXT_SMTP_PASSWORD=a", "DXT_SMTP_PASSWORD_FILE=" + pw}, required...)
	_, _, err := load(t, "", env)
	e := errorFor(t, err, "smtp_password")
	if !strings.Contains(e.Problem, "DXT_SMTP_PASSWORD and DXT_SMTP_PASSWORD_FILE") {
		t.Errorf("problem = %q", e.Problem)
	}
}

func TestSecretFileProblemsNameTheKey(t *testing.T) {
	empty := writeFile(t, "empty", "\n")
	for name, env := range map[string][]string{
		"missing": {"DXT_MYSQL_DSN_FILE=" + filepath.Join(t.TempDir(), "nope")},
		"empty":   {"DXT_MYSQL_DSN_FILE=" + empty},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(t, "", append(env, "DXT_SERVER_ID=1"))
			e := errorFor(t, err, "mysql_dsn")
			if !strings.Contains(e.Problem, "DXT_MYSQL_DSN_FILE") {
				t.Errorf("problem %q does not name the variable", e.Problem)
			}
		})
	}
}

func TestMySQLDSNFlagMustNotCarryAPassword(t *testing.T) {
	_, _, err := load(t, "", []string{"DXT_SERVER_ID=1"}, "--mysql-dsn", "dx:hunter2@tcp(db:3306)/vtiger")
	e := errorFor(t, err, "mysql_dsn")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(e.Problem, "DXT_MYSQL_DSN") {
		t.Errorf("error = %v", err)
	}
	// Without a password (socket auth) the flag is fine.
	c := mustLoad(t, "", []string{"DXT_SERVER_ID=1"}, "--mysql-dsn", "dx@unix(/run/mysqld/mysqld.sock)/vtiger")
	if c.MySQLDSN != "dx@unix(/run/mysqld/mysqld.sock)/vtiger" {
		t.Errorf("mysql_dsn = %q", c.MySQLDSN)
	}
}

func TestEveryRequiredKeyMissingIsReported(t *testing.T) {
	_, _, err := load(t, "", nil)
	errs := configErrors(t, err)
	var keys []string
	for _, e := range errs {
		keys = append(keys, e.Key)
		if e.Example == "" || !strings.Contains(e.Problem, "is required") {
			t.Errorf("%s: want 'is required' with an example, got %v", e.Key, e)
		}
	}
	if want := []string{"mysql_dsn", "server_id"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
}

func TestServerIDErrorNamesTheKeyAndAnExample(t *testing.T) {
	for _, v := range []string{"0", "-1", "4294967296", "abc", "1.5"} {
		_, _, err := load(t, "", []string{"DXT_MYSQL_DSN=" + goodDSN, "DXT_SERVER_ID=" + v})
		e := errorFor(t, err, "server_id")
		want := `config: server_id: must be a number from 1 to 4294967295, got "` + v + `" from DXT_SERVER_ID (example: server_id = 4242 in the file, or DXT_SERVER_ID=4242)`
		if e.Error() != want {
			t.Errorf("server_id=%s:\n got %s\nwant %s", v, e.Error(), want)
		}
	}
	c := mustLoad(t, "", []string{"DXT_MYSQL_DSN=" + goodDSN, "DXT_SERVER_ID=4294967295"})
	if c.ServerID != 4294967295 {
		t.Errorf("server_id = %d", c.ServerID)
	}
}

func TestBadValuesNameTheKeyAndAnExample(t *testing.T) {
	cases := []struct {
		key, env, value, problem string
	}{
		{"mysql_dsn", "DXT_MYSQL_DSN", "dx:pw@tcp(db:3306)", "not a go-sql-driver DSN"},
		{"mysql_dsn", "DXT_MYSQL_DSN", "dx:pw@tcp(db:3306)/", "names no database"},
		{"mysql_dsn", "DXT_MYSQL_DSN", "dx:pw@tcp(db:3306)vtiger", "not a go-sql-driver DSN"},
		{"listen", "DXT_LISTEN", "8787", "host:port"},
		{"listen", "DXT_LISTEN", "localhost:http", "numeric port"},
		{"beacon_listen", "DXT_BEACON_LISTEN", "nope", "host:port"},
		{"smtp_addr", "DXT_SMTP_ADDR", ":25", "host name"},
		{"smtp_from", "DXT_SMTP_FROM", "not an address", "e-mail address"},
		{"smtp_tls", "DXT_SMTP_TLS", "ssl", "starttls, tls, none"},
		{"log_level", "DXT_LOG_LEVEL", "verbose", "debug, info, warn, error"},
		{"log_format", "DXT_LOG_FORMAT", "xml", "auto, json, console"},
		{"flavor", "DXT_FLAVOR", "postgres", "auto, mariadb, mysql"},
		{"trusted_proxies", "DXT_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", `"proxy.local" is not an IP`},
		{"allowed_origins", "DXT_ALLOWED_ORIGINS", "https://crm.example.com/index.php", "not an origin"},
		{"allowed_origins", "DXT_ALLOWED_ORIGINS", "*", "not an origin"},
		{"vtiger_url", "DXT_VTIGER_URL", "crm.example.com", "http or https URL"},
		{"heartbeat", "DXT_HEARTBEAT", "5", "duration"},
		{"heartbeat", "DXT_HEARTBEAT", "0s", "duration"},
		{"schedule_merge_window", "DXT_SCHEDULE_MERGE_WINDOW", "-1m", "duration"},
		{"shutdown_timeout", "DXT_SHUTDOWN_TIMEOUT", "2h", "duration from 1s to 1h"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			env := append(slices.Clone(required), tc.env+"="+tc.value)
			_, _, err := load(t, "", env)
			e := errorFor(t, err, tc.key)
			if !strings.Contains(e.Problem, tc.problem) {
				t.Errorf("problem %q does not contain %q", e.Problem, tc.problem)
			}
			if !strings.Contains(e.Example, tc.key+" = ") || !strings.Contains(e.Example, tc.env+"=") {
				t.Errorf("example %q does not show the file and environment forms", e.Example)
			}
			if tc.key == "mysql_dsn" && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error quotes the DSN: %v", err)
			}
		})
	}
}

func TestBadTypesInTheFileNameTheKey(t *testing.T) {
	file := writeFile(t, "d.toml", `
mysql_dsn = "`+goodDSN+`"
server_id = 1.5
listen = 8787
heartbeat = 5
trusted_proxies = [1, 2]
`)
	_, _, err := load(t, file, nil)
	for _, key := range []string{"server_id", "listen", "heartbeat", "trusted_proxies"} {
		e := errorFor(t, err, key)
		if e.Example == "" || !strings.Contains(e.Problem, file) {
			t.Errorf("%s: %v", key, e)
		}
	}
}

func TestKeysThatGoTogether(t *testing.T) {
	cases := []struct {
		env []string
		key string
	}{
		{[]string{"DXT_TLS_CERT=/c.pem"}, "tls_key"},
		{[]string{"DXT_TLS_KEY=/k.pem"}, "tls_cert"},
		{[]string{"DXT_SMTP_ADDR=mail:25"}, "smtp_from"},
		{[]string{"DXT_SMTP_USER=u"}, "smtp_password"},
		{[]string{"DXT_SMTP_PASSWORD=p"}, "smtp_user"},
		{[]string{"DXT_BEACON_LISTEN=127.0.0.1:8787"}, "beacon_listen"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			_, _, err := load(t, "", append(slices.Clone(required), tc.env...))
			errorFor(t, err, tc.key)
		})
	}
	c := mustLoad(t, "", append(slices.Clone(required), "DXT_TLS_CERT=/c.pem", "DXT_TLS_KEY=/k.pem",
		"DXT_SMTP_ADDR=mail:465", "DXT_SMTP_FROM=dx@example.com", "DXT_SMTP_TLS=TLS"))
	if c.TLSCert != "/c.pem" || c.TLSKey != "/k.pem" || c.SMTPTLS != "tls" {
		t.Errorf("got %v", c)
	}
}

func TestUnknownFileKeyIsAnErrorNamingTheNearestKeys(t *testing.T) {
	file := writeFile(t, "d.toml", `mysql_dsn = "`+goodDSN+`"
sever_id = 4242
server_id = 4242
[smtp]
addr = "x:25"
`)
	_, _, err := load(t, file, nil)
	e := errorFor(t, err, "sever_id")
	if !strings.Contains(e.Problem, "unknown key") || !strings.Contains(e.Problem, "nearest valid keys: server_id,") {
		t.Errorf("problem = %q", e.Problem)
	}
	e = errorFor(t, err, "smtp")
	if !strings.Contains(e.Problem, "no [tables]") {
		t.Errorf("problem = %q", e.Problem)
	}
}

func TestNearestIgnoresCaseAndDashes(t *testing.T) {
	got := nearest("Server-ID", fileKeyNames(), 3)
	if got[0] != "server_id" {
		t.Errorf("nearest = %v", got)
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d", d)
	}
}

func TestMalformedTOMLReportsLineAndColumn(t *testing.T) {
	file := writeFile(t, "d.toml", "server_id = 1\nlisten = \"127.0.0.1:8787\nlog_level = \"info\"\n")
	_, _, err := load(t, file, required)
	e := errorFor(t, err, "config")
	if !regexp.MustCompile(`line 2, column \d+`).MatchString(e.Problem) {
		t.Errorf("problem %q has no line and column", e.Problem)
	}
}

func TestConfigFileLookup(t *testing.T) {
	t.Run("explicit missing file is an error", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope.toml")
		for _, tc := range []struct {
			args []string
			env  []string
		}{
			{[]string{"--config", missing}, required},
			{nil, append(slices.Clone(required), "DXT_CONFIG="+missing)},
		} {
			_, _, err := Load(tc.args, tc.env)
			e := errorFor(t, err, "config")
			if !strings.Contains(e.Problem, missing) {
				t.Errorf("problem %q does not name the file", e.Problem)
			}
		}
	})
	t.Run("DXT_CONFIG names the file", func(t *testing.T) {
		file := writeFile(t, "d.toml", "listen = \"127.0.0.1:9\"\n")
		c, _, err := Load(nil, append(slices.Clone(required), "DXT_CONFIG="+file))
		if err != nil || c.Listen != "127.0.0.1:9" {
			t.Fatalf("Load = %v, %v", c, err)
		}
	})
	t.Run("missing default file is fine", func(t *testing.T) {
		if _, err := os.Stat(DefaultPath); err == nil {
			t.Skip(DefaultPath + " exists on this machine")
		}
		if _, _, err := Load(nil, required); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("missing default file is fine (injected)", func(t *testing.T) {
		l := loader{readFile: func(string, int64) ([]byte, error) { return nil, fs.ErrNotExist }}
		if _, _, err := l.load(flag.NewFlagSet("t", flag.ContinueOnError), nil, required); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRemainingArgsAndHelp(t *testing.T) {
	_, rest, err := load(t, "", required, "--log-level=debug", "extra", "--not-a-flag")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rest, []string{"extra", "--not-a-flag"}) {
		t.Errorf("rest = %q", rest)
	}
	if _, _, err := Load([]string{"-h"}, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
	_, _, err = load(t, "", required, "--sever-id=1")
	if e := errorFor(t, err, "flags"); !strings.Contains(e.Problem, "sever-id") {
		t.Errorf("problem = %q", e.Problem)
	}
	var buf bytes.Buffer
	Usage(&buf)
	for _, k := range keys {
		if !strings.Contains(buf.String(), k.env()) {
			t.Errorf("Usage does not mention %s", k.env())
		}
	}
}

func TestLoadFlagSetKeepsTheCallersFlags(t *testing.T) {
	fset := flag.NewFlagSet("events", flag.ContinueOnError)
	limit := fset.Int("limit", 10, "rows")
	c, _, err := LoadFlagSet(fset, []string{"--config=", "--limit", "3", "--server-id", "9"}, []string{"DXT_MYSQL_DSN=" + goodDSN})
	if err != nil || *limit != 3 || c.ServerID != 9 {
		t.Fatalf("got %d, %v, %v", *limit, c, err)
	}
}

func TestUnknownEnvironmentVariableIsAWarning(t *testing.T) {
	c := mustLoad(t, "", append(slices.Clone(required), "DXT_SEVER_ID=1", "OTHER=1"))
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "DXT_SEVER_ID") || !strings.Contains(c.Warnings[0], "DXT_SERVER_ID") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

func TestMySQLForcesUTCAndTimeouts(t *testing.T) {
	c := mustLoad(t, "", []string{"DXT_SERVER_ID=1",
		"DXT_MYSQL_DSN=dx:pw@tcp(db:3306)/crm?parseTime=false&loc=Local&time_zone=%27SYSTEM%27&readTimeout=5s"})
	m, err := c.MySQL()
	if err != nil {
		t.Fatal(err)
	}
	if !m.ParseTime || m.Loc != time.UTC || m.Params["time_zone"] != "'+00:00'" {
		t.Errorf("not UTC: parseTime=%v loc=%v time_zone=%q", m.ParseTime, m.Loc, m.Params["time_zone"])
	}
	if m.DBName != "crm" || m.User != "dx" || m.Passwd != "pw" || m.Addr != "db:3306" {
		t.Errorf("lost DSN parts: %+v", m)
	}
	if m.Timeout != dialTimeout || m.WriteTimeout != writeTimeout || m.ReadTimeout != 5*time.Second {
		t.Errorf("timeouts = %v %v %v; the DSN's readTimeout must win", m.Timeout, m.ReadTimeout, m.WriteTimeout)
	}
	if !strings.Contains(m.FormatDSN(), "time_zone=%27%2B00%3A00%27") {
		t.Errorf("FormatDSN = %s", m.FormatDSN())
	}
	if _, err := (Config{MySQLDSN: "dx:pw@tcp(db:3306)/"}).MySQL(); !IsConfigError(err) || strings.Contains(err.Error(), "pw") {
		t.Errorf("MySQL without database: err = %v", err)
	}
}

func TestRedactionNeverShowsAPassword(t *testing.T) {
	const dbPass, smtpPass = "s3cr3t-db:p@ss", "smtp-s3cr3t"
	env := []string{"DXT_SERVER_ID=1", "DXT_MYSQL_DSN=dx:" + dbPass + "@tcp(db:3306)/vtiger",
		"DXT_SMTP_USER=dx", "DXT_SMTP_PASSWORD=" + smtpPass, "DXT_SMTP_ADDR=mail:587", "DXT_SMTP_FROM=dx@example.com"}
	c := mustLoad(t, "", env)
	if c.SMTPPassword != smtpPass {
		t.Fatalf("smtp_password = %q", c.SMTPPassword)
	}
	r := c.Redacted()
	if r["mysql_dsn"] != "dx:***@tcp(db:3306)/vtiger" || r["smtp_password"] != "***" {
		t.Errorf("redacted = %v", r)
	}
	for _, k := range keys {
		if _, ok := r[k.name]; !ok {
			t.Errorf("Redacted lacks %s", k.name)
		}
	}
	js, _ := json.Marshal(r)
	for _, s := range []string{string(js), c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, dbPass) || strings.Contains(s, smtpPass) || strings.Contains(s, "s3cr3t") {
			t.Errorf("password shown: %s", s)
		}
	}
	if got := redactDSN("u:p@unix(/run/x.sock)/vt?tls=true"); got != "u:***@unix(/run/x.sock)/vt?tls=true" {
		t.Errorf("redactDSN = %q", got)
	}
	// Errors about secrets do not echo them either.
	_, _, err := load(t, "", []string{"DXT_SERVER_ID=1", "DXT_MYSQL_DSN=dx:" + dbPass + "@tcp(db:3306"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error = %v", err)
	}
}

func TestLoggerWritesUTCJSONAtTheLevel(t *testing.T) {
	var buf bytes.Buffer
	log := Config{LogLevel: "warn", LogFormat: "auto"}.Logger(&buf)
	log.Info().Msg("hidden")
	log.Warn().Str("k", "v").Msg("shown")
	var m map[string]string
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line (auto on a non-terminal is json): %q", buf.String())
	}
	ts, err := time.Parse(time.RFC3339Nano, m["time"])
	if err != nil || !strings.HasSuffix(m["time"], "Z") || time.Since(ts) > time.Minute {
		t.Errorf("time = %q", m["time"])
	}
	if m["message"] != "shown" || m["level"] != "warn" || m["k"] != "v" {
		t.Errorf("line = %v", m)
	}

	buf.Reset()
	clog := Config{LogFormat: "console"}.Logger(&buf)
	clog.Info().Msg("hello")
	if !strings.Contains(buf.String(), "hello") || strings.HasPrefix(buf.String(), "{") {
		t.Errorf("console line = %q", buf.String())
	}
}

func TestExampleFileDocumentsEveryKeyAndLoads(t *testing.T) {
	path := filepath.Join("..", "deploy", "dxtracker.example.toml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range fileKeyNames() {
		if !regexp.MustCompile(`(?m)^#? ?` + name + ` = `).Match(data) {
			t.Errorf("example file does not document %s", name)
		}
	}
	c, _, err := Load([]string{"--config", path}, nil)
	if err != nil {
		t.Fatalf("the example file does not load: %v", err)
	}
	if c.ServerID == 0 || c.MySQLDSN == "" {
		t.Errorf("got %v", c)
	}

	// Every commented-out setting is valid as written: uncomment all but
	// the _file forms (their files do not exist here) and load again.
	re := regexp.MustCompile(`(?m)^# ?([a-z_]+ = .*)$`)
	var lines []string
	for _, m := range re.FindAllSubmatch(data, -1) {
		line := string(m[1])
		if strings.Contains(line, "_file = ") {
			continue
		}
		lines = append(lines, line)
	}
	uncommented := regexp.MustCompile(`(?m)^([a-z_]+) = `).FindAllSubmatch(data, -1)
	seen := map[string]bool{}
	for _, m := range uncommented {
		seen[string(m[1])] = true
	}
	var all []string
	for _, l := range lines {
		name := l[:strings.Index(l, " ")]
		if !seen[name] {
			seen[name] = true
			all = append(all, l)
		}
	}
	full := string(data) + "\n" + strings.Join(all, "\n") + "\n"
	if _, _, err := Load([]string{"--config", writeFile(t, "full.toml", full)}, nil); err != nil {
		t.Fatalf("the example with everything uncommented does not load: %v\n%s", err, full)
	}
}
