package rules_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/rules"
)

func TestValidationNamesTheFieldAndShowsAnExample(t *testing.T) {
	for _, tc := range []struct {
		kind, params, field string
	}{
		{"threshold", `{}`, "params.min_records"},
		{"threshold", `{"min_records": 10, "types": ["download"]}`, "params.types"},
		{"threshold", `{"min_records": 10, "modules": [""]}`, "params.modules"},
		{"threshold", `[1]`, "params"},
		{"velocity", `{"window": "1h"}`, "params.min"},
		{"velocity", `{"window": "10s", "min": 5}`, "params.window"},
		{"velocity", `{"window": 3600, "min": 5}`, "params.window"},
		{"velocity", `{"measure": "bytes", "window": "1h", "min": 5}`, "params.measure"},
		{"watchlist", `{"users": ["a"], "until": "next friday"}`, "params.until"},
		{"off_hours", `{"timezone": "Asia/Tokyo", "start": "9am", "end": "18:00"}`, "params.start"},
		{"off_hours", `{"timezone": "Asia/Tokyo", "start": "18:00", "end": "09:00"}`, "params.end"},
		{"off_hours", `{"timezone": "Asia/Tokyo", "days": [7], "start": "09:00", "end": "18:00"}`, "params.days"},
		{"first_time", `{"days": 0}`, "params.days"},
		{"new_ip", `{"days": 30, "include_first": "yes"}`, "params.include_first"},
		{"external_recipients", `{"types": ["copy"]}`, "params.types"},
	} {
		_, err := rules.Spec{Name: "r", Kind: tc.kind, Params: json.RawMessage(tc.params)}.Validate()
		var ve *rules.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s %s: error %v, want a ValidationError", tc.kind, tc.params, err)
			continue
		}
		if ve.Field != tc.field || !strings.Contains(err.Error(), "e.g.") {
			t.Errorf("%s %s: %q, want field %s and an example", tc.kind, tc.params, err, tc.field)
		}
	}
}

func TestValidationNormalisesAndFillsDefaults(t *testing.T) {
	r, err := rules.Spec{Name: " Night ", Kind: "off_hours", Severity: "HIGH",
		Params: json.RawMessage(`{"timezone": "Europe/Berlin", "start": "08:00", "end": "17:30"}`)}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	p := r.Params.(*rules.OffHoursParams)
	if r.Name != "Night" || r.Severity != "high" || !r.Enabled || !r.Notify || len(p.Days) != 5 {
		t.Errorf("rule %+v params %+v", r, p)
	}
	v, err := rules.Spec{Name: "v", Kind: "velocity", Params: json.RawMessage(`{"window": "168h", "min": 3}`)}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v.Params)
	if string(b) != `{"measure":"records","window":"7d","min":3}` {
		t.Errorf("velocity params stored as %s", b)
	}
}

func TestStoreRefusesDuplicateNamesAndReportsMissingRules(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	spec := rules.Spec{Name: "Same", Kind: "new_ip", Params: json.RawMessage(`{"days": 7}`)}
	a, err := h.store.Create(ctx, spec, "admin")
	if err != nil {
		t.Fatal(err)
	}
	spec.Name = "same" // the column compares case-insensitively
	if _, err := h.store.Create(ctx, spec, "admin"); !errors.Is(err, rules.ErrDuplicateName) {
		t.Errorf("duplicate create: %v", err)
	}
	b, err := h.store.Create(ctx, rules.Spec{Name: "Other", Kind: "new_ip", Params: json.RawMessage(`{"days": 7}`)}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Update(ctx, b.ID, spec, "admin"); !errors.Is(err, rules.ErrDuplicateName) {
		t.Errorf("rename onto an existing name: %v", err)
	}
	if _, err := h.store.Update(ctx, 9999, spec, "admin"); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
	if err := h.store.Delete(ctx, 9999); !errors.Is(err, rules.ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	if _, err := h.store.Get(ctx, a.ID); err != nil {
		t.Errorf("get: %v", err)
	}
	// A row broken by hand is reported, not fatal, and skipped by the engine.
	h.db.Exec(`UPDATE dxt_rule SET params = '{"days": -1}' WHERE id = ?`, a.ID)
	list, broken, err := h.store.List(ctx)
	if err != nil || len(list) != 1 || broken[a.ID] == nil {
		t.Errorf("list with a broken row: %d rules, broken %v, err %v", len(list), broken, err)
	}
	h.engine.Invalidate()
	h.eval(nil, ev{ip: "192.0.2.1"})
}
