package tracker

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Names of the dxt_config keys (CONTRACTS §4). The Settings page, the probe
// and the daemon all read these rows.
const (
	KeyTrackListviewExport   = "track_listview_export"
	KeyTrackReportExport     = "track_report_export"
	KeyTrackScheduledReports = "track_scheduled_reports"
	KeyTrackCopy             = "track_copy"
	KeyNotifyAdminEmail      = "notify_admin_email"
	KeyNotifyMinRecords      = "notify_min_records"
	KeyCaptureContent        = "capture_content"
	KeyCaptureMaxBytes       = "capture_max_bytes"
	KeyCopyMaxChars          = "copy_max_chars"
	KeyRetentionDays         = "retention_days"
	KeyRetentionSchedule     = "retention_schedule"
	KeyRetentionTimezone     = "retention_timezone"
	KeyRetentionBatch        = "retention_batch"
	KeyContentMaxMB          = "content_max_mb"
	KeyCompanyDomains        = "company_domains"
	KeyBeaconURL             = "beacon_url"
	KeyTrustedProxies        = "trusted_proxies"
	KeyBeaconSecret          = "beacon_secret"

	KeyNotifyLanguage      = "notify_language"
	KeyNotifyAttachContent = "notify_attach_content"
	KeyNotifyMaxPerMinute  = "notify_max_per_minute"
	KeyNotifyWebhookURL    = "notify_webhook_url"
	KeyDigestEnabled       = "digest_enabled"
	KeyDigestSchedule      = "digest_schedule"
	KeyDigestTimezone      = "digest_timezone"
	KeyAnchorEnabled       = "anchor_enabled"
)

// ConfigKey describes one dxt_config row.
type ConfigKey struct {
	Name     string
	Default  string
	Secret   bool // never shown by the API
	validate func(string) (string, error)
}

var configKeys = []ConfigKey{
	{Name: KeyTrackListviewExport, Default: "1", validate: validBool},
	{Name: KeyTrackReportExport, Default: "1", validate: validBool},
	{Name: KeyTrackScheduledReports, Default: "1", validate: validBool},
	{Name: KeyTrackCopy, Default: "1", validate: validBool},
	{Name: KeyNotifyAdminEmail, Default: "", validate: validEmails},
	{Name: KeyNotifyMinRecords, Default: "0", validate: validInt(0, 1<<31-1)},
	{Name: KeyCaptureContent, Default: "1", validate: validBool},
	{Name: KeyCaptureMaxBytes, Default: "104857600", validate: validInt(0, 1<<40)},
	{Name: KeyCopyMaxChars, Default: "65536", validate: validInt(0, 10<<20)},
	{Name: KeyRetentionDays, Default: "365", validate: validInt(1, 36500)},
	// Retention (package retention): when the purge runs, in which zone,
	// how many rows one short transaction deletes, and a cap on the stored
	// (compressed) size of captured content in MiB, 0 = no cap.
	{Name: KeyRetentionSchedule, Default: "17 3 * * *", validate: validCron},
	{Name: KeyRetentionTimezone, Default: "UTC", validate: validTimezone},
	{Name: KeyRetentionBatch, Default: "1000", validate: validInt(100, 10000)},
	{Name: KeyContentMaxMB, Default: "0", validate: validInt(0, 1<<30)},
	{Name: KeyCompanyDomains, Default: "", validate: validDomains},
	// Where tracker.js posts beacons: "" = the same-origin proxy path
	// /dxtracker/api/v1/beacons, "relay" = the extension's relay action, or
	// a path or http(s) URL of the daemon's beacon listener.
	{Name: KeyBeaconURL, Default: "", validate: validBeaconURL},
	// Proxies whose X-Forwarded-For the probe and the relay trust (CIDRs).
	{Name: KeyTrustedProxies, Default: "", validate: validCIDRs},
	{Name: KeyBeaconSecret, Secret: true, validate: validSecret},
	// Notifications (rules and mail). The webhook's signing key is a
	// daemon secret (webhook_secret in the config file), never a row here.
	{Name: KeyNotifyLanguage, Default: "en", validate: validEnum("en", "ja")},
	{Name: KeyNotifyAttachContent, Default: "0", validate: validBool},
	{Name: KeyNotifyMaxPerMinute, Default: "10", validate: validInt(1, 10000)},
	{Name: KeyNotifyWebhookURL, Default: "", validate: validWebhookURL},
	{Name: KeyDigestEnabled, Default: "0", validate: validBool},
	{Name: KeyDigestSchedule, Default: "0 8 * * *", validate: validCron},
	{Name: KeyDigestTimezone, Default: "UTC", validate: validTimezone},
	// The daily tamper-evidence anchor (package chain), on the digest's
	// schedule, to the same recipients.
	{Name: KeyAnchorEnabled, Default: "1", validate: validBool},
}

