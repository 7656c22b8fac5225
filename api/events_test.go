package api_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

type eventJSON struct {
	ID          uint64          `json:"id"`
	OccurredAt  string          `json:"occurred_at"`
	Type        string          `json:"type"`
	UserID      *int64          `json:"user_id"`
	UserName    *string         `json:"user_name"`
	Module      *string         `json:"module"`
	RecordCount *int64          `json:"record_count"`
	IP          *string         `json:"ip"`
	UserAgent   *string         `json:"user_agent"`
	Source      string          `json:"source"`
	Details     json.RawMessage `json:"details"`
	HasContent  bool            `json:"has_content"`
	ContentName *string         `json:"content_name"`
	ContentSize *int64          `json:"content_size"`
	Notified    bool            `json:"notified"`
}

type listJSON struct {
	Events     []eventJSON `json:"events"`
	NextCursor string      `json:"next_cursor"`
}

func ids(l listJSON) string {
	var s []string
	for _, e := range l.Events {
		s = append(s, fmt.Sprint(e.ID))
	}
	return strings.Join(s, ",")
}

func TestListEventsFiltersOverHTTP(t *testing.T) {
	e := newEnv(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a := e.insertEvent(event{at: day.Add(9 * time.Hour), user: "admin", module: "Contacts", ip: "10.0.0.1", records: i64(50)})
	b := e.insertEvent(event{at: day.Add(10 * time.Hour), typ: tracker.TypeReportExport, user: "jsmith", module: "Contacts", ip: "10.0.0.2", records: i64(5), reportID: i64(26)})
	c := e.insertEvent(event{at: day.Add(11 * time.Hour), typ: tracker.TypeCopy, user: "jsmith", module: "Leads", ip: "2001:db8::1"})
	d := e.insertEvent(event{at: day.Add(30 * time.Hour), typ: tracker.TypeScheduledReport, module: "Contacts", records: i64(1000), reportID: i64(26)})

	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", fmt.Sprintf("%d,%d,%d,%d", d, c, b, a)},
		{"type=report_export", fmt.Sprint(b)},
		{"type=&user=&module=&ip=&from=&to=&min_records=&limit=&cursor=", fmt.Sprintf("%d,%d,%d,%d", d, c, b, a)},
		{"user=jsmith", fmt.Sprintf("%d,%d", c, b)},
		{"module=Contacts", fmt.Sprintf("%d,%d,%d", d, b, a)},
		{"ip=10.0.0.2", fmt.Sprint(b)},
		{"ip=2001:0db8:0:0::1", fmt.Sprint(c)}, // normalised
		{"from=2026-03-01T10:00:00Z", fmt.Sprintf("%d,%d,%d", d, c, b)},
		{"to=2026-03-01T10:00:00Z", fmt.Sprint(a)},
		{"from=2026-03-01&to=2026-03-01", fmt.Sprintf("%d,%d,%d", c, b, a)}, // a date covers its whole day
		{"from=2026-03-02", fmt.Sprint(d)},
		{"from=2026-03-01T11:30:00%2B02:00", fmt.Sprintf("%d,%d,%d", d, c, b)}, // 09:30Z
		{"min_records=6", fmt.Sprintf("%d,%d", d, a)},
		{"min_records=0", fmt.Sprintf("%d,%d,%d", d, b, a)},
		{"user=jsmith&module=Contacts", fmt.Sprint(b)},
		{"limit=2", fmt.Sprintf("%d,%d", d, c)},
		{"user=" + url.QueryEscape("' OR 1=1 -- "), ""},
	} {
		r := e.get("/api/v1/events?" + tc.query)
		if r.status != http.StatusOK {
			t.Errorf("?%s: %d %s", tc.query, r.status, r.body)
			continue
		}
		var l listJSON
		r.json(t, &l)
		if got := ids(l); got != tc.want {
			t.Errorf("?%s: ids %s, want %s", tc.query, got, tc.want)
		}
	}

	// The JSON of one event carries every field of CONTRACTS §7.
	r := e.get(fmt.Sprintf("/api/v1/events?type=report_export"))
	var raw struct {
		Events []map[string]json.RawMessage `json:"events"`
	}
	r.json(t, &raw)
	for _, f := range []string{"id", "occurred_at", "type", "user_id", "user_name", "module", "record_count", "ip", "user_agent",
		"source", "details", "has_content", "content_name", "content_size", "notified"} {
		if _, ok := raw.Events[0][f]; !ok {
			t.Errorf("event JSON lacks %q", f)
		}
	}
	if got := string(raw.Events[0]["occurred_at"]); got != `"2026-03-01T10:00:00Z"` {
		t.Errorf("occurred_at %s, want RFC 3339 UTC", got)
	}
}

