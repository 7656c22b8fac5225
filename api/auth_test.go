package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/tracker"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// An inactive administrator: old (id 7) promoted, still Inactive.
	if _, err := e.db.Exec(`UPDATE vtiger_users SET is_admin = 'on' WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	e.dir.InvalidateUsers()
	revoked, revokedID, err := tracker.CreateToken(ctx, e.db, "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.RevokeToken(ctx, e.db, revokedID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		auth   string
		status int
	}{
		{"no credentials", "", http.StatusUnauthorized},
		{"good token", e.bearer(), http.StatusOK},
		{"good token, lower-case scheme", "bearer " + e.token, http.StatusOK},
		{"admin access key", basic("admin", adminKey), http.StatusOK},
		{"admin user name in other case", basic("ADMIN", adminKey), http.StatusOK},
		{"bad access key", basic("admin", "wrongwrongwrong1"), http.StatusUnauthorized},
		{"Vtiger password is not the access key", basic("admin", "admin"), http.StatusUnauthorized},
		{"unknown user", basic("nobody", adminKey), http.StatusUnauthorized},
		{"non-admin", basic("jsmith", jsmithKey), http.StatusForbidden},
		{"inactive admin", basic("old", oldKey), http.StatusUnauthorized},
		{"deleted user", basic("gone", "Sx8goneUserKey08"), http.StatusUnauthorized},
		{"revoked token", "Bearer " + revoked, http.StatusUnauthorized},
		{"unknown token", "Bearer dxt_" + strings.Repeat("ab", 20), http.StatusUnauthorized},
		{"malformed token", "Bearer x", http.StatusUnauthorized},
		{"empty basic", "Basic ", http.StatusUnauthorized},
		{"basic without key", basic("admin", ""), http.StatusUnauthorized},
		{"other scheme", "Digest username=admin", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/events", tc.auth, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == http.StatusOK {
				return
			}
			msg := r.errorMessage(t)
			if tc.status == http.StatusUnauthorized {
				if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="dxtracker"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			}
			for _, secret := range []string{adminKey, jsmithKey, oldKey, e.token} {
				if strings.Contains(msg, secret) {
					t.Errorf("error message repeats a secret: %s", msg)
				}
			}
		})
	}

	// Every /api/v1 route is behind authentication.
	for _, p := range []string{"/api/v1/events", "/api/v1/events/1", "/api/v1/events/1/content", "/api/v1/access-log",
		"/api/v1/scheduled-reports", "/api/v1/stats", "/api/v1/config"} {
		if r := e.do("GET", p, "", nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d", p, r.status)
		}
	}
	if r := e.do("PUT", "/api/v1/config", basic("jsmith", jsmithKey), strings.NewReader(`{"track_copy":0}`)); r.status != http.StatusForbidden {
		t.Errorf("PUT config as non-admin: %d", r.status)
	}

	// The request log names the principal and never carries credentials.
	logs := e.logs.String()
	for _, secret := range []string{adminKey, jsmithKey, e.token, revoked, "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
	for _, field := range []string{`"method":"GET"`, `"path":"/api/v1/events"`, `"status":200`, `"duration_ms":`, `"principal":"admin"`, `"principal":"token:test#1"`, `"request_id":"`} {
		if !strings.Contains(logs, field) {
			t.Errorf("request log lacks %s", field)
		}
	}
}

func TestRepeatedAuthFailuresAreThrottled(t *testing.T) {
	e := newEnv(t)
	var last resp
	for range 25 {
		last = e.do("GET", "/api/v1/events", basic("admin", "guessguessguess1"), nil)
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("after 25 failures: %d %v", last.status, last.header)
	}
	last.errorMessage(t)
	// Even the right key waits: guessing must not learn anything more.
	if r := e.do("GET", "/api/v1/events", basic("admin", adminKey), nil); r.status != http.StatusTooManyRequests {
		t.Errorf("good key while throttled: %d", r.status)
	}
}
