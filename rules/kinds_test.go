package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

func TestDefaultRuleNotifiesExportsAtTheMinimumButNotCopies(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		e    ev
		want bool
	}{
		{ev{records: 1000}, true},
		{ev{records: 999}, false},
		{ev{typ: tracker.TypeReportExport, records: 5000}, true},
		{ev{typ: tracker.TypeScheduledReport, records: 1000}, true},
		{ev{typ: tracker.TypeCopy, records: 50000}, false},
		{ev{typ: tracker.TypeScheduledReport, records: -1}, false}, // unknown count, minimum 1000
	} {
		ms := h.eval(nil, tc.e)
		m, got := has(ms, "default")
		if got != tc.want {
			t.Errorf("%s with %d records: default matched %v, want %v", tc.e.typ, tc.e.records, got, tc.want)
		}
		if got && (!m.Notify || m.RuleID != 0 || m.Reason == "") {
			t.Errorf("default match %+v", m)
		}
	}
	h.settings.NotifyMinRecords = 0
	if _, ok := has(h.eval(nil, ev{typ: tracker.TypeScheduledReport, records: -1}), "default"); !ok {
		t.Error("an unknown count must match when notify_min_records is 0")
	}
	if _, ok := has(h.eval(nil, ev{typ: tracker.TypeCopy, records: 1}), "default"); ok {
		t.Error("a copy matched the default rule")
	}
}

func TestThresholdMatchesAtMinRecordsWithinItsFilters(t *testing.T) {
	h := newHarness(t)
	h.rule("big contacts", "threshold", `{"min_records": 500, "modules": ["contacts"], "types": ["listview_export", "copy"]}`)
	for _, tc := range []struct {
		e    ev
		want bool
	}{
		{ev{records: 500}, true},
		{ev{records: 499}, false},
		{ev{records: -1}, false},
		{ev{records: 900, module: "Accounts"}, false},
		{ev{records: 900, typ: tracker.TypeReportExport}, false},
		{ev{records: 900, typ: tracker.TypeCopy, user: "-"}, true},
	} {
		m, got := has(h.eval(nil, tc.e), "big contacts")
		if got != tc.want {
			t.Errorf("%+v: matched %v, want %v", tc.e, got, tc.want)
		}
		if got && !strings.Contains(m.Reason, "minimum 500") {
			t.Errorf("reason %q", m.Reason)
		}
	}
}

func TestVelocityMatchesOnlyTheEventThatCrossesTheBound(t *testing.T) {
	h := newHarness(t)
	h.rule("fast", "velocity", `{"measure": "records", "window": "1h", "min": 1000}`)
	h.rule("many", "velocity", `{"measure": "events", "window": "10m", "min": 3, "types": ["copy"]}`)
	steps := []struct {
		at      time.Duration
		typ     string
		records int64
		fast    bool
		many    bool
	}{
		{0, "", 400, false, false},
		{10 * time.Minute, "", 400, false, false},
		{20 * time.Minute, "", 300, true, false},  // 1,100: crosses
		{30 * time.Minute, "", 500, false, false}, // 1,600: already above, no storm
		{31 * time.Minute, tracker.TypeCopy, 1, false, false},
		{32 * time.Minute, tracker.TypeCopy, 1, false, false},
		{33 * time.Minute, tracker.TypeCopy, 1, false, true}, // third copy in 10 minutes
		{34 * time.Minute, tracker.TypeCopy, 1, false, false},
		// The window slides: at 2h40 only this event is in the last hour.
		{160 * time.Minute, "", 600, false, false},
		{170 * time.Minute, "", 600, true, false}, // 1,200 within the hour: crosses again
	}
	for i, s := range steps {
		ms := h.eval(nil, ev{at: base.Add(s.at), typ: s.typ, records: s.records})
		_, fast := has(ms, "fast")
		_, many := has(ms, "many")
		if fast != s.fast || many != s.many {
			t.Errorf("step %d (+%s): fast %v many %v, want %v %v (%s)", i, s.at, fast, many, s.fast, s.many, names(ms))
		}
	}
	// Another user's volume is not jsmith's.
	if _, ok := has(h.eval(nil, ev{at: base.Add(171 * time.Minute), user: "mary", records: 999}), "fast"); ok {
		t.Error("velocity matched another user's first event under the minimum")
	}
}

func TestWatchlistMatchesEveryTakeOutIncludingCopiesUntilTheEndDate(t *testing.T) {
	h := newHarness(t)
	h.rule("leaving", "watchlist", `{"users": ["JSmith"], "until": "2026-03-31"}`)
	for _, tc := range []struct {
		e    ev
		want bool
	}{
		{ev{at: base, typ: tracker.TypeCopy, records: 1}, true},
		{ev{at: base, records: 0}, true},
		{ev{at: time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)}, true}, // the end date is included
		{ev{at: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, false},
		{ev{at: base, user: "mary"}, false},
	} {
		m, got := has(h.eval(nil, tc.e), "leaving")
		if got != tc.want {
			t.Errorf("%s %s at %s: matched %v, want %v", tc.e.user, tc.e.typ, tc.e.at, got, tc.want)
		}
		if got && !strings.Contains(m.Reason, "watchlist") {
			t.Errorf("reason %q", m.Reason)
		}
	}
}

