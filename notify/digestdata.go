package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// DigestData is what a daily digest reports, computed when it is enqueued.
type DigestData struct {
	Day      string           `json:"day"` // 2006-01-02 in TZ
	TZ       string           `json:"tz"`
	Events   int64            `json:"events"`
	Records  int64            `json:"records"`
	PerUser  []DigestUsage    `json:"per_user"`
	Top      []DigestExporter `json:"top"`
	External []DigestExternal `json:"external"`
}

// DigestUsage is one user's take-outs from one module that day.
type DigestUsage struct {
	User    string `json:"user"`
	Module  string `json:"module"`
	Events  int64  `json:"events"`
	Records int64  `json:"records"`
}

// DigestExporter compares a user's records that day with the user's own
// daily average over the 30 days before.
type DigestExporter struct {
	User     string  `json:"user"`
	Records  int64   `json:"records"`
	AvgDaily float64 `json:"avg_daily"`
	Ratio    float64 `json:"ratio"` // Records / AvgDaily; 0 when New
	New      bool    `json:"new"`   // no records in the 30 days before
}

// DigestExternal is a scheduled report delivered to addresses outside the
// company's domains.
type DigestExternal struct {
	EventID  uint64    `json:"event_id"`
	At       time.Time `json:"at"`
	Report   string    `json:"report"`
	User     string    `json:"user"`
	Module   string    `json:"module"`
	Records  *int64    `json:"records"`
	External []string  `json:"external"`
}

// Bounds of the lists of a digest.
const (
	digestMaxUsage = 200
	digestTop      = 10
	digestHistory  = 30 // days of the average
)

// dayRange is [start of day, start of next day) in loc, in UTC.
func dayRange(day time.Time, loc *time.Location) (from, to time.Time) {
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return start.UTC(), time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC()
}

// computeDigest reads the events of day (a calendar day in loc).
func computeDigest(ctx context.Context, db *sql.DB, day time.Time, loc *time.Location) (DigestData, error) {
	from, to := dayRange(day, loc)
	y, m, d := day.Date()
	histFrom := time.Date(y, m, d-digestHistory, 0, 0, 0, 0, loc).UTC()
	out := DigestData{Day: fmt.Sprintf("%04d-%02d-%02d", y, m, d), TZ: loc.String()}

	rs, err := db.QueryContext(ctx, `SELECT COALESCE(user_name, ''), COALESCE(module, ''), COUNT(*), COALESCE(SUM(record_count), 0)
FROM dxt_event FORCE INDEX (dxt_event_time) WHERE occurred_at >= ? AND occurred_at < ?
GROUP BY 1, 2 ORDER BY 4 DESC, 3 DESC, 1, 2`, from, to)
	if err != nil {
		return out, fmt.Errorf("digest %s: take-outs per user: %w", out.Day, err)
	}
	perUser := map[string]int64{}
	for rs.Next() {
		var u DigestUsage
		if err := rs.Scan(&u.User, &u.Module, &u.Events, &u.Records); err != nil {
			rs.Close()
			return out, fmt.Errorf("digest %s: take-outs per user: %w", out.Day, err)
		}
		out.Events += u.Events
		out.Records += u.Records
		perUser[u.User] += u.Records
		if len(out.PerUser) < digestMaxUsage {
			out.PerUser = append(out.PerUser, u)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("digest %s: take-outs per user: %w", out.Day, err)
	}

	hist := map[string]int64{}
	rs, err = db.QueryContext(ctx, `SELECT COALESCE(user_name, ''), COALESCE(SUM(record_count), 0)
FROM dxt_event FORCE INDEX (dxt_event_time) WHERE occurred_at >= ? AND occurred_at < ? GROUP BY 1`, histFrom, from)
	if err != nil {
		return out, fmt.Errorf("digest %s: 30-day history: %w", out.Day, err)
	}
	for rs.Next() {
		var u string
		var n int64
		if err := rs.Scan(&u, &n); err != nil {
			rs.Close()
			return out, fmt.Errorf("digest %s: 30-day history: %w", out.Day, err)
		}
		hist[u] = n
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("digest %s: 30-day history: %w", out.Day, err)
	}
	for u, n := range perUser {
		if n <= 0 {
			continue
		}
		e := DigestExporter{User: u, Records: n, AvgDaily: float64(hist[u]) / digestHistory}
		if e.AvgDaily == 0 {
			e.New = true
		} else {
			e.Ratio = float64(n) / e.AvgDaily
		}
		out.Top = append(out.Top, e)
	}
	sort.Slice(out.Top, func(i, j int) bool {
		a, b := out.Top[i], out.Top[j]
		if a.New != b.New {
			return a.New
		}
		if a.Ratio != b.Ratio {
			return a.Ratio > b.Ratio
		}
		if a.Records != b.Records {
			return a.Records > b.Records
		}
		return a.User < b.User
	})
	if len(out.Top) > digestTop {
		out.Top = out.Top[:digestTop]
	}

	ext, err := externalDeliveries(ctx, db, from, to)
	if err != nil {
		return out, fmt.Errorf("digest %s: %w", out.Day, err)
	}
	out.External = ext
	return out, nil
}

// externalDeliveries lists the scheduled reports of [from, to) with
// recipients flagged external.
func externalDeliveries(ctx context.Context, db *sql.DB, from, to time.Time) ([]DigestExternal, error) {
	rs, err := db.QueryContext(ctx, `SELECT id, occurred_at, COALESCE(user_name, ''), COALESCE(module, ''), record_count, details
FROM dxt_event FORCE INDEX (dxt_event_type) WHERE type = 'scheduled_report' AND occurred_at >= ? AND occurred_at < ?
ORDER BY occurred_at, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("external scheduled reports: %w", err)
	}
	defer rs.Close()
	var out []DigestExternal
	for rs.Next() {
		var (
			e       DigestExternal
			records sql.NullInt64
			details sql.NullString
		)
		if err := rs.Scan(&e.EventID, &e.At, &e.User, &e.Module, &records, &details); err != nil {
			return nil, fmt.Errorf("external scheduled reports: %w", err)
		}
		var d struct {
			ReportName string `json:"report_name"`
			Recipients []struct {
				Email    string `json:"email"`
				External bool   `json:"external"`
			} `json:"recipients"`
		}
		_ = json.Unmarshal([]byte(details.String), &d) // any shape: use what parses
		for _, r := range d.Recipients {
			if r.External && strings.TrimSpace(r.Email) != "" {
				e.External = append(e.External, r.Email)
			}
		}
		if len(e.External) == 0 {
			continue
		}
		e.At = e.At.UTC()
		e.Report = d.ReportName
		if records.Valid {
			n := records.Int64
			e.Records = &n
		}
		out = append(out, e)
	}
	return out, rs.Err()
}