func TestListEventsRejectsBadParameters(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{
		"type=DROP%20TABLE", "type=" + strings.Repeat("a", 40),
		"user=" + strings.Repeat("x", 256),
		"ip=10.0.0", "ip=example.com", "ip=fe80::1%25eth0",
		"from=yesterday", "from=2026-13-01", "to=2026-03-01T25:00:00Z", "from=0001-01-01",
		"from=2026-03-02&to=2026-03-01", "from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z",
		"min_records=-1", "min_records=ten", "min_records=1.5",
		"limit=0", "limit=1001", "limit=x",
		"cursor=garbage", "cursor=" + strings.Repeat("A", 22), "cursor=%FF",
		"users=admin", "type=copy&type=listview_export", "%zz",
	} {
		r := e.get("/api/v1/events?" + q)
		if r.status != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400: %s", q, r.status, r.body)
			continue
		}
		t.Logf("?%s: %s", q, r.errorMessage(t))
	}
}

func TestCursorPagingVisitsEveryEventOnce(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	want := map[uint64]bool{}
	for i := range 157 {
		// Few distinct timestamps: most pages cut through a tie.
		want[e.insertEvent(event{at: base.Add(time.Duration(i%13) * time.Minute), module: "Contacts"})] = true
	}
	seen := map[uint64]bool{}
	var prev *eventJSON
	cursor, pages := "", 0
	for {
		r := e.get("/api/v1/events?module=Contacts&limit=10&cursor=" + url.QueryEscape(cursor))
		if r.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		var l listJSON
		r.json(t, &l)
		pages++
		for i := range l.Events {
			ev := l.Events[i]
			if seen[ev.ID] {
				t.Fatalf("event %d on two pages", ev.ID)
			}
			seen[ev.ID] = true
			if prev != nil && (ev.OccurredAt > prev.OccurredAt || ev.OccurredAt == prev.OccurredAt && ev.ID > prev.ID) {
				t.Fatalf("order broken: %d (%s) after %d (%s)", ev.ID, ev.OccurredAt, prev.ID, prev.OccurredAt)
			}
			prev = &ev
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if len(seen) != len(want) || pages != 16 {
		t.Fatalf("saw %d of %d events in %d pages", len(seen), len(want), pages)
	}
}

func TestGetEvent(t *testing.T) {
	e := newEnv(t)
	cid := e.insertContent("Contacts.csv", "text/csv", []byte("First Name,Last Name\nAda,Lovelace\n"))
	id := e.insertEvent(event{at: time.Date(2026, 3, 1, 12, 0, 0, 250000000, time.UTC), user: "admin", module: "Contacts",
		records: i64(1), contentID: &cid, notifyState: "sent"})
	r := e.get(fmt.Sprintf("/api/v1/events/%d", id))
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var ev eventJSON
	r.json(t, &ev)
	if ev.ID != id || ev.OccurredAt != "2026-03-01T12:00:00.25Z" || !ev.HasContent || *ev.ContentName != "Contacts.csv" ||
		*ev.ContentSize != 34 || !ev.Notified || string(ev.Details) != `{"mode":"all"}` || *ev.UserName != "admin" {
		t.Errorf("event %s", r.body)
	}
	if r := e.get("/api/v1/events/999999"); r.status != http.StatusNotFound {
		t.Errorf("missing event: %d", r.status)
	} else {
		r.errorMessage(t)
	}
	for _, bad := range []string{"0", "-1", "abc", "1.5", "99999999999999999999999"} {
		if r := e.get("/api/v1/events/" + bad); r.status != http.StatusBadRequest {
			t.Errorf("id %s: %d", bad, r.status)
		}
	}
}

func TestContentDownload(t *testing.T) {
	e := newEnv(t)
	// 3 MiB of random bytes: several stored chunks, nothing compressible.
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	name := `Kontakte "Q1" Übersicht.csv`
	cid := e.insertContent(name, "text/csv; charset=utf-8", data)
	id := e.insertEvent(event{at: time.Now(), user: "admin", module: "Contacts", contentID: &cid})
	noContent := e.insertEvent(event{at: time.Now(), typ: tracker.TypeCopy})

	r := e.do("GET", fmt.Sprintf("/api/v1/events/%d/content", id), basic("admin", adminKey), nil)
	if r.status != http.StatusOK || r.err != nil {
		t.Fatalf("%d %v %.200s", r.status, r.err, r.body)
	}
	if !bytes.Equal(r.body, data) {
		t.Fatalf("downloaded %d bytes differ from the %d stored", len(r.body), len(data))
	}
	sum := sha256.Sum256(data)
	if got := r.header.Get("X-Content-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("X-Content-SHA256 %s", got)
	}
	if got := r.header.Get("Content-Length"); got != fmt.Sprint(len(data)) {
		t.Errorf("Content-Length %s", got)
	}
	if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %s", got)
	}
	cd := r.header.Get("Content-Disposition")
	if want := `attachment; filename="Kontakte _Q1_ _bersicht.csv"; filename*=UTF-8''Kontakte%20%22Q1%22%20%C3%9Cbersicht.csv`; cd != want {
		t.Errorf("Content-Disposition\n got %s\nwant %s", cd, want)
	}
	// Go's own parser prefers filename* and must recover the exact name.
	if _, params, err := mime.ParseMediaType(cd); err != nil || params["filename"] != name {
		t.Errorf("parsed file name %q, %v", params["filename"], err)
	}

	// A token download, a download of an event without content and of a
	// missing event are logged too.
	if r := e.do("GET", fmt.Sprintf("/api/v1/events/%d/content", id), e.bearer(), nil); r.status != http.StatusOK {
		t.Errorf("token download: %d", r.status)
	}
	if r := e.get(fmt.Sprintf("/api/v1/events/%d/content", noContent)); r.status != http.StatusNotFound {
		t.Errorf("no content: %d", r.status)
	} else {
		r.errorMessage(t)
	}
	if r := e.get("/api/v1/events/999999/content"); r.status != http.StatusNotFound {
		t.Errorf("missing event: %d", r.status)
	}

	log := accessLog(t, e)
	if len(log) != 4 {
		t.Fatalf("access log has %d rows, want 4: %+v", len(log), log)
	}
	want := []struct {
		principal, method string
		event             uint64
		status            int
	}{
		{"token:test#1", "token", 999999, 404},
		{"token:test#1", "token", noContent, 404},
		{"token:test#1", "token", id, 200},
		{"admin", "basic", id, 200},
	}
	for i, w := range want {
		g := log[i]
		if g.Principal != w.principal || g.AuthMethod != w.method || g.EventID == nil || *g.EventID != w.event ||
			g.Status != w.status || g.RemoteIP != "127.0.0.1" || g.Action != "content_download" ||
			g.Path != fmt.Sprintf("/api/v1/events/%d/content", w.event) {
			t.Errorf("access log row %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestDamagedContentIsCutOffAndLogged(t *testing.T) {
	e := newEnv(t)
	cid := e.insertContent("a.txt", "text/plain", []byte(strings.Repeat("hello\n", 1000)))
	id := e.insertEvent(event{at: time.Now(), contentID: &cid})
	if _, err := e.db.Exec(`UPDATE dxt_content SET sha256 = REPEAT('0', 64) WHERE id = ?`, cid); err != nil {
		t.Fatal(err)
	}
	r := e.get(fmt.Sprintf("/api/v1/events/%d/content", id))
	if r.err == nil && r.status == http.StatusOK {
		// The whole body may have arrived before the check at its end; the
		// header still lets a client see it is not what was recorded.
		sum := sha256.Sum256(r.body)
		if hex.EncodeToString(sum[:]) == r.header.Get("X-Content-SHA256") {
			t.Errorf("damaged content passed as intact")
		}
	}
	log := accessLog(t, e)
	if len(log) != 1 || log[0].Status != http.StatusInternalServerError {
		t.Errorf("access log %+v, want one row with status 500", log)
	}
	if !strings.Contains(e.logs.String(), "download broke off") {
		t.Errorf("the failure is not in the daemon log")
	}
}

type accessJSON struct {
	ID         uint64  `json:"id"`
	At         string  `json:"at"`
	Principal  string  `json:"principal"`
	AuthMethod string  `json:"auth_method"`
	Action     string  `json:"action"`
	EventID    *uint64 `json:"event_id"`
	RemoteIP   string  `json:"remote_ip"`
	Path       string  `json:"path"`
	Status     int     `json:"status"`
}

// accessLog reads every entry through the API, newest first.
func accessLog(t *testing.T, e *env) []accessJSON {
	t.Helper()
	var all []accessJSON
	cursor := ""
	for {
		r := e.get("/api/v1/access-log?limit=2&cursor=" + url.QueryEscape(cursor))
		if r.status != http.StatusOK {
			t.Fatalf("access log: %d %s", r.status, r.body)
		}
		var page struct {
			Entries    []accessJSON `json:"entries"`
			NextCursor string       `json:"next_cursor"`
		}
		r.json(t, &page)
		all = append(all, page.Entries...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}