func TestOffHoursMatchesOutsideWorkingTimeInTheRuleTimezone(t *testing.T) {
	h := newHarness(t)
	h.rule("night", "off_hours", `{"timezone": "Asia/Tokyo", "days": [1,2,3,4,5], "start": "09:00", "end": "18:00"}`)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 2, 9, 0, 0, 0, tokyo), false},   // Monday 09:00
		{time.Date(2026, 3, 2, 17, 59, 0, 0, tokyo), false}, // Monday 17:59
		{time.Date(2026, 3, 2, 18, 0, 0, 0, tokyo), true},   // Monday 18:00
		{time.Date(2026, 3, 2, 8, 59, 0, 0, tokyo), true},
		{time.Date(2026, 3, 7, 11, 0, 0, 0, tokyo), true}, // Saturday
		{base, true}, // Monday 10:00 UTC is 19:00 in Tokyo
	} {
		m, got := has(h.eval(nil, ev{at: tc.at}), "night")
		if got != tc.want {
			t.Errorf("%s: matched %v, want %v", tc.at, got, tc.want)
		}
		if got && !strings.Contains(m.Reason, "Asia/Tokyo") {
			t.Errorf("reason %q", m.Reason)
		}
	}
}

func TestFirstTimeMatchesAUsersFirstModuleInNDays(t *testing.T) {
	h := newHarness(t)
	h.rule("first", "first_time", `{"days": 30}`)
	day := 24 * time.Hour
	for i, tc := range []struct {
		e    ev
		want bool
	}{
		{ev{at: base}, true}, // the user's first event ever counts by default
		{ev{at: base.Add(day)}, false},
		{ev{at: base.Add(2 * day), module: "accounts"}, true},
		{ev{at: base.Add(3 * day), module: "Accounts"}, false}, // same module, other case
		{ev{at: base.Add(40 * day), module: "Accounts"}, true}, // 37 days after the last one
		{ev{at: base.Add(41 * day), user: "mary"}, true},
	} {
		m, got := has(h.eval(nil, tc.e), "first")
		if got != tc.want {
			t.Errorf("step %d: matched %v, want %v", i, got, tc.want)
		}
		if got && !strings.Contains(m.Reason, "in 30 days") {
			t.Errorf("reason %q", m.Reason)
		}
	}
	h.rule("first quiet", "first_time", `{"days": 30, "include_first": false}`)
	if _, ok := has(h.eval(nil, ev{at: base.Add(42 * day), user: "newbie"}), "first quiet"); ok {
		t.Error("include_first false: a user's first event matched")
	}
	if _, ok := has(h.eval(nil, ev{at: base.Add(42 * day), user: "newbie", module: "Leads"}), "first quiet"); !ok {
		t.Error("include_first false: the user's second module did not match")
	}
}

func TestNewIPMatchesUnseenIPsAndSkipsTheFirstEventByDefault(t *testing.T) {
	h := newHarness(t)
	h.rule("new ip", "new_ip", `{"days": 7}`)
	h.rule("new ip incl", "new_ip", `{"days": 7, "include_first": true}`)
	day := 24 * time.Hour
	for i, tc := range []struct {
		e          ev
		want, incl bool
	}{
		{ev{at: base, ip: "192.0.2.1"}, false, true}, // first event ever
		{ev{at: base.Add(day), ip: "192.0.2.1"}, false, false},
		{ev{at: base.Add(day), ip: "198.51.100.9"}, true, true},
		{ev{at: base.Add(2 * day)}, false, false}, // no IP: ignored
		{ev{at: base.Add(20 * day), ip: "192.0.2.1"}, true, true},
	} {
		ms := h.eval(nil, tc.e)
		m, got := has(ms, "new ip")
		_, incl := has(ms, "new ip incl")
		if got != tc.want || incl != tc.incl {
			t.Errorf("step %d: new ip %v incl %v, want %v %v", i, got, incl, tc.want, tc.incl)
		}
		if got && !strings.Contains(m.Reason, tc.e.ip) {
			t.Errorf("reason %q", m.Reason)
		}
	}
}

func TestExternalRecipientsListsTheOutsideAddresses(t *testing.T) {
	h := newHarness(t)
	h.rule("outside", "external_recipients", `{}`)
	recips := []map[string]any{
		{"name": "Ann", "email": "ann@example.com", "via": []string{"USER::5"}, "external": false},
		{"name": "", "email": "bob@gmail.example", "via": []string{"specific"}, "external": true},
	}
	m, ok := has(h.eval(nil, ev{typ: tracker.TypeScheduledReport, records: -1,
		details: map[string]any{"recipients": recips, "external_recipients": 1}}), "outside")
	if !ok || !strings.Contains(m.Reason, "bob@gmail.example") || strings.Contains(m.Reason, "ann@") {
		t.Errorf("external delivery: matched %v, reason %q", ok, m.Reason)
	}
	if _, ok := has(h.eval(nil, ev{typ: tracker.TypeScheduledReport, records: -1,
		details: map[string]any{"recipients": recips[:1], "external_recipients": 0}}), "outside"); ok {
		t.Error("an internal delivery matched")
	}
	if _, ok := has(h.eval(nil, ev{typ: tracker.TypeReportExport,
		details: map[string]any{"external_recipients": 3}}), "outside"); ok {
		t.Error("a report export matched external_recipients")
	}
}
