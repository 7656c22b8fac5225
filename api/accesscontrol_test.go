package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/tracker"
)

// route is one endpoint of the API with a body that would be accepted.
type route struct {
	method, path, body string
}

// every /api/v1 route but the beacon (which has its own token).
func apiRoutes(eventID, ruleID uint64) []route {
	return []route{
		{"GET", "/api/v1/events", ""},
		{"GET", fmt.Sprintf("/api/v1/events/%d", eventID), ""},
		{"GET", fmt.Sprintf("/api/v1/events/%d/content", eventID), ""},
		{"GET", "/api/v1/access-log", ""},
		{"GET", "/api/v1/scheduled-reports", ""},
		{"GET", "/api/v1/stats", ""},
		{"GET", "/api/v1/users/jsmith/timeline", ""},
		{"GET", "/api/v1/config", ""},
		{"PUT", "/api/v1/config", `{"notify_min_records": 7}`},
		{"GET", "/api/v1/notifications", ""},
		{"GET", "/api/v1/rules", ""},
		{"POST", "/api/v1/rules", `{"name": "probe rule", "kind": "threshold", "params": {"min_records": 5}}`},
		{"GET", fmt.Sprintf("/api/v1/rules/%d", ruleID), ""},
		{"PUT", fmt.Sprintf("/api/v1/rules/%d", ruleID), `{"name": "renamed", "kind": "threshold", "params": {"min_records": 6}}`},
		{"DELETE", fmt.Sprintf("/api/v1/rules/%d", ruleID), ""},
	}
}

// freshServer is another API server on e's database: its own failed-login
// throttle, so a matrix of refusals is not answered 429 half way.
func freshServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(api.New(e.db, e.dir, e.status, zerolog.Nop()).Handler())
	t.Cleanup(ts.Close)
	return ts
}

func call(t *testing.T, ts *httptest.Server, r route, auth string) resp {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, ts.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, rerr := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b, err: rerr}
}

// TestEveryRouteRefusesWhoeverIsNotAnActiveAdministrator runs each kind of
// bad credentials against every route: 401 (with WWW-Authenticate) for no,
// wrong, unknown, revoked and inactive credentials, 403 for a Vtiger user
// who is not an administrator. Refused requests change nothing: no setting,
// no rule, no content served, no access-log row.
func TestEveryRouteRefusesWhoeverIsNotAnActiveAdministrator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cid := e.insertContent("Contacts.csv", "text/csv", []byte("secret,data\n1,2\n"))
	eventID := e.insertEvent(event{at: time.Now(), user: "jsmith", module: "Contacts", contentID: &cid})
	r := e.do("POST", "/api/v1/rules", e.bearer(), strings.NewReader(`{"name": "r", "kind": "threshold", "params": {"min_records": 1}}`))
	if r.status != http.StatusCreated {
		t.Fatalf("seed rule: %d %s", r.status, r.body)
	}
	var rule ruleJSON
	r.json(t, &rule)
	// An inactive administrator: old (id 7) promoted, still Inactive.
	if _, err := e.db.Exec(`UPDATE vtiger_users SET is_admin = 'on' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	// A deleted administrator: gone (id 8) promoted, still deleted.
	if _, err := e.db.Exec(`UPDATE vtiger_users SET is_admin = 'on' WHERE id = 8`); err != nil {
		t.Fatal(err)
	}
	e.dir.InvalidateUsers()
	revoked, revokedID, err := tracker.CreateToken(ctx, e.db, "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.RevokeToken(ctx, e.db, revokedID); err != nil {
		t.Fatal(err)
	}
	past := time.Now().UTC().Add(-time.Minute)
	expired, _, err := tracker.CreateExpiringToken(ctx, e.db, "expired", &past)
	if err != nil {
		t.Fatal(err)
	}
	accessRows := func() int {
		var n int
		if err := e.db.QueryRow(`SELECT COUNT(*) FROM dxt_access_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := tableCounts(t, e.db)
	configBefore, err := tracker.ReadConfig(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name   string
		auth   string
		status int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"wrong access key", basic("admin", "wrongwrongwrong1"), http.StatusUnauthorized},
		{"access key of another user", basic("admin", jsmithKey), http.StatusUnauthorized},
		{"Vtiger password instead of the access key", basic("admin", "admin"), http.StatusUnauthorized},
		{"unknown user", basic("nobody", adminKey), http.StatusUnauthorized},
		{"inactive administrator", basic("old", oldKey), http.StatusUnauthorized},
		{"deleted administrator", basic("gone", "Sx8goneUserKey08"), http.StatusUnauthorized},
		{"revoked API token", "Bearer " + revoked, http.StatusUnauthorized},
		{"expired API token", "Bearer " + expired, http.StatusUnauthorized},
		{"unknown API token", "Bearer dxt_" + strings.Repeat("0f", 20), http.StatusUnauthorized},
		{"token in the Basic password", basic("admin", e.token), http.StatusUnauthorized},
		{"non-admin Vtiger user", basic("jsmith", jsmithKey), http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := freshServer(t, e)
			for _, rt := range apiRoutes(eventID, rule.ID) {
				r := call(t, ts, rt, c.auth)
				if r.status != c.status {
					t.Errorf("%s %s: %d, want %d: %s", rt.method, rt.path, r.status, c.status, r.body)
					continue
				}
				msg := r.errorMessage(t)
				if c.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") != `Basic realm="dxtracker"` {
					t.Errorf("%s %s: WWW-Authenticate %q", rt.method, rt.path, r.header.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(r.body), "secret,data") {
					t.Fatalf("%s %s: captured content served to %s", rt.method, rt.path, c.name)
				}
				for _, s := range []string{adminKey, jsmithKey, oldKey, e.token, revoked, expired} {
					if strings.Contains(msg, s) {
						t.Errorf("error repeats a secret: %s", msg)
					}
				}
			}
		})
	}

	after := tableCounts(t, e.db)
	for name, n := range before {
		if name != "dxt_api_token" && after[name] != n {
			t.Errorf("refused requests changed %s: %d rows, then %d", name, n, after[name])
		}
	}
	if n := accessRows(); n != int(before["dxt_access_log"]) {
		t.Errorf("refused requests wrote %d access-log rows", n-int(before["dxt_access_log"]))
	}
	configAfter, _ := tracker.ReadConfig(ctx, e.db)
	if configAfter[tracker.KeyNotifyMinRecords] != configBefore[tracker.KeyNotifyMinRecords] {
		t.Errorf("a refused PUT changed notify_min_records to %q", configAfter[tracker.KeyNotifyMinRecords])
	}
	if r := e.get(fmt.Sprintf("/api/v1/rules/%d", rule.ID)); r.status != http.StatusOK || !strings.Contains(string(r.body), `"name":"r"`) {
		t.Errorf("a refused PUT or DELETE changed the rule: %d %s", r.status, r.body)
	}

	// A revoked token stays revoked, the good one keeps working, and an
	// administrator's access key starts working again only by reactivation.
	ts := freshServer(t, e)
	if r := call(t, ts, route{"GET", "/api/v1/events", ""}, e.bearer()); r.status != http.StatusOK {
		t.Errorf("good token: %d", r.status)
	}
	if _, err := e.db.Exec(`UPDATE vtiger_users SET status = 'Active' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	if r := call(t, ts, route{"GET", "/api/v1/events", ""}, basic("old", oldKey)); r.status != http.StatusOK {
		t.Errorf("reactivated administrator: %d %s", r.status, r.body)
	}
	if _, err := e.db.Exec(`UPDATE vtiger_users SET status = 'Inactive' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	// Deactivation takes effect at the next request: no cache in between.
	if r := call(t, ts, route{"GET", "/api/v1/events", ""}, basic("old", oldKey)); r.status != http.StatusUnauthorized {
		t.Errorf("administrator deactivated a moment ago: %d", r.status)
	}
}

