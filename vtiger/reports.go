package vtiger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// Schedule types of vtiger_schedulereports.scheduleid
// (Reports_ScheduleReports_Model::$SCHEDULED_*).
const (
	ScheduleDaily          = 1
	ScheduleWeekly         = 2
	ScheduleMonthlyByDate  = 3
	ScheduleAnnually       = 4
	ScheduleOnSpecificDate = 5
)

// Report is a row of vtiger_report with its primary module.
type Report struct {
	ID            int64
	Name          string // HTML entities decoded, as Vtiger shows it
	PrimaryModule string // vtiger_reportmodules.primarymodule ("" when missing)
	FolderID      int64
	Owner         int64 // vtiger_report.owner: the user who owns (and schedules) the report
}

// Schedule is a row of vtiger_schedulereports. The text columns are kept as
// stored (JSON); SchTime is the wall-clock time "15:04:05" in the time zone
// of Vtiger's active admin user, as entered.
type Schedule struct {
	ReportID        int64
	ScheduleType    int
	Recipients      string // JSON list: "USER::1", "GROUP::3", "ROLE::H2"
	SpecificEmails  string // JSON string of comma-separated addresses
	SchDate         string // JSON list with one "2006-01-02" (type 5)
	SchDayOfWeek    string // JSON list of "1" (Monday) .. "7" (Sunday)
	SchDayOfMonth   string // JSON list of "1" .. "31"
	SchAnnualDates  string // JSON list of "2006-01-02"
	SchTime         string
	NextTriggerTime *time.Time // UTC; nil when NULL or zero
	FileFormat      string     // "CSV" or "XLS"
}

// ErrMalformed marks Vtiger data this package cannot read as Vtiger writes
// it (for example broken JSON in vtiger_schedulereports). Test with
// errors.Is; a *ColumnError says where.
var ErrMalformed = errors.New("malformed")

// ColumnError is malformed data in one column of one report's schedule.
type ColumnError struct {
	ReportID int64
	Column   string // e.g. "recipients", "specificemails"
	Err      error
}

func (e *ColumnError) Error() string {
	return fmt.Sprintf("vtiger: report %d: vtiger_schedulereports.%s: %v", e.ReportID, e.Column, e.Err)
}

func (e *ColumnError) Unwrap() error { return e.Err }

// Report returns the report with that id.
func (d *Directory) Report(ctx context.Context, id int64) (Report, bool, error) {
	var r Report
	err := d.db.QueryRowContext(ctx, `SELECT r.reportid, COALESCE(r.reportname, ''), r.folderid,
			COALESCE(m.primarymodule, ''), COALESCE(r.owner, 0)
		FROM vtiger_report r LEFT JOIN vtiger_reportmodules m ON m.reportmodulesid = r.reportid
		WHERE r.reportid = ?`, id).Scan(&r.ID, &r.Name, &r.FolderID, &r.PrimaryModule, &r.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("vtiger: report %d: %w", id, err)
	}
	r.Name = html.UnescapeString(r.Name) // Vtiger stores HTML-encoded text and shows it decode_html'd
	return r, true, nil
}

// scheduleColumns are scanned by scanSchedule. UNIX_TIMESTAMP reads the
// TIMESTAMP as an instant whatever the session time zone.
const scheduleColumns = `reportid, scheduleid, recipients, specificemails, schdate, schdayoftheweek,
	schdayofthemonth, schannualdates, CAST(schtime AS CHAR), UNIX_TIMESTAMP(next_trigger_time), fileformat`

func scanSchedule(sc interface{ Scan(...any) error }) (Schedule, error) {
	var (
		s                                          Schedule
		schedType                                  sql.NullInt64
		recip, spec, date, dow, dom, annual, tm, f sql.NullString
		next                                       sql.NullString
	)
	if err := sc.Scan(&s.ReportID, &schedType, &recip, &spec, &date, &dow, &dom, &annual, &tm, &next, &f); err != nil {
		return Schedule{}, err
	}
	s.ScheduleType = int(schedType.Int64)
	s.Recipients, s.SpecificEmails = recip.String, spec.String
	s.SchDate, s.SchDayOfWeek, s.SchDayOfMonth, s.SchAnnualDates = date.String, dow.String, dom.String, annual.String
	s.SchTime, s.FileFormat = tm.String, f.String
	if next.Valid {
		t, err := parseUnixSeconds(next.String)
		if err != nil {
			return Schedule{}, fmt.Errorf("next_trigger_time: %w", err)
		}
		s.NextTriggerTime = t
	}
	return s, nil
}

// parseUnixSeconds reads UNIX_TIMESTAMP's "1796412240" or
// "1796412240.000000"; 0 (a zero TIMESTAMP) is nil.
func parseUnixSeconds(v string) (*time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, err
	}
	if f <= 0 {
		return nil, nil
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
	return &t, nil
}

