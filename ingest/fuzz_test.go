package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// fakeDirectory is a Vtiger with users 1 (admin) and 5 (jsmith) and the
// Contacts module, for tests that need no database.
type fakeDirectory struct{}

func (fakeDirectory) User(_ context.Context, id int64) (vtiger.User, bool, error) {
	switch id {
	case 1:
		return vtiger.User{ID: 1, UserName: "admin"}, true, nil
	case 5:
		return vtiger.User{ID: 5, UserName: "jsmith"}, true, nil
	}
	return vtiger.User{}, false, nil
}
func (fakeDirectory) InvalidateUsers() {}
func (fakeDirectory) ModuleExists(_ context.Context, name string) (bool, error) {
	return name == "Contacts", nil
}
func (fakeDirectory) LastLoginIP(context.Context, string) (string, bool, error) {
	return "10.0.0.5", true, nil
}
func (fakeDirectory) Report(context.Context, int64) (vtiger.Report, bool, error) {
	return vtiger.Report{}, false, nil
}
func (fakeDirectory) Schedules(context.Context) ([]vtiger.Schedule, error) { return nil, nil }
func (fakeDirectory) ResolveRecipients(context.Context, vtiger.Schedule, []string) ([]vtiger.Recipient, error) {
	return nil, nil
}
func (fakeDirectory) CompanyDomains(context.Context, []string) ([]string, error) { return nil, nil }

// FuzzIntakeDetails feeds any text as the details column of an intake row
// (and any kind and client IP) through what the processor does with it
// before writing: the event for the row, the copy path's hash lookup and
// the merges of scheduled and repeated copies. It must never panic, never
// block, always yield details the event insert can encode as a JSON object
// carrying the intake id, and keep (with a warning) details that are not a
// JSON object, so nothing is silently dropped.
func FuzzIntakeDetails(f *testing.F) {
	for _, s := range [][3]string{
		{"listview_export", `{"mode":"ExportAllData","viewname":"7"}`, "192.0.2.7"},
		{"report_export", `{"report_id":26,"format":"CSV","report_name":"Q1"}`, ""},
		{"report_export", `{"report_id":"26abc","truncated":true}`, ""},
		{"report_export", `{"report_id":1e400}`, ""},
		{"copy", `{"via":"beacon","text_sha256":"` + strings.Repeat("ab", 32) + `","chars":12}`, "10.0.0.5"},
		{"copy", `{"text_sha256":5}`, ""},
		{"scheduled_report", `{"warnings":["forged"],"intake_id":-1}`, ""},
		{"listview_export", `{not json`, ""},
		{"listview_export", `{"a":1} trailing`, ""},
		{"listview_export", `{"a":1}{"b":2}`, ""},
		{"listview_export", `null`, ""},
		{"listview_export", `[1,2,3]`, ""},
		{"listview_export", `"just a string"`, ""},
		{"listview_export", `{"a":{"a":{"a":{"a":[[[[[[[[[[]]]]]]]]]]}}}}`, ""},
		{"listview_export", strings.Repeat("[", 20000), ""},
		{"listview_export", `{"a":"\ud800","b":"\u0000"}`, ""},
		{"listview_export", "{\"a\":\"\xff\xfe\"}", ""},
		{"listview_export", `{"a":1,"a":2}`, ""},
		{"listview_export", "", ""},
		{"listview_export", "   ", "not an ip"},
		{"DROP TABLE dxt_event", `{}`, "' OR 1=1 --"},
		{"", `{}`, ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	p := New(nil, fakeDirectory{}, zerolog.Nop(), Options{})
	st := tracker.ParseSettings(nil)
	at := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, kind, details, clientIP string) {
		r := intakeRow{
			id: 77, kind: kind, occurredAt: at,
			userID:   sql.NullInt64{Int64: 5, Valid: true},
			module:   sql.NullString{String: "Contacts", Valid: true},
			clientIP: sql.NullString{String: clientIP, Valid: clientIP != ""},
			details:  sql.NullString{String: details, Valid: true},
		}
		done := make(chan struct{})
		var (
			ev  tracker.NewEvent
			err error
		)
		go func() {
			defer close(done)
			ev, err = p.eventFromIntake(context.Background(), nil, r, st, map[string]string{})
			_ = copySHA(r)
			if merged, merr := mergeDetails(details, map[string]any{"report_id": int64(26)}); merr != nil {
				t.Errorf("mergeDetails(%q): %v", details, merr)
			} else if !json.Valid([]byte(merged)) {
				t.Errorf("mergeDetails(%q) = %q is not JSON", details, merged)
			}
			d := decodeDetails(details)
			bumpRepeat(d, at.Format(time.RFC3339Nano))
			if _, merr := json.Marshal(d); merr != nil {
				t.Errorf("repeat merge of %q cannot be encoded: %v", details, merr)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("details %q: processing blocked", details)
		}
		if err != nil {
			t.Fatalf("details %q: %v", details, err)
		}
		b, err := json.Marshal(ev.Details)
		if err != nil {
			t.Fatalf("details %q: event details cannot be encoded: %v", details, err)
		}
		var back map[string]any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber() // 1e400 is valid JSON, just not a float64
		if err := dec.Decode(&back); err != nil || back == nil {
			t.Fatalf("details %q: stored details %s are not a JSON object", details, b)
		}
		if back["intake_id"] != json.Number("77") {
			t.Fatalf("details %q: intake_id %v", details, back["intake_id"])
		}
		trimmed := strings.TrimSpace(details)
		isObject := json.Valid([]byte(trimmed)) && strings.HasPrefix(trimmed, "{")
		if trimmed != "" && !isObject {
			var want string
			enc, _ := json.Marshal(details) // as the event insert encodes it
			_ = json.Unmarshal(enc, &want)
			if back["raw_details"] != want || !hasWarning(ev.Details, "details is not a JSON object") {
				t.Fatalf("details %q are not a JSON object but were not kept with a warning: %s", details, b)
			}
		}
		if ev.Type != kind && ev.Type != "unknown" {
			t.Fatalf("kind %q became type %q", kind, ev.Type)
		}
	})
}

func hasWarning(d map[string]any, want string) bool {
	ws, _ := d["warnings"].([]string)
	for _, w := range ws {
		if w == want {
			return true
		}
	}
	return false
}
