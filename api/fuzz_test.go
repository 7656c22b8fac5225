package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// recordingQuerier stands in for the database: it keeps the statement and
// its arguments and answers every query with errQueried, so the fuzz
// targets run without a server and see exactly what would have been sent.
type recordingQuerier struct {
	query string
	args  []any
}

var errQueried = errors.New("recorded, not run")

func (q *recordingQuerier) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	q.query, q.args = query, args
	return nil, errQueried
}

func (q *recordingQuerier) QueryRowContext(context.Context, string, ...any) *sql.Row {
	panic("unexpected QueryRowContext")
}

func (q *recordingQuerier) ExecContext(context.Context, string, ...any) (sql.Result, error) {
	panic("unexpected ExecContext")
}

// statusOf is the HTTP status the server would answer err with.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return http.StatusInternalServerError
}

// FuzzEventListQuery feeds any raw query string to the parser of
// GET /api/v1/events and the statement it leads to: a bad parameter is a
// 400 (never a 500, never a panic); an accepted one binds every value as a
// parameter, so no text from the URL reaches the SQL; a cursor that does not
// decode is tracker.ErrBadCursor, which the handler answers with 400.
func FuzzEventListQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"type=listview_export&user=jsmith&module=Contacts&ip=10.0.0.1&from=2026-03-01&to=2026-03-02&min_records=5&limit=10",
		"type=&user=&module=&ip=&from=&to=&min_records=&limit=&cursor=",
		"user=" + url.QueryEscape("' OR 1=1 -- "),
		"module=" + url.QueryEscape(`"; DROP TABLE dxt_event; --`),
		"user=" + url.QueryEscape(`\' UNION SELECT token_hash FROM dxt_api_token --`),
		"user=a%00b", "module=%00", "user=%FF%FE", "user=" + strings.Repeat("x", 300),
		"ip=::ffff:10.0.0.1", "ip=fe80::1%25eth0", "ip=1.2.3.4%00",
		"from=2026-03-01T11:30:00%2B02:00", "from=0001-01-01", "to=9999-12-31", "from=2026-03-02&to=2026-03-01",
		"min_records=-1", "min_records=99999999999999999999", "limit=0", "limit=1001",
		"cursor=AAAAAAAAAAAAAAAAAAAAAA", "cursor=AAXdDkcZgAAAAAAAAAAAAQ", "cursor=%FF", "cursor=" + strings.Repeat("A", 65),
		"users=admin", "type=copy&type=copy", "%zz", "a=1;b=2", "type=copy;user=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/v1/events", RawQuery: raw}}
		filter, err := eventFilter(r)
		if err != nil {
			if st := statusOf(err); st != http.StatusBadRequest {
				t.Fatalf("%q: status %d (%v), want 400", raw, st, err)
			}
			return
		}
		if filter.Limit < 0 || filter.Limit > tracker.MaxEventLimit {
			t.Fatalf("%q: limit %d", raw, filter.Limit)
		}
		if filter.From != nil && filter.To != nil && !filter.From.Before(*filter.To) {
			t.Fatalf("%q: empty range accepted", raw)
		}
		q := &recordingQuerier{}
		_, _, err = tracker.ListEvents(context.Background(), q, filter)
		switch {
		case errors.Is(err, tracker.ErrBadCursor):
			if filter.Cursor == "" {
				t.Fatalf("%q: cursor error without a cursor", raw)
			}
			return // the handler answers 400
		case !errors.Is(err, errQueried):
			t.Fatalf("%q: ListEvents failed before the query: %v", raw, err)
		}
		if n := strings.Count(q.query, "?"); n != len(q.args) {
			t.Fatalf("%q: %d placeholders, %d arguments\n%s", raw, n, len(q.args), q.query)
		}
		for _, v := range []string{filter.User, filter.Module, filter.IP, filter.Type} {
			// Values are bound, never spliced; a value that happens to be a
			// word of the fixed statement proves nothing, so look only at
			// ones that cannot be.
			if len(v) > 2 && strings.ContainsAny(v, "'\"`;\\") && strings.Contains(q.query, v) {
				t.Fatalf("%q: value %q is in the statement text\n%s", raw, v, q.query)
			}
		}
		for _, a := range q.args {
			if tm, ok := a.(time.Time); ok && (tm.Year() < 1000 || tm.Year() > 9999) {
				t.Fatalf("%q: time %v outside DATETIME", raw, tm)
			}
		}
	})
}

// FuzzAccessLogAndNotificationQueries does the same for the other list
// endpoints' parameters: access-log limit and cursor, notifications
// state, event_id, limit and before, stats from, to and group_by.
func FuzzAccessLogAndNotificationQueries(f *testing.F) {
	for _, s := range []string{
		"", "limit=5&cursor=AAAAAAAAAAE", "cursor=AAAAAAAAAAA", "cursor=%00", "cursor=" + url.QueryEscape("' OR 1=1 --"),
		"state=failed&event_id=3&limit=2&before=9", "state=" + url.QueryEscape("sent' OR '1'='1"), "event_id=-1",
		"event_id=4611686018427387905", "before=0", "group_by=user&from=2026-01-01", "group_by=" + url.QueryEscape("user; DROP TABLE dxt_event"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u := &url.URL{RawQuery: raw}
		// access-log
		if q, err := parseQuery(u, "limit", "cursor"); err != nil {
			if st := statusOf(err); st != http.StatusBadRequest {
				t.Fatalf("access-log %q: status %d", raw, st)
			}
		} else if limit, _, err := q.intIn("limit", 1, tracker.MaxAccessLimit); err != nil {
			if st := statusOf(err); st != http.StatusBadRequest {
				t.Fatalf("access-log %q: limit status %d", raw, st)
			}
		} else {
			rq := &recordingQuerier{}
			_, _, err := tracker.ListAccess(context.Background(), rq, int(limit), q.str("cursor"))
			if !errors.Is(err, tracker.ErrBadCursor) && !errors.Is(err, errQueried) {
				t.Fatalf("access-log %q: %v", raw, err)
			}
			if err == errQueried || errors.Is(err, errQueried) {
				if n := strings.Count(rq.query, "?"); n != len(rq.args) {
					t.Fatalf("access-log %q: %d placeholders, %d args", raw, n, len(rq.args))
				}
			}
		}
		// notifications (the handler's checks, without the database)
		if q, err := parseQuery(u, "state", "event_id", "limit", "before"); err == nil {
			if s := q.str("state"); s != "" && !validState(s) {
				return
			}
			for _, p := range []string{"event_id", "before"} {
				if _, _, err := q.intIn(p, 1, 1<<62); err != nil && statusOf(err) != http.StatusBadRequest {
					t.Fatalf("notifications %q: %s status %d", raw, p, statusOf(err))
				}
			}
		} else if st := statusOf(err); st != http.StatusBadRequest {
			t.Fatalf("notifications %q: status %d", raw, st)
		}
		// stats
		if q, err := parseQuery(u, "from", "to", "group_by"); err == nil {
			if _, _, err := q.timeRange(); err != nil && statusOf(err) != http.StatusBadRequest {
				t.Fatalf("stats %q: status %d", raw, statusOf(err))
			}
		} else if st := statusOf(err); st != http.StatusBadRequest {
			t.Fatalf("stats %q: status %d", raw, st)
		}
	})
}
