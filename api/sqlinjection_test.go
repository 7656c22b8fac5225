package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// sqlPayloads are classic injection attempts plus what breaks naive
// escaping: quotes of every kind, comments, stacked statements, NUL bytes,
// backslashes, multi-byte tricks, Unicode look-alikes and very long text.
var sqlPayloads = []string{
	"' OR 1=1 --",
	"' OR '1'='1",
	"admin' --",
	"admin' #",
	`" OR ""="`,
	`"; DROP TABLE dxt_event; --`,
	"'; DROP TABLE dxt_event; --",
	"1; DELETE FROM dxt_event",
	`\' UNION SELECT token_hash, 1, 1 FROM dxt_api_token --`,
	`\\' OR 1=1 -- `,
	"\\",
	"' UNION SELECT user_name, accesskey FROM vtiger_users --",
	"1' AND SLEEP(5) --",
	"1) OR (1=1",
	"%' OR '%'='",
	"_%",
	"a\x00' OR 1=1 --",
	"\x00",
	"\x1a' OR 1=1 --",
	"/*!50000 OR 1=1*/",
	"＇ OR 1=1 --",     // fullwidth apostrophe
	"ʼ OR 1=1 --",     // modifier letter apostrophe
	"\xbf' OR 1=1 --", // GBK multi-byte trick (invalid UTF-8)
	"\xc0\xa7 OR 1=1", // overlong quote
	"ユーザー' OR 1=1 -- 😀",
	"\u202e' OR 1=1 --",
	"1e309", "-1", "99999999999999999999", "0x27", "CHAR(39)",
	"2026-01-01' OR 1=1 --",
	"2026-01-01T00:00:00Z' OR '1'='1",
	strings.Repeat("' OR 1=1 -- ", 1000),
	strings.Repeat("A", 60000),
}

