package config

import (
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

type kind uint8

const (
	kindString kind = iota
	kindUint32
	kindDuration
	kindList
	kindNumber // a TOML number (or a string holding one, e.g. "off")
)

// key describes one configuration key: its name in the file, how to parse
// it, its default and an example used in error messages.
type key struct {
	name     string
	kind     kind
	def      string // default, in environment form ("" = none)
	required bool
	secret   bool   // never echoed in errors or Redacted
	fileOK   bool   // <name>_file / DXT_<NAME>_FILE / --<name>-file read the value from a file
	noFlag   bool   // no --<name> flag: a secret must not show up in `ps`
	example  string // a good value, in environment form
	usage    string // one line for -h
	// apply parses v into c and returns a problem, or "" when v is good.
	apply func(c *Config, v value) string
}

// value is one setting as read from a source, before parsing.
type value struct {
	text   string   // scalar keys; list keys when given as one string
	list   []string // list keys
	origin string   // where it came from, for messages: "DXT_LISTEN", "--listen", "file /etc/…"
}

// items returns the elements of a list value: the file's array, or the
// comma-separated text of the environment or a flag.
func (v value) items() []string {
	if v.list != nil {
		return v.list
	}
	return splitList(v.text)
}

func splitList(s string) []string {
	out := []string{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (k *key) env() string      { return "DXT_" + strings.ToUpper(k.name) }
func (k *key) fileKey() string  { return k.name + "_file" }
func (k *key) fileEnv() string  { return k.env() + "_FILE" }
func (k *key) flag() string     { return strings.ReplaceAll(k.name, "_", "-") }
func (k *key) fileFlag() string { return k.flag() + "-file" }

// exampleText renders the example for an Error: the file form and the
// environment form. Secrets are shown in their _file form.
func (k *key) exampleText() string {
	if k.example == "" {
		return ""
	}
	if k.secret && k.name != "mysql_dsn" {
		return fmt.Sprintf("%s = %q in the file, or %s=/run/secrets/%s",
			k.fileKey(), "/etc/dxtracker/"+k.name, k.fileEnv(), k.name)
	}
	var lit string
	switch k.kind {
	case kindUint32, kindNumber:
		lit = k.example
	case kindList:
		parts := splitList(k.example)
		for i, p := range parts {
			parts[i] = strconv.Quote(p)
		}
		lit = "[" + strings.Join(parts, ", ") + "]"
	default:
		lit = strconv.Quote(k.example)
	}
	return fmt.Sprintf("%s = %s in the file, or %s=%s", k.name, lit, k.env(), k.example)
}

// keys lists every configuration key, in the order of the example file.
var keys = []*key{
	{name: "mysql_dsn", required: true, secret: true, fileOK: true,
		example: "dxtracker:secret@tcp(127.0.0.1:3306)/vtiger",
		usage:   "go-sql-driver DSN of the Vtiger database, user:pass@tcp(host:port)/vtiger (prefer DXT_MYSQL_DSN or --mysql-dsn-file: flags show in ps)",
		apply: func(c *Config, v value) string {
			if p := checkDSN(v.text); p != "" {
				return p
			}
			c.MySQLDSN = v.text
			return ""
		}},
	{name: "server_id", kind: kindUint32, required: true, example: "4242",
		usage: "replica server id of the binlog connection, 1..4294967295, unique among the server and its replicas",
		apply: func(c *Config, v value) string {
			n, err := strconv.ParseUint(strings.TrimSpace(v.text), 10, 64)
			if err != nil || n == 0 || n > math.MaxUint32 {
				return "must be a number from 1 to 4294967295" + got(v, false)
			}
			c.ServerID = uint32(n)
			return ""
		}},
	{name: "listen", def: "127.0.0.1:8787", example: "127.0.0.1:8787",
		usage: "address of the JSON API and the beacon endpoint",
		apply: func(c *Config, v value) string {
			s := strings.TrimSpace(v.text)
			if p := checkHostPort(s, true); p != "" {
				return p + got(v, false)
			}
			c.Listen = s
			return ""
		}},
	{name: "beacon_listen", example: "0.0.0.0:8788",
		usage: "optional second listener that serves only beacons (e.g. reachable from browsers)",
		apply: func(c *Config, v value) string {
			s := strings.TrimSpace(v.text)
			if s == "" {
				c.BeaconListen = ""
				return ""
			}
			if p := checkHostPort(s, true); p != "" {
				return p + got(v, false)
			}
			c.BeaconListen = s
			return ""
		}},
	{name: "tls_cert", example: "/etc/dxtracker/tls/cert.pem",
		usage: "PEM certificate (chain) for HTTPS; with tls_key",
		apply: func(c *Config, v value) string { c.TLSCert = strings.TrimSpace(v.text); return "" }},
	{name: "tls_key", example: "/etc/dxtracker/tls/key.pem",
		usage: "PEM private key file for HTTPS; with tls_cert",
		apply: func(c *Config, v value) string { c.TLSKey = strings.TrimSpace(v.text); return "" }},
	{name: "smtp_addr", example: "mail.example.com:587",
		usage: "SMTP server host:port for notifications (empty: no mail)",
		apply: func(c *Config, v value) string {
			s := strings.TrimSpace(v.text)
			if s == "" {
				c.SMTPAddr = ""
				return ""
			}
			if p := checkHostPort(s, false); p != "" {
				return p + got(v, false)
			}
			c.SMTPAddr = s
			return ""
		}},
	{name: "smtp_user", example: "dxtracker@example.com",
		usage: "SMTP AUTH user name (empty: no AUTH)",
		apply: func(c *Config, v value) string { c.SMTPUser = strings.TrimSpace(v.text); return "" }},
	{name: "smtp_password", secret: true, fileOK: true, noFlag: true, example: "secret",
		usage: "SMTP AUTH password; from DXT_SMTP_PASSWORD, DXT_SMTP_PASSWORD_FILE or --smtp-password-file",
		apply: func(c *Config, v value) string { c.SMTPPassword = v.text; return "" }},
	{name: "smtp_from", example: "dxtracker@example.com",
		usage: "sender address of notifications",
		apply: func(c *Config, v value) string {
			s := strings.TrimSpace(v.text)
			if s != "" {
				if _, err := mail.ParseAddress(s); err != nil {
					return "must be an e-mail address" + got(v, false)
				}
			}
			c.SMTPFrom = s
			return ""
		}},
	{name: "smtp_tls", def: "starttls", example: "starttls",
		usage: "starttls (port 587), tls (port 465) or none",
		apply: enum(func(c *Config) *string { return &c.SMTPTLS }, "starttls", "tls", "none")},
	{name: "smtp_timeout", kind: kindDuration, def: "30s", example: "30s",
		usage: "time allowed for one SMTP conversation or webhook POST",
		apply: duration(func(c *Config) *time.Duration { return &c.SMTPTimeout }, time.Second, 10*time.Minute)},
	{name: "notify_retry_base", kind: kindDuration, def: "30s", example: "30s",
		usage: "first wait after a failed mail or webhook delivery; doubles up to 1h, for up to 24h",
		apply: duration(func(c *Config) *time.Duration { return &c.NotifyRetryBase }, time.Second, time.Hour)},
	{name: "webhook_secret", secret: true, fileOK: true, noFlag: true, example: "secret",
		usage: "HMAC-SHA256 key that signs webhook notifications; from DXT_WEBHOOK_SECRET, DXT_WEBHOOK_SECRET_FILE or --webhook-secret-file",
		apply: func(c *Config, v value) string {
			if v.text != "" && len(v.text) < 16 {
				return "must be at least 16 characters"
			}
			c.WebhookSecret = v.text
			return ""
		}},
	{name: "beacon_user_rate", kind: kindNumber, def: "20", example: "20",
		usage: "beacons per second per Vtiger user, or off",
		apply: rate(func(c *Config) *float64 { return &c.BeaconUserRate })},
	{name: "beacon_user_burst", kind: kindNumber, def: "60", example: "60",
		usage: "beacons a user may send at once",
		apply: count(func(c *Config) *int { return &c.BeaconUserBurst }, 1, 1_000_000)},
	{name: "beacon_ip_rate", kind: kindNumber, def: "200", example: "200",
		usage: "beacons per second per client address (IPv6: per /64), or off",
		apply: rate(func(c *Config) *float64 { return &c.BeaconIPRate })},
	{name: "beacon_ip_burst", kind: kindNumber, def: "400", example: "400",
		usage: "beacons an address may send at once",
		apply: count(func(c *Config) *int { return &c.BeaconIPBurst }, 1, 1_000_000)},
	{name: "beacon_queue", kind: kindNumber, def: "8192", example: "8192",
		usage: "beacons that may wait for the database writer before new ones get 429",
		apply: count(func(c *Config) *int { return &c.BeaconQueue }, 1, 1_000_000)},
	{name: "beacon_memory_mb", kind: kindNumber, def: "64", example: "64",
		usage: "MiB all beacons in flight may take before new ones get 429",
		apply: count(func(c *Config) *int { return &c.BeaconMemoryMB }, 1, 65536)},
	{name: "beacon_writers", kind: kindNumber, def: "2", example: "2",
		usage: "beacon transactions under way at once",
		apply: count(func(c *Config) *int { return &c.BeaconWriters }, 1, 64)},
	{name: "log_level", def: "info", example: "info",
		usage: "debug, info, warn or error",
		apply: enum(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{name: "log_format", def: "auto", example: "json",
		usage: "auto (console on a terminal, else json), json or console",
		apply: enum(func(c *Config) *string { return &c.LogFormat }, "auto", "json", "console")},
	{name: "flavor", def: "auto", example: "mariadb",
		usage: "database server flavor: auto (ask the server), mariadb or mysql",
		apply: enum(func(c *Config) *string { return &c.Flavor }, "auto", "mariadb", "mysql")},
	{name: "trusted_proxies", kind: kindList, example: "127.0.0.1,10.0.0.0/8",
		usage: "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed",
		apply: func(c *Config, v value) string {
			var out []netip.Prefix
			for _, s := range v.items() {
				p, ok := parsePrefix(s)
				if !ok {
					return fmt.Sprintf("%q is not an IP address or CIDR", s)
				}
				out = append(out, p)
			}
			c.TrustedProxies = out
			return ""
		}},
	{name: "allowed_origins", kind: kindList, example: "https://crm.example.com",
		usage: "comma-separated origins (scheme://host[:port]) of Vtiger pages allowed to call the daemon (CORS)",
		apply: func(c *Config, v value) string {
			var out []string
			for _, s := range v.items() {
				o, ok := parseOrigin(s)
				if !ok {
					return fmt.Sprintf("%q is not an origin: want scheme://host[:port], http or https, no path", s)
				}
				out = append(out, o)
			}
			c.AllowedOrigins = out
			return ""
		}},
	{name: "vtiger_url", example: "https://crm.example.com",
		usage: "base URL of Vtiger, for links in mails",
		apply: func(c *Config, v value) string {
			s := strings.TrimSpace(v.text)
			if s == "" {
				c.VtigerURL = ""
				return ""
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				return "must be an http or https URL without query" + got(v, false)
			}
			c.VtigerURL = strings.TrimRight(s, "/")
			return ""
		}},
	{name: "heartbeat", kind: kindDuration, def: "5s", example: "5s",
		usage: "binlog heartbeat period; a silent stream is reconnected after a few of these",
		apply: duration(func(c *Config) *time.Duration { return &c.Heartbeat }, 100*time.Millisecond, time.Hour)},
	{name: "schedule_merge_window", kind: kindDuration, def: "10m", example: "10m",
		usage: "how far apart a scheduled report's binlog update and the probe's capture may be and still be one event",
		apply: duration(func(c *Config) *time.Duration { return &c.ScheduleMergeWindow }, time.Second, 24*time.Hour)},
	{name: "shutdown_timeout", kind: kindDuration, def: "15s", example: "15s",
		usage: "how long a shutdown may wait for requests and mail in flight",
		apply: duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, time.Second, time.Hour)},
}

// keyByName maps file key names to keys.
var keyByName = func() map[string]*key {
	m := make(map[string]*key, len(keys))
	for _, k := range keys {
		m[k.name] = k
	}
	return m
}()

// fileKeyNames lists every name valid in the file, for suggestions.
func fileKeyNames() []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.name)
		if k.fileOK {
			out = append(out, k.fileKey())
		}
	}
	return out
}

// got describes the offending value for a problem message, never a secret.
func got(v value, secret bool) string {
	where := ""
	if v.origin != "" {
		where = " from " + v.origin
	}
	if secret {
		return ", got a bad value" + where
	}
	s := v.text
	if v.list != nil {
		s = strings.Join(v.list, ",")
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf(", got %q%s", s, where)
}

func enum(field func(*Config) *string, allowed ...string) func(*Config, value) string {
	return func(c *Config, v value) string {
		s := strings.ToLower(strings.TrimSpace(v.text))
		for _, a := range allowed {
			if s == a {
				*field(c) = s
				return ""
			}
		}
		return "must be one of " + strings.Join(allowed, ", ") + got(v, false)
	}
}

func duration(field func(*Config) *time.Duration, lo, hi time.Duration) func(*Config, value) string {
	return func(c *Config, v value) string {
		d, err := time.ParseDuration(strings.TrimSpace(v.text))
		if err != nil || d < lo || d > hi {
			return fmt.Sprintf("must be a duration from %s to %s such as 30s or 5m", fmtDur(lo), fmtDur(hi)) + got(v, false)
		}
		*field(c) = d
		return ""
	}
}

// rate parses a positive number per second, or "off" (stored as -1).
func rate(field func(*Config) *float64) func(*Config, value) string {
	return func(c *Config, v value) string {
		s := strings.ToLower(strings.TrimSpace(v.text))
		if s == "off" {
			*field(c) = -1
			return ""
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 || f > 1e9 || math.IsNaN(f) {
			return "must be a positive number (per second) or off" + got(v, false)
		}
		*field(c) = f
		return ""
	}
}

// count parses a whole number in [lo, hi].
func count(field func(*Config) *int, lo, hi int) func(*Config, value) string {
	return func(c *Config, v value) string {
		n, err := strconv.Atoi(strings.TrimSpace(v.text))
		if err != nil || n < lo || n > hi {
			return fmt.Sprintf("must be a whole number from %d to %d", lo, hi) + got(v, false)
		}
		*field(c) = n
		return ""
	}
}

// fmtDur prints whole units without the zero tails of Duration.String.
func fmtDur(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// checkHostPort accepts host:port with a numeric port; the host may be empty
// (all interfaces) only for listeners.
func checkHostPort(s string, listener bool) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be host:port"
	}
	if host == "" && !listener {
		return "must be host:port with a host name"
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || (n == 0 && !listener) {
		return "must be host:port with a numeric port"
	}
	return ""
}

// parsePrefix reads a CIDR or a single address (as a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseOrigin normalises an origin to lower-case scheme://host[:port].
func parseOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || (u.Path != "" && u.Path != "/") {
		return "", false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", false
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// checkDSN validates a go-sql-driver DSN without ever quoting it: the DSN
// holds the password.
func checkDSN(dsn string) string {
	if strings.TrimSpace(dsn) == "" {
		return "is required"
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's own message may quote parts of the DSN, so it is
		// not passed on.
		p := "is not a go-sql-driver DSN (user:pass@tcp(host:port)/vtiger)"
		if !strings.Contains(dsn, "/") {
			p += ": the slash before the database name is missing"
		}
		return p
	}
	if cfg.DBName == "" {
		return "names no database: put the Vtiger database after the slash, user:pass@tcp(host:port)/vtiger"
	}
	return ""
}