// Schedules returns every row of vtiger_schedulereports, by report id.
// Rows without a report id are skipped.
func (d *Directory) Schedules(ctx context.Context) ([]Schedule, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+scheduleColumns+` FROM vtiger_schedulereports
		WHERE reportid IS NOT NULL ORDER BY reportid`)
	if err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_schedulereports: %w", err)
	}
	defer rows.Close()
	var out []Schedule
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, fmt.Errorf("vtiger: read vtiger_schedulereports: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_schedulereports: %w", err)
	}
	return out, nil
}

// Schedule returns the schedule of one report. Like Vtiger
// (Reports_ScheduleReports_Model::getInstanceById) it takes the first row
// when the table has several for the report.
func (d *Directory) Schedule(ctx context.Context, reportID int64) (Schedule, bool, error) {
	s, err := scanSchedule(d.db.QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM vtiger_schedulereports
		WHERE reportid = ? LIMIT 1`, reportID))
	if errors.Is(err, sql.ErrNoRows) {
		return Schedule{}, false, nil
	}
	if err != nil {
		return Schedule{}, false, fmt.Errorf("vtiger: schedule of report %d: %w", reportID, err)
	}
	return s, true, nil
}

// ParseScheduleRow builds a Schedule from a binlog row image of
// vtiger_schedulereports (column name -> value as go-mysql decodes it:
// integers of any width, string or []byte text, TIMESTAMP as
// "2006-01-02 15:04:05" in UTC or a time.Time, nil for NULL). Columns that
// are absent read as NULL, except reportid, which is required.
func ParseScheduleRow(row map[string]any) (Schedule, error) {
	var s Schedule
	id, ok, err := rowInt(row, "reportid")
	if err != nil {
		return Schedule{}, err
	}
	if !ok {
		return Schedule{}, fmt.Errorf("vtiger: vtiger_schedulereports row without reportid: %w", ErrMalformed)
	}
	s.ReportID = id
	typ, _, err := rowInt(row, "scheduleid")
	if err != nil {
		return Schedule{}, err
	}
	s.ScheduleType = int(typ)
	for _, c := range []struct {
		name string
		dst  *string
	}{
		{"recipients", &s.Recipients}, {"specificemails", &s.SpecificEmails}, {"schdate", &s.SchDate},
		{"schdayoftheweek", &s.SchDayOfWeek}, {"schdayofthemonth", &s.SchDayOfMonth},
		{"schannualdates", &s.SchAnnualDates}, {"schtime", &s.SchTime}, {"fileformat", &s.FileFormat},
	} {
		if *c.dst, err = rowText(row, c.name); err != nil {
			return Schedule{}, err
		}
	}
	if s.NextTriggerTime, err = rowTimestamp(row, "next_trigger_time"); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

func rowInt(row map[string]any, col string) (int64, bool, error) {
	bad := func(v any) error {
		return fmt.Errorf("vtiger: vtiger_schedulereports.%s: unexpected value %v (%T): %w", col, v, v, ErrMalformed)
	}
	switch v := row[col].(type) {
	case nil:
		return 0, false, nil
	case int64:
		return v, true, nil
	case int32:
		return int64(v), true, nil
	case int16:
		return int64(v), true, nil
	case int8:
		return int64(v), true, nil
	case int:
		return int64(v), true, nil
	case uint64:
		if v > math.MaxInt64 {
			return 0, false, bad(v)
		}
		return int64(v), true, nil
	case uint32:
		return int64(v), true, nil
	case uint16:
		return int64(v), true, nil
	case uint8:
		return int64(v), true, nil
	case uint:
		if uint64(v) > math.MaxInt64 {
			return 0, false, bad(v)
		}
		return int64(v), true, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, false, bad(v)
		}
		return n, true, nil
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return 0, false, bad(v)
		}
		return n, true, nil
	default:
		return 0, false, bad(v)
	}
}

func rowText(row map[string]any, col string) (string, error) {
	switch v := row[col].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case time.Duration: // a TIME decoded as a duration
		if col == "schtime" {
			return formatDuration(v), nil
		}
	}
	v := row[col]
	return "", fmt.Errorf("vtiger: vtiger_schedulereports.%s: unexpected value %v (%T): %w", col, v, v, ErrMalformed)
}

func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

func rowTimestamp(row map[string]any, col string) (*time.Time, error) {
	var text string
	switch v := row[col].(type) {
	case nil:
		return nil, nil
	case time.Time:
		if v.IsZero() {
			return nil, nil
		}
		t := v.UTC()
		return &t, nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return nil, fmt.Errorf("vtiger: vtiger_schedulereports.%s: unexpected value %v (%T): %w", col, v, v, ErrMalformed)
	}
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "0000-00-00") {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", text, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("vtiger: vtiger_schedulereports.%s: %q: %w", col, text, ErrMalformed)
	}
	return &t, nil
}
