package api_test

import (
	"net/http"
	"testing"
	"time"
)

func TestTimelineInterleavesSessionsAndTakeOutsNewestFirst(t *testing.T) {
	e := newEnv(t)
	// The seed has jsmith signed in from 10.0.0.5 at 2026-12-04 19:21:10.
	if _, err := e.db.Exec(`INSERT INTO vtiger_loginhistory (login_id, user_name, user_ip, logout_time, login_time, status)
VALUES (10, 'jsmith', '10.0.0.5', '2026-12-04 12:00:00', '2026-12-04 08:00:00', 'Signed off'),
       (11, 'mjones', '10.0.0.6', NULL, '2026-12-04 09:30:00', 'Signed in')`); err != nil {
		t.Fatal(err)
	}
	day := func(h, m int) time.Time { return time.Date(2026, 12, 4, h, m, 0, 0, time.UTC) }
	inSession := e.insertEvent(event{at: day(9, 0), typ: "listview_export", user: "jsmith", ip: "10.0.0.5"})
	between := e.insertEvent(event{at: day(13, 0), typ: "copy", user: "jsmith", ip: "192.0.2.7"})
	elsewhere := e.insertEvent(event{at: day(19, 30), typ: "copy", user: "jsmith", ip: "192.0.2.7"})
	e.insertEvent(event{at: day(10, 0), typ: "copy", user: "mjones", ip: "10.0.0.6"})

	type item struct {
		At      time.Time `json:"at"`
		Kind    string    `json:"kind"`
		Session *struct {
			LoginID    int64      `json:"login_id"`
			IP         string     `json:"ip"`
			LogoutTime *time.Time `json:"logout_time"`
			Status     string     `json:"status"`
		} `json:"session"`
		Event *struct {
			ID uint64 `json:"id"`
		} `json:"event"`
		LoginID          *int64 `json:"login_id"`
		IPMatchesSession *bool  `json:"ip_matches_session"`
	}
	var body struct {
		User      string `json:"user"`
		UserID    *int64 `json:"user_id"`
		Items     []item `json:"items"`
		Truncated bool   `json:"truncated"`
	}
	r := e.get("/api/v1/users/jsmith/timeline")
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r.json(t, &body)
	if body.User != "jsmith" || body.UserID == nil || *body.UserID != 5 || body.Truncated {
		t.Fatalf("header %+v", body)
	}
	type want struct {
		kind    string
		at      time.Time
		event   uint64
		loginID int64 // 0: none
		match   *bool
	}
	yes, no := true, false
	wants := []want{
		{"event", day(19, 30), elsewhere, 3, &no},
		{"login", time.Date(2026, 12, 4, 19, 21, 10, 0, time.UTC), 0, 3, nil},
		{"event", day(13, 0), between, 0, nil},
		{"logout", day(12, 0), 0, 10, nil},
		{"event", day(9, 0), inSession, 10, &yes},
		{"login", day(8, 0), 0, 10, nil},
	}
	if len(body.Items) != len(wants) {
		t.Fatalf("%d items, want %d: %s", len(body.Items), len(wants), r.body)
	}
	for i, w := range wants {
		it := body.Items[i]
		if it.Kind != w.kind || !it.At.Equal(w.at) {
			t.Errorf("item %d: %s at %s, want %s at %s", i, it.Kind, it.At, w.kind, w.at)
			continue
		}
		switch w.kind {
		case "event":
			if it.Event == nil || it.Event.ID != w.event {
				t.Errorf("item %d: event %+v, want %d", i, it.Event, w.event)
			}
			if (w.loginID == 0) != (it.LoginID == nil) || (it.LoginID != nil && *it.LoginID != w.loginID) {
				t.Errorf("item %d: login_id %v, want %d", i, it.LoginID, w.loginID)
			}
			if (w.match == nil) != (it.IPMatchesSession == nil) || (w.match != nil && *w.match != *it.IPMatchesSession) {
				t.Errorf("item %d: ip_matches_session %v, want %v", i, it.IPMatchesSession, w.match)
			}
		default:
			if it.Session == nil || it.Session.LoginID != w.loginID || it.Session.IP != "10.0.0.5" {
				t.Errorf("item %d: session %+v", i, it.Session)
			}
		}
	}

	// A window, and a limit that cuts.
	r = e.get("/api/v1/users/jsmith/timeline?from=2026-12-04T10:00:00Z&to=2026-12-04T19:00:00Z")
	body.Items = nil
	r.json(t, &body)
	if len(body.Items) != 2 || body.Items[0].Kind != "event" || body.Items[1].Kind != "logout" || body.Truncated {
		t.Fatalf("window: %s", r.body)
	}
	r = e.get("/api/v1/users/jsmith/timeline?limit=2")
	body.Items = nil
	r.json(t, &body)
	if len(body.Items) != 2 || !body.Truncated {
		t.Fatalf("limit 2: %s", r.body)
	}

	if r := e.get("/api/v1/users/nobody/timeline"); r.status != http.StatusNotFound {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/users/jsmith/timeline?limit=0"); r.status != http.StatusBadRequest {
		t.Errorf("limit=0: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/users/jsmith/timeline", basic("jsmith", jsmithKey), nil); r.status != http.StatusForbidden {
		t.Errorf("non-admin: %d", r.status)
	}
}
