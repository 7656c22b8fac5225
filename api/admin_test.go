package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

func TestConfigHidesSecretAndValidatesWrites(t *testing.T) {
	e := newEnv(t)
	var secret string
	if err := e.db.QueryRow(`SELECT value FROM dxt_config WHERE name = 'beacon_secret'`).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	r := e.get("/api/v1/config")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), "beacon_secret") {
		t.Fatalf("config shows the beacon secret: %s", r.body)
	}
	var cfg map[string]string
	r.json(t, &cfg)
	for _, k := range []string{"track_listview_export", "track_report_export", "track_scheduled_reports", "track_copy",
		"notify_admin_email", "notify_min_records", "capture_content", "copy_max_chars", "retention_days"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("config lacks %s", k)
		}
	}

	put := func(body string) resp {
		return e.do("PUT", "/api/v1/config", basic("admin", adminKey), strings.NewReader(body))
	}
	r = put(`{"notify_min_records": 100, "track_copy": false, "notify_admin_email": "sec@example.com, it@example.com", "retention_days": "90"}`)
	if r.status != http.StatusOK {
		t.Fatalf("valid PUT: %d %s", r.status, r.body)
	}
	r.json(t, &cfg)
	if cfg["notify_min_records"] != "100" || cfg["track_copy"] != "0" || cfg["notify_admin_email"] != "sec@example.com,it@example.com" || cfg["retention_days"] != "90" {
		t.Errorf("after PUT: %v", cfg)
	}

	for _, tc := range []struct{ body, key string }{
		{`{"notify_min_records": -5}`, "notify_min_records"},
		{`{"notify_min_records": 1.5}`, "notify_min_records"},
		{`{"retention_days": 0, "track_copy": true}`, "retention_days"},
		{`{"track_copy": "maybe"}`, "track_copy"},
		{`{"notify_admin_email": "not an address"}`, "notify_admin_email"},
		{`{"beacon_secret": "0123456789abcdef0123456789abcdef0123"}`, "beacon_secret"},
		{`{"no_such_key": 1}`, "no_such_key"},
		{`{"track_copy": [1]}`, "track_copy"},
		{`{"track_copy": null}`, "track_copy"},
		{`{"track_copy": {"a": 1}}`, "track_copy"},
		{`[1,2]`, "body"},
		{`{}`, "body"},
		{`{"track_copy": 1} {"x": 2}`, "body"},
		{`not json`, "body"},
		{``, "body"},
	} {
		r := put(tc.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("PUT %s: %d, want 400", tc.body, r.status)
			continue
		}
		if msg := r.errorMessage(t); !strings.Contains(msg, tc.key) {
			t.Errorf("PUT %s: message %q does not name %s", tc.body, msg, tc.key)
		}
	}
	// Nothing was written by the rejected bodies, the secret is untouched.
	var v, s2 string
	e.db.QueryRow(`SELECT value FROM dxt_config WHERE name = 'track_copy'`).Scan(&v)
	e.db.QueryRow(`SELECT value FROM dxt_config WHERE name = 'beacon_secret'`).Scan(&s2)
	if v != "0" || s2 != secret {
		t.Errorf("track_copy %q, secret changed %v", v, s2 != secret)
	}
	if r := put(strings.Repeat(" ", 70<<10) + `{}`); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", r.status)
	}
	// The change is in the access log.
	log := accessLog(t, e)
	if len(log) != 1 || log[0].Action != "config_update" || log[0].Principal != "admin" {
		t.Errorf("access log %+v", log)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	d1 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	e.insertEvent(event{at: d1, user: "admin", module: "Contacts", records: i64(50)})
	e.insertEvent(event{at: d1, user: "admin", module: "Leads", records: i64(7)})
	e.insertEvent(event{at: d2, typ: tracker.TypeCopy, user: "jsmith", module: "Contacts"})

	for _, tc := range []struct{ query, want string }{
		{"", `"group_by":"type","from":null,"to":null,"rows":[{"key":"listview_export","events":2,"records":57},{"key":"copy","events":1,"records":0}]`},
		{"group_by=user", `"rows":[{"key":"admin","events":2,"records":57},{"key":"jsmith","events":1,"records":0}]`},
		{"group_by=module", `"rows":[{"key":"Contacts","events":2,"records":50},{"key":"Leads","events":1,"records":7}]`},
		{"group_by=day&from=2026-03-01&to=2026-03-02", `"rows":[{"key":"2026-03-01","events":2,"records":57},{"key":"2026-03-02","events":1,"records":0}]`},
		{"group_by=day&from=2026-03-02", `"from":"2026-03-02T00:00:00Z","to":null,"rows":[{"key":"2026-03-02","events":1,"records":0}]`},
		{"group_by=day&from=2030-01-01", `"rows":[]`},
	} {
		r := e.get("/api/v1/stats?" + tc.query)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("?%s: %d %s\nwant %s", tc.query, r.status, r.body, tc.want)
		}
	}
	for _, q := range []string{"group_by=ip", "group_by=user;drop", "from=x", "from=2026-03-02&to=2026-03-01", "bogus=1"} {
		if r := e.get("/api/v1/stats?" + q); r.status != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, r.status)
		} else {
			r.errorMessage(t)
		}
	}
}