// TestContentDownloadIsForAdministratorsAndEveryOneIsLogged downloads as an
// administrator (access key) and with a token, and fails to as everyone
// else: each download has exactly one access-log row saying who, when,
// which event and from where, written before the first byte; the refused
// ones got no byte.
func TestContentDownloadIsForAdministratorsAndEveryOneIsLogged(t *testing.T) {
	e := newEnv(t)
	data := []byte("First Name,Last Name\nAda,Lovelace\n")
	cid := e.insertContent("Contacts.csv", "text/csv", data)
	id := e.insertEvent(event{at: time.Now(), user: "jsmith", module: "Contacts", contentID: &cid})
	path := fmt.Sprintf("/api/v1/events/%d/content", id)

	for _, auth := range []string{"", basic("jsmith", jsmithKey), basic("old", oldKey), basic("admin", "wrongwrongwrong1")} {
		r := e.do("GET", path, auth, nil)
		if r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
			t.Errorf("download with %q: %d", auth, r.status)
		}
		if bytes.Contains(r.body, data) {
			t.Fatalf("content served with %q", auth)
		}
	}
	start := time.Now().Add(-time.Second)
	for _, auth := range []string{basic("admin", adminKey), e.bearer()} {
		r := e.do("GET", path, auth, nil)
		if r.status != http.StatusOK || !bytes.Equal(r.body, data) {
			t.Fatalf("admin download: %d %q", r.status, r.body)
		}
	}
	end := time.Now().Add(time.Second)

	type row struct {
		at                           time.Time
		principal, method, action, p string
		ip                           *string
		eventID                      *uint64
		status                       int
	}
	rows, err := e.db.Query(`SELECT at, principal, auth_method, action, event_id, remote_ip, path, status FROM dxt_access_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.at, &r.principal, &r.method, &r.action, &r.eventID, &r.ip, &r.p, &r.status); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	if len(got) != 2 {
		t.Fatalf("%d access-log rows, want the 2 downloads: %+v", len(got), got)
	}
	for i, want := range []struct{ principal, method string }{{"admin", tracker.AuthBasic}, {"token:test#1", tracker.AuthToken}} {
		g := got[i]
		if g.principal != want.principal || g.method != want.method || g.action != tracker.ActionContentDownload ||
			g.eventID == nil || *g.eventID != id || g.ip == nil || *g.ip != "127.0.0.1" || g.p != path || g.status != http.StatusOK ||
			g.at.Before(start) || g.at.After(end) {
			t.Errorf("access-log row %d: %+v (event %v, ip %v), want %s/%s for event %d from 127.0.0.1 between %v and %v",
				i, g, deref(g.eventID), derefS(g.ip), want.principal, want.method, id, start, end)
		}
	}
}

func deref(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefS(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestAccessLogIsReadableByAdministratorsOnly: GET /api/v1/access-log shows
// the downloads to an administrator (access key or token) and to nobody
// else.
func TestAccessLogIsReadableByAdministratorsOnly(t *testing.T) {
	e := newEnv(t)
	cid := e.insertContent("a.txt", "text/plain", []byte("hello"))
	id := e.insertEvent(event{at: time.Now(), contentID: &cid})
	if r := e.do("GET", fmt.Sprintf("/api/v1/events/%d/content", id), basic("admin", adminKey), nil); r.status != http.StatusOK {
		t.Fatalf("download: %d", r.status)
	}
	for _, auth := range []string{basic("admin", adminKey), e.bearer()} {
		r := e.do("GET", "/api/v1/access-log", auth, nil)
		if r.status != http.StatusOK {
			t.Fatalf("access log as admin: %d %s", r.status, r.body)
		}
		var page struct {
			Entries []accessJSON `json:"entries"`
		}
		r.json(t, &page)
		if len(page.Entries) != 1 || page.Entries[0].Principal != "admin" || page.Entries[0].EventID == nil || *page.Entries[0].EventID != id ||
			page.Entries[0].RemoteIP != "127.0.0.1" || page.Entries[0].At == "" {
			t.Errorf("access log %s", r.body)
		}
	}
	for auth, want := range map[string]int{
		"":                         http.StatusUnauthorized,
		basic("jsmith", jsmithKey): http.StatusForbidden,
		basic("old", oldKey):       http.StatusUnauthorized,
	} {
		r := e.do("GET", "/api/v1/access-log", auth, nil)
		if r.status != want || strings.Contains(string(r.body), "127.0.0.1") {
			t.Errorf("access log with %q: %d %s", auth, r.status, r.body)
		}
	}
}

// TestBeaconOfOneUserCannotBeRecordedAsAnother mounts the beacon endpoint
// on the API server as the daemon does: the body has no field that names a
// user (400 for any attempt), a token re-labelled with another user's id
// fails its signature (401), and a good token is recorded as its own user
// whatever else the body says.
func TestBeaconOfOneUserCannotBeRecordedAsAnother(t *testing.T) {
	e := newEnv(t)
	db := e.db
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	raw, err := tracker.ReadConfig(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st := tracker.ParseSettings(raw)
	svc := beacon.New(db, e.dir, func() tracker.Settings { return st }, zerolog.Nop(), beacon.Options{})
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ts := httptest.NewServer(api.New(db, e.dir, e.status, zerolog.Nop(), api.WithHandler(beacon.Path, svc)).Handler())
	defer ts.Close()

	post := func(fields map[string]any) (int, string) {
		m := map[string]any{"kind": "copy", "url": "https://crm.example.com/index.php?module=Contacts&view=List",
			"module": "Contacts", "view": "List", "chars": 5, "rows": 1, "text": "hello", "ts": time.Now().UnixMilli()}
		for k, v := range fields {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		res, err := ts.Client().Post(ts.URL+beacon.Path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	const jsmith, mjones = 5, 6
	tokenA := beacon.Sign(st.BeaconSecret, jsmith, time.Now().Add(time.Hour))
	for _, field := range []string{"user_id", "userId", "user", "user_name", "USER_ID", "uid", "owner", "assigned_user_id"} {
		if status, body := post(map[string]any{"token": tokenA, field: mjones}); status != http.StatusBadRequest {
			t.Errorf("body naming a user in %q: %d %s", field, status, body)
		}
	}
	relabelled := strings.Replace(tokenA, fmt.Sprintf("v1.%d.", jsmith), fmt.Sprintf("v1.%d.", mjones), 1)
	if status, body := post(map[string]any{"token": relabelled}); status != http.StatusUnauthorized {
		t.Errorf("token of user A relabelled as user B: %d %s", status, body)
	}
	if status, body := post(map[string]any{"token": tokenA}); status != http.StatusNoContent {
		t.Fatalf("good beacon: %d %s", status, body)
	}
	var n, users int
	var uid int64
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT user_id), MIN(user_id) FROM dxt_intake`).Scan(&n, &users, &uid); err != nil {
		t.Fatal(err)
	}
	if n != 1 || users != 1 || uid != jsmith {
		t.Fatalf("intake rows %d, users %d (%d), want one row of user %d", n, users, uid, jsmith)
	}
}
