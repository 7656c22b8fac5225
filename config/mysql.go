package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Connection timeouts used unless the DSN sets its own.
const (
	dialTimeout  = 10 * time.Second
	readTimeout  = 60 * time.Second
	writeTimeout = 60 * time.Second
)

const redacted = "***"

// MySQL parses MySQLDSN for database/sql (mysql.NewConnector) and normalises
// it: parseTime=true, loc=UTC and the session time zone '+00:00' are forced,
// so DATETIME values mean UTC whatever the DSN says; dial, read and write
// timeouts get defaults when the DSN has none. The database name, which is
// required, is the Vtiger database. Errors never quote the DSN.
func (c Config) MySQL() (*mysql.Config, error) {
	if p := checkDSN(c.MySQLDSN); p != "" {
		return nil, &Error{Key: "mysql_dsn", Problem: p, Example: keyByName["mysql_dsn"].exampleText()}
	}
	cfg, err := mysql.ParseDSN(c.MySQLDSN)
	if err != nil { // checkDSN parsed it already
		return nil, &Error{Key: "mysql_dsn", Problem: "is not a go-sql-driver DSN"}
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// Client-side interpolation saves the prepare and close round trips of
	// every parameterised statement; safe with the utf8mb4 connection charset.
	cfg.InterpolateParams = true
	if err := cfg.Apply(mysql.AddParam("time_zone", "'+00:00'")); err != nil {
		return nil, fmt.Errorf("config: mysql_dsn: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = dialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = readTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = writeTimeout
	}
	return cfg, nil
}

// Redacted returns every key with its value as text, for logging at
// start-up: passwords and the DSN's password are replaced by "***".
func (c Config) Redacted() map[string]string {
	prefixes := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		prefixes[i] = p.String()
	}
	secret := func(s string) string {
		if s == "" {
			return ""
		}
		return redacted
	}
	return map[string]string{
		"mysql_dsn":             redactDSN(c.MySQLDSN),
		"server_id":             strconv.FormatUint(uint64(c.ServerID), 10),
		"listen":                c.Listen,
		"beacon_listen":         c.BeaconListen,
		"tls_cert":              c.TLSCert,
		"tls_key":               c.TLSKey,
		"smtp_addr":             c.SMTPAddr,
		"smtp_user":             c.SMTPUser,
		"smtp_password":         secret(c.SMTPPassword),
		"smtp_from":             c.SMTPFrom,
		"smtp_tls":              c.SMTPTLS,
		"smtp_timeout":          c.SMTPTimeout.String(),
		"notify_retry_base":     c.NotifyRetryBase.String(),
		"webhook_secret":        secret(c.WebhookSecret),
		"beacon_user_rate":      fmtRate(c.BeaconUserRate),
		"beacon_user_burst":     strconv.Itoa(c.BeaconUserBurst),
		"beacon_ip_rate":        fmtRate(c.BeaconIPRate),
		"beacon_ip_burst":       strconv.Itoa(c.BeaconIPBurst),
		"beacon_queue":          strconv.Itoa(c.BeaconQueue),
		"beacon_memory_mb":      strconv.Itoa(c.BeaconMemoryMB),
		"beacon_writers":        strconv.Itoa(c.BeaconWriters),
		"log_level":             c.LogLevel,
		"log_format":            c.LogFormat,
		"flavor":                c.Flavor,
		"trusted_proxies":       strings.Join(prefixes, ","),
		"allowed_origins":       strings.Join(c.AllowedOrigins, ","),
		"vtiger_url":            c.VtigerURL,
		"heartbeat":             c.Heartbeat.String(),
		"schedule_merge_window": c.ScheduleMergeWindow.String(),
		"shutdown_timeout":      c.ShutdownTimeout.String(),
	}
}

// String prints the redacted configuration, so that a Config that ends up in
// a log line or a panic message by accident shows no secret.
func (c Config) String() string {
	r := c.Redacted()
	var b strings.Builder
	b.WriteString("config{")
	for i, k := range slices.Sorted(maps.Keys(r)) {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%q", k, r[k])
	}
	b.WriteString("}")
	return b.String()
}

// GoString makes %#v redacted too.
func (c Config) GoString() string { return c.String() }

// redactDSN replaces the password of a DSN with ***. A DSN that does not
// parse is hidden whole: where its password is cannot be known.
func redactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return redacted
	}
	if cfg.Passwd != "" {
		cfg.Passwd = redacted
	}
	return cfg.FormatDSN()
}

// dsnHasPassword reports whether dsn carries a password. A DSN that does not
// parse says no here and is reported as malformed later.
func dsnHasPassword(dsn string) bool {
	cfg, err := mysql.ParseDSN(dsn)
	return err == nil && cfg.Passwd != ""
}

// IsConfigError reports whether err is (or wraps) a configuration *Error,
// for mapping to ExitConfig.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func fmtRate(r float64) string {
	if r < 0 {
		return "off"
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}