// ConfigKeys lists every known key in a stable order.
func ConfigKeys() []ConfigKey { return configKeys }

func lookupKey(name string) (ConfigKey, bool) {
	for _, k := range configKeys {
		if k.Name == name {
			return k, true
		}
	}
	return ConfigKey{}, false
}

// ValidateConfigValue checks and normalises one value for name. The error
// says what a right value looks like, because it reaches the administrator.
func ValidateConfigValue(name, value string) (string, error) {
	k, ok := lookupKey(name)
	if !ok {
		return "", fmt.Errorf("unknown setting %q", name)
	}
	v, err := k.validate(strings.TrimSpace(value))
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

func validBool(v string) (string, error) {
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		return "1", nil
	case "0", "false", "off", "no", "":
		return "0", nil
	}
	return "", fmt.Errorf("want 1 or 0, got %q", v)
}

func validInt(min, max int64) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min || n > max {
			return "", fmt.Errorf("want a whole number from %d to %d, got %q", min, max, v)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

func validEmails(v string) (string, error) {
	list := SplitList(v)
	for _, a := range list {
		addr, err := mail.ParseAddress(a)
		if err != nil || addr.Address != a || !strings.Contains(a, "@") {
			return "", fmt.Errorf("%q is not an e-mail address (want e.g. security@example.com, several separated by commas)", a)
		}
	}
	return strings.Join(list, ","), nil
}

func validDomains(v string) (string, error) {
	list := SplitList(strings.ToLower(v))
	for _, d := range list {
		if strings.ContainsAny(d, "@/ :") || !strings.Contains(d, ".") {
			return "", fmt.Errorf("%q is not a mail domain (want e.g. example.com, several separated by commas)", d)
		}
	}
	return strings.Join(list, ","), nil
}

func validBeaconURL(v string) (string, error) {
	switch {
	case v == "" || v == "relay":
		return v, nil
	case strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//"):
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("want empty, relay, a path like /dxtracker/api/v1/beacons or an http(s) URL, got %q", v)
	}
	return v, nil
}

func validCIDRs(v string) (string, error) {
	list := SplitList(v)
	for i, c := range list {
		if p, err := netip.ParsePrefix(c); err == nil {
			list[i] = p.Masked().String()
			continue
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return "", fmt.Errorf("%q is not an IP address or CIDR (want e.g. 10.0.0.0/8, 192.0.2.10)", c)
		}
		list[i] = netip.PrefixFrom(a, a.BitLen()).String()
	}
	return strings.Join(list, ","), nil
}

func validEnum(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		lv := strings.ToLower(v)
		for _, a := range allowed {
			if lv == a {
				return a, nil
			}
		}
		return "", fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func validWebhookURL(v string) (string, error) {
	if v == "" {
		return v, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("want empty or an http(s) URL without credentials, e.g. https://hooks.example.com/dxt, got %q", v)
	}
	return v, nil
}

func validCron(v string) (string, error) {
	if _, err := cron.ParseStandard(v); err != nil {
		return "", fmt.Errorf("want a cron schedule of five fields such as \"0 8 * * *\" (08:00 daily) or \"30 7 * * 1-5\": %v", err)
	}
	return v, nil
}

func validTimezone(v string) (string, error) {
	if v == "" || strings.EqualFold(v, "local") {
		return "", fmt.Errorf("want an IANA time zone such as Asia/Tokyo or UTC, got %q", v)
	}
	if _, err := time.LoadLocation(v); err != nil {
		return "", fmt.Errorf("want an IANA time zone such as Asia/Tokyo or UTC, got %q", v)
	}
	return v, nil
}

func validSecret(v string) (string, error) {
	if len(v) < 32 {
		return "", fmt.Errorf("want at least 32 characters")
	}
	return v, nil
}

// SplitList splits a comma- or semicolon-separated list, trimming blanks.
func SplitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Settings is a parsed snapshot of dxt_config.
type Settings struct {
	TrackListviewExport   bool
	TrackReportExport     bool
	TrackScheduledReports bool
	TrackCopy             bool
	NotifyAdminEmail      []string
	NotifyMinRecords      int64
	CaptureContent        bool
	CaptureMaxBytes       int64
	CopyMaxChars          int64
	RetentionDays         int64
	RetentionSchedule     string
	RetentionTimezone     string
	RetentionBatch        int64
	ContentMaxMB          int64
	CompanyDomains        []string
	BeaconSecret          string

	NotifyLanguage      string // en | ja
	NotifyAttachContent bool
	NotifyMaxPerMinute  int64
	NotifyWebhookURL    string
	DigestEnabled       bool
	DigestSchedule      string
	DigestTimezone      string
}

// Tracks reports whether events of the given type are enabled.
func (s Settings) Tracks(eventType string) bool {
	switch eventType {
	case TypeListviewExport:
		return s.TrackListviewExport
	case TypeReportExport:
		return s.TrackReportExport
	case TypeScheduledReport:
		return s.TrackScheduledReports
	case TypeCopy:
		return s.TrackCopy
	}
	return true
}

// ParseSettings builds Settings from raw rows; missing or invalid values fall
// back to defaults so a hand-edited row cannot stop tracking.
func ParseSettings(raw map[string]string) Settings {
	get := func(name string) string {
		k, _ := lookupKey(name)
		v, ok := raw[name]
		if !ok {
			return k.Default
		}
		if nv, err := k.validate(strings.TrimSpace(v)); err == nil {
			return nv
		}
		return k.Default
	}
	num := func(name string) int64 { n, _ := strconv.ParseInt(get(name), 10, 64); return n }
	return Settings{
		TrackListviewExport:   get(KeyTrackListviewExport) == "1",
		TrackReportExport:     get(KeyTrackReportExport) == "1",
		TrackScheduledReports: get(KeyTrackScheduledReports) == "1",
		TrackCopy:             get(KeyTrackCopy) == "1",
		NotifyAdminEmail:      SplitList(get(KeyNotifyAdminEmail)),
		NotifyMinRecords:      num(KeyNotifyMinRecords),
		CaptureContent:        get(KeyCaptureContent) == "1",
		CaptureMaxBytes:       num(KeyCaptureMaxBytes),
		CopyMaxChars:          num(KeyCopyMaxChars),
		RetentionDays:         num(KeyRetentionDays),
		RetentionSchedule:     get(KeyRetentionSchedule),
		RetentionTimezone:     get(KeyRetentionTimezone),
		RetentionBatch:        num(KeyRetentionBatch),
		ContentMaxMB:          num(KeyContentMaxMB),
		CompanyDomains:        SplitList(get(KeyCompanyDomains)),
		BeaconSecret:          raw[KeyBeaconSecret],
		NotifyLanguage:        get(KeyNotifyLanguage),
		NotifyAttachContent:   get(KeyNotifyAttachContent) == "1",
		NotifyMaxPerMinute:    num(KeyNotifyMaxPerMinute),
		NotifyWebhookURL:      get(KeyNotifyWebhookURL),
		DigestEnabled:         get(KeyDigestEnabled) == "1",
		DigestSchedule:        get(KeyDigestSchedule),
		DigestTimezone:        get(KeyDigestTimezone),
	}
}

// ReadConfig returns the raw dxt_config rows.
func ReadConfig(ctx context.Context, q Querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, value FROM dxt_config`)
	if err != nil {
		return nil, fmt.Errorf("read dxt_config: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, v string
		if err := rows.Scan(&n, &v); err != nil {
			return nil, fmt.Errorf("read dxt_config: %w", err)
		}
		out[n] = v
	}
	return out, rows.Err()
}

// PublicConfig returns the keys the API may show (every key but secrets).
func PublicConfig(raw map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range configKeys {
		if k.Secret {
			continue
		}
		v, ok := raw[k.Name]
		if !ok {
			v = k.Default
		}
		out[k.Name] = v
	}
	return out
}

// WriteConfig validates and stores several keys in one transaction; nothing
// is written if any value is wrong.
func WriteConfig(ctx context.Context, db *sql.DB, values map[string]string) (map[string]string, error) {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	clean := map[string]string{}
	for _, n := range names {
		k, ok := lookupKey(n)
		if !ok || k.Secret {
			return nil, fmt.Errorf("unknown or read-only setting %q", n)
		}
		v, err := ValidateConfigValue(n, values[n])
		if err != nil {
			return nil, err
		}
		clean[n] = v
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("write dxt_config: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dxt_config (name, value, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`, n, clean[n]); err != nil {
			return nil, fmt.Errorf("write dxt_config %s: %w", n, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("write dxt_config: %w", err)
	}
	return clean, nil
}

// Querier is what read helpers need: *sql.DB, *sql.Tx and *sql.Conn all fit.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