// tableCounts is the row count of every table of the database.
func tableCounts(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + n + "`").Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// newEnvWithDSN is newEnv on a database opened with the sandbox DSN as
// changed by edit (interpolation, sql_mode...).
func newEnvWithDSN(t *testing.T, edit func(*mysql.Config)) *env {
	t.Helper()
	cfg, err := mysql.ParseDSN(sandboxtest.NewVtigerDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, status: &fakeStatus{ok: true}, logs: &syncBuffer{}}
	e.dir = vtiger.NewDirectory(db, zerolog.Nop())
	e.srv = api.New(db, e.dir, e.status, zerolog.New(e.logs).Level(zerolog.DebugLevel))
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	if e.token, _, err = tracker.CreateToken(ctx, db, "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSQLInjectionInEveryAPIFilterIsHarmless sends every payload in every
// filter of every endpoint against the real database, once with the
// driver's client-side interpolation and multiple statements allowed (the
// sandbox DSN: a spliced value would run a second statement), once with
// the server in NO_BACKSLASH_ESCAPES mode (quotes escaped differently) and
// once with server-side prepared statements. Every answer is a 400 (or a
// 404 for a path that names nothing) or a result that the payload does not
// widen; never a 5xx; and every table has the rows it had.
func TestSQLInjectionInEveryAPIFilterIsHarmless(t *testing.T) {
	for _, mode := range []struct {
		name string
		edit func(*mysql.Config)
	}{
		{"interpolated, multiStatements", func(c *mysql.Config) { c.InterpolateParams = true; c.MultiStatements = true }},
		{"interpolated, NO_BACKSLASH_ESCAPES", func(c *mysql.Config) {
			c.InterpolateParams = true
			c.MultiStatements = true
			if c.Params == nil {
				c.Params = map[string]string{}
			}
			c.Params["sql_mode"] = "'NO_BACKSLASH_ESCAPES'"
		}},
		{"server-side prepared", func(c *mysql.Config) { c.InterpolateParams = false; c.MultiStatements = false }},
	} {
		t.Run(mode.name, func(t *testing.T) { sqlInjectionRound(t, newEnvWithDSN(t, mode.edit)) })
	}
}

func sqlInjectionRound(t *testing.T, e *env) {
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cid := e.insertContent("Contacts.csv", "text/csv", []byte("a,b\n1,2\n"))
	e.insertEvent(event{at: day, user: "admin", module: "Contacts", ip: "10.0.0.1", records: i64(5), contentID: &cid})
	e.insertEvent(event{at: day.Add(time.Hour), typ: tracker.TypeCopy, user: "jsmith", module: "Leads", ip: "10.0.0.2"})
	if r := e.do("POST", "/api/v1/rules", e.bearer(), strings.NewReader(`{"name": "seed", "kind": "threshold", "params": {"min_records": 10}}`)); r.status != http.StatusCreated {
		t.Fatalf("seed rule: %d %s", r.status, r.body)
	}
	before := tableCounts(t, e.db)
	accessBefore := before["dxt_access_log"]

	type target struct {
		what string
		path func(p string) string
	}
	q := func(base, name string) target {
		return target{base + " " + name, func(p string) string { return base + "?" + name + "=" + url.QueryEscape(p) }}
	}
	var targets []target
	for _, n := range []string{"type", "user", "module", "ip", "from", "to", "min_records", "limit", "cursor"} {
		targets = append(targets, q("/api/v1/events", n))
	}
	for _, n := range []string{"from", "to", "group_by"} {
		targets = append(targets, q("/api/v1/stats", n))
	}
	for _, n := range []string{"state", "event_id", "limit", "before"} {
		targets = append(targets, q("/api/v1/notifications", n))
	}
	for _, n := range []string{"limit", "cursor"} {
		targets = append(targets, q("/api/v1/access-log", n))
	}
	for _, n := range []string{"from", "to", "limit"} {
		targets = append(targets, q("/api/v1/users/jsmith/timeline", n))
	}
	targets = append(targets,
		target{"timeline name", func(p string) string { return "/api/v1/users/" + url.PathEscape(p) + "/timeline" }},
		target{"event id", func(p string) string { return "/api/v1/events/" + url.PathEscape(p) }},
		target{"content id", func(p string) string { return "/api/v1/events/" + url.PathEscape(p) + "/content" }},
		target{"rule id", func(p string) string { return "/api/v1/rules/" + url.PathEscape(p) }},
	)

	for _, tg := range targets {
		for _, p := range sqlPayloads {
			r := e.get(tg.path(p))
			switch r.status {
			case http.StatusBadRequest, http.StatusNotFound:
				r.errorMessage(t)
				continue
			case http.StatusOK:
			default:
				t.Errorf("%s = %.40q: status %d %.300s", tg.what, p, r.status, r.body)
				continue
			}
			// A 200 must not be widened by the payload.
			var body struct {
				Events  []json.RawMessage `json:"events"`
				Items   []json.RawMessage `json:"items"`
				Entries []json.RawMessage `json:"entries"`
				Rows    []struct {
					Key    string `json:"key"`
					Events int64  `json:"events"`
				} `json:"rows"`
			}
			r.json(t, &body)
			switch {
			case strings.HasPrefix(tg.what, "/api/v1/events ") && len(body.Events) != 0:
				t.Errorf("%s = %.40q matched %d events", tg.what, p, len(body.Events))
			case strings.HasPrefix(tg.what, "/api/v1/stats "):
				var n int64
				for _, row := range body.Rows {
					n += row.Events
				}
				if n > 2 {
					t.Errorf("%s = %.40q counted %d events of 2", tg.what, p, n)
				}
			}
		}
	}

	// Rule fields: stored literally (name) or refused, never run.
	for _, p := range sqlPayloads {
		fields := map[string]any{"name": p, "kind": "threshold", "severity": "high", "params": map[string]any{"min_records": 10, "modules": []string{p}}}
		for _, f := range []string{"name", "kind", "severity", "params.modules"} {
			body := map[string]any{}
			for k, v := range fields {
				body[k] = v
			}
			switch f {
			case "name":
				body["params"] = map[string]any{"min_records": 10}
			case "kind":
				body["name"], body["kind"], body["params"] = "k", p, map[string]any{"min_records": 10}
			case "severity":
				body["name"], body["severity"], body["params"] = "s", p, map[string]any{"min_records": 10}
			case "params.modules":
				body["name"] = "m"
			}
			b, _ := json.Marshal(body)
			r := e.do("POST", "/api/v1/rules", e.bearer(), strings.NewReader(string(b)))
			switch r.status {
			case http.StatusBadRequest, http.StatusConflict:
				r.errorMessage(t)
			case http.StatusCreated:
				var got ruleJSON
				r.json(t, &got)
				// The name is kept literally (as JSON carried it: invalid
				// UTF-8 arrives as U+FFFD).
				var sent string
				enc, _ := json.Marshal(p)
				_ = json.Unmarshal(enc, &sent)
				if f == "name" && got.Name != strings.TrimSpace(sent) {
					t.Errorf("rule name %.40q stored as %.40q", p, got.Name)
				}
				if d := e.do("DELETE", fmt.Sprintf("/api/v1/rules/%d", got.ID), e.bearer(), nil); d.status != http.StatusNoContent {
					t.Errorf("delete rule %d: %d", got.ID, d.status)
				}
			default:
				t.Errorf("rule %s = %.40q: status %d %.300s", f, p, r.status, r.body)
			}
		}
	}

	after := tableCounts(t, e.db)
	for name, n := range before {
		if name == "dxt_access_log" {
			continue // rule changes and downloads are audited: it may only grow
		}
		if after[name] != n {
			t.Errorf("table %s: %d rows before, %d after", name, n, after[name])
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("table %s appeared", name)
		}
	}
	if after["dxt_access_log"] < accessBefore {
		t.Errorf("access log shrank from %d to %d rows", accessBefore, after["dxt_access_log"])
	}
	if logs := e.logs.String(); strings.Contains(logs, `"level":"error"`) {
		t.Errorf("the daemon logged errors:\n%.2000s", logs)
	}
}