func TestScheduledReportsShowRecipientsAndLastRuns(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 11, 20, 19, 24, 0, 0, time.UTC)
	var runIDs []uint64
	for i := range 12 {
		runIDs = append(runIDs, e.insertEvent(event{at: start.AddDate(0, 0, i), typ: tracker.TypeScheduledReport,
			module: "Contacts", records: i64(int64(40 + i)), reportID: i64(26)}))
	}
	// Other events of report 26 are not deliveries.
	e.insertEvent(event{at: start.AddDate(0, 1, 0), typ: tracker.TypeReportExport, reportID: i64(26)})

	r := e.get("/api/v1/scheduled-reports")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out struct {
		Reports []struct {
			ReportID        int64   `json:"report_id"`
			Name            string  `json:"name"`
			PrimaryModule   string  `json:"primary_module"`
			ScheduleType    int     `json:"schedule_type"`
			Schedule        string  `json:"schedule"`
			Format          string  `json:"format"`
			NextTriggerTime *string `json:"next_trigger_time"`
			Recipients      []struct {
				Name     string   `json:"name"`
				Email    string   `json:"email"`
				Via      []string `json:"via"`
				External bool     `json:"external"`
			} `json:"recipients"`
			External bool `json:"has_external_recipients"`
			LastRuns []struct {
				EventID     uint64 `json:"event_id"`
				OccurredAt  string `json:"occurred_at"`
				RecordCount *int64 `json:"record_count"`
			} `json:"last_runs"`
		} `json:"scheduled_reports"`
	}
	r.json(t, &out)
	t.Logf("%s", r.body)
	if len(out.Reports) != 1 {
		t.Fatalf("%d schedules, want report 26 only", len(out.Reports))
	}
	rep := out.Reports[0]
	if rep.ReportID != 26 || rep.Name != "Lab Contacts Export Report" || rep.PrimaryModule != "Contacts" || rep.Format != "CSV" ||
		rep.ScheduleType != 1 || rep.Schedule == "" || rep.NextTriggerTime == nil || *rep.NextTriggerTime != "2026-12-04T19:24:00Z" {
		t.Errorf("report 26: %+v", rep)
	}
	emails := map[string]bool{}
	for _, rc := range rep.Recipients {
		emails[rc.Email] = true
		if rc.External || len(rc.Via) == 0 {
			t.Errorf("recipient %+v", rc)
		}
	}
	for _, want := range []string{"admin@example.com", "jsmith@example.com", "reports@example.com"} {
		if !emails[want] {
			t.Errorf("recipients %v lack %s", emails, want)
		}
	}
	if rep.External {
		t.Errorf("example.com recipients flagged external")
	}
	if len(rep.LastRuns) != 10 {
		t.Fatalf("%d last runs, want 10", len(rep.LastRuns))
	}
	for i, run := range rep.LastRuns {
		want := runIDs[11-i]
		if run.EventID != want || *run.RecordCount != int64(51-i) {
			t.Errorf("run %d: %+v, want event %d", i, run, want)
		}
	}

	// A company domain list without example.com makes them external.
	if r := e.do("PUT", "/api/v1/config", e.bearer(), strings.NewReader(`{"company_domains": "corp.example.org"}`)); r.status != http.StatusOK {
		t.Fatalf("set company_domains: %d %s", r.status, r.body)
	}
	r = e.get("/api/v1/scheduled-reports")
	r.json(t, &out)
	if !out.Reports[0].External {
		t.Errorf("with company_domains=corp.example.org nothing is external: %s", r.body)
	}
}

func TestScheduledReportsSurviveAMalformedSchedule(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.Exec(`INSERT INTO vtiger_schedulereports VALUES (25, 2, '["USER::1"', NULL, '08:00:00', '["1","5"]', NULL, NULL, '"outside@partner.test"', '2026-12-07 08:00:00', 'XLS')`); err != nil {
		t.Fatal(err)
	}
	r := e.get("/api/v1/scheduled-reports")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out struct {
		Reports []struct {
			ReportID   int64  `json:"report_id"`
			Name       string `json:"name"`
			Schedule   string `json:"schedule"`
			Error      string `json:"recipients_error"`
			External   bool   `json:"has_external_recipients"`
			Recipients []struct {
				Email    string `json:"email"`
				External bool   `json:"external"`
			} `json:"recipients"`
		} `json:"scheduled_reports"`
	}
	r.json(t, &out)
	if len(out.Reports) != 2 || out.Reports[0].ReportID != 25 || out.Reports[1].ReportID != 26 {
		t.Fatalf("reports %s", r.body)
	}
	bad := out.Reports[0]
	if bad.Name != "Vendors Email Report" || !strings.Contains(bad.Error, "recipients") || !bad.External ||
		len(bad.Recipients) != 1 || bad.Recipients[0].Email != "outside@partner.test" || !strings.HasPrefix(bad.Schedule, "Weekly on Monday, Friday") {
		t.Errorf("malformed schedule shown as %+v", bad)
	}
	if out.Reports[1].Error != "" || len(out.Reports[1].Recipients) != 3 {
		t.Errorf("report 26 affected: %+v", out.Reports[1])
	}
}
