package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dxtracker/dxtracker/api"
)

// countingInvalidator records how often the API told the engine.
type countingInvalidator struct{ n atomic.Int64 }

func (c *countingInvalidator) Invalidate() { c.n.Add(1) }

type ruleJSON struct {
	ID        uint64         `json:"id"`
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	Enabled   bool           `json:"enabled"`
	Severity  string         `json:"severity"`
	Notify    bool           `json:"notify"`
	Params    map[string]any `json:"params"`
	UpdatedBy string         `json:"updated_by"`
}

func TestRulesCRUDRecordsWhoAndTellsTheEngine(t *testing.T) {
	inv := &countingInvalidator{}
	e := newEnv(t, api.WithRules(inv))
	send := func(method, path, body string) resp {
		return e.do(method, path, basic("admin", adminKey), strings.NewReader(body))
	}
	r := send("POST", "/api/v1/rules", `{"name": "Big Contacts", "kind": "threshold", "severity": "high", "params": {"min_records": 1000, "modules": ["Contacts"]}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created ruleJSON
	r.json(t, &created)
	if created.ID == 0 || created.Severity != "high" || !created.Enabled || !created.Notify || created.UpdatedBy != "admin" ||
		created.Params["min_records"] != float64(1000) || r.header.Get("Location") == "" {
		t.Errorf("created %+v (Location %q)", created, r.header.Get("Location"))
	}
	path := "/api/v1/rules/" + itoa(created.ID)

	r = e.get(path)
	var got ruleJSON
	r.json(t, &got)
	if r.status != http.StatusOK || got.Name != "Big Contacts" {
		t.Errorf("get: %d %s", r.status, r.body)
	}

	r = e.do("PUT", path, e.bearer(), strings.NewReader(`{"name": "Big Contacts", "kind": "velocity", "notify": false, "params": {"window": "1h", "min": 5000}}`))
	if r.status != http.StatusOK {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	r.json(t, &got)
	if got.Kind != "velocity" || got.Notify || got.Severity != "medium" || !strings.HasPrefix(got.UpdatedBy, "token:test#") ||
		got.Params["window"] != "1h" || got.Params["measure"] != "records" {
		t.Errorf("updated %+v", got)
	}

	var list struct {
		Rules []ruleJSON `json:"rules"`
	}
	r = e.get("/api/v1/rules")
	r.json(t, &list)
	if r.status != http.StatusOK || len(list.Rules) != 1 || list.Rules[0].ID != created.ID {
		t.Errorf("list: %d %s", r.status, r.body)
	}

	if r := send("DELETE", path, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := e.get(path); r.status != http.StatusNotFound || r.errorMessage(t) == "" {
		t.Errorf("get after delete: %d %s", r.status, r.body)
	}
	if n := inv.n.Load(); n != 3 {
		t.Errorf("engine told %d times, want 3 (create, update, delete)", n)
	}
	var audited int
	e.db.QueryRow(`SELECT COUNT(*) FROM dxt_access_log WHERE action LIKE 'rule_%' AND principal = 'admin'`).Scan(&audited)
	if audited != 2 {
		t.Errorf("%d rule changes by admin in the access log, want 2", audited)
	}
}

func TestRulesAnswer400NamingTheField409OnDuplicateAnd404(t *testing.T) {
	e := newEnv(t)
	post := func(body string) resp {
		return e.do("POST", "/api/v1/rules", e.bearer(), strings.NewReader(body))
	}
	if r := post(`{"name": "dup", "kind": "new_ip", "params": {"days": 30}}`); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"kind": "threshold", "params": {"min_records": 10}}`, "name"},
		{`{"name": "default", "kind": "threshold", "params": {"min_records": 10}}`, "name"},
		{`{"name": "x", "kind": "sometimes"}`, "kind"},
		{`{"name": "x", "kind": "threshold", "severity": "urgent", "params": {"min_records": 10}}`, "severity"},
		{`{"name": "x", "kind": "threshold", "params": {"min_records": 0}}`, "params.min_records"},
		{`{"name": "x", "kind": "threshold", "params": {"min_records": "ten"}}`, "params.min_records"},
		{`{"name": "x", "kind": "threshold", "params": {"min_records": 5, "minimum": 3}}`, "params.minimum"},
		{`{"name": "x", "kind": "velocity", "params": {"window": "soon", "min": 5}}`, "params.window"},
		{`{"name": "x", "kind": "off_hours", "params": {"timezone": "Mars/Olympus", "start": "09:00", "end": "18:00"}}`, "params.timezone"},
		{`{"name": "x", "kind": "watchlist", "params": {"users": []}}`, "params.users"},
		{`{"name": "x", "kind": "threshold", "enabled": "yes", "params": {"min_records": 5}}`, "enabled"},
		{`{"name": "x", "kind": "threshold", "colour": "red", "params": {"min_records": 5}}`, "colour"},
		{`[1]`, "body"},
		{`not json`, "body"},
	} {
		r := post(tc.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", tc.body, r.status)
			continue
		}
		if msg := r.errorMessage(t); !strings.Contains(msg, tc.field) {
			t.Errorf("POST %s: %q does not name %s", tc.body, msg, tc.field)
		}
	}
	r := post(`{"name": "dup", "kind": "new_ip", "params": {"days": 7}}`)
	if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(t), "name") {
		t.Errorf("duplicate name: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/rules/999", e.bearer(), strings.NewReader(`{"name": "y", "kind": "new_ip", "params": {"days": 7}}`)); r.status != http.StatusNotFound {
		t.Errorf("PUT missing rule: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/rules/999", e.bearer(), nil); r.status != http.StatusNotFound {
		t.Errorf("DELETE missing rule: %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/rules/abc"); r.status != http.StatusBadRequest {
		t.Errorf("bad id: %d", r.status)
	}
}

func TestRulesNeedAnAdministrator(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/api/v1/rules", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/rules", basic("jsmith", jsmithKey), strings.NewReader(`{"name": "x", "kind": "new_ip", "params": {"days": 7}}`)); r.status != http.StatusForbidden {
		t.Errorf("non-admin: %d %s", r.status, r.body)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
