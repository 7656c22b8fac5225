package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Params is the kind-specific part of a rule: one of *ThresholdParams,
// *VelocityParams, *WatchlistParams, *OffHoursParams, *FirstTimeParams,
// *NewIPParams, *ExternalRecipientsParams. It marshals as the JSON object
// clients send.
type Params interface {
	// check validates and normalises the params in place; field names in
	// its errors are relative to params.
	check() error
}

// Filter narrows a rule to some event types and modules; empty = all.
type Filter struct {
	Types   []string `json:"types,omitempty"`
	Modules []string `json:"modules,omitempty"`
}

// ThresholdParams: records in one event at least MinRecords.
type ThresholdParams struct {
	MinRecords int64 `json:"min_records"`
	Filter
}

// Measures of a velocity rule.
const (
	MeasureRecords = "records"
	MeasureEvents  = "events"
)

// VelocityParams: a user's records (or events) within Window at least Min.
type VelocityParams struct {
	Measure string   `json:"measure"`
	Window  Duration `json:"window"`
	Min     int64    `json:"min"`
	Filter
}

// WatchlistParams: every take-out of Users (copies included) until Until.
type WatchlistParams struct {
	Users []string `json:"users"`
	// Until is inclusive: an RFC 3339 instant, or a date (YYYY-MM-DD, the
	// whole day in UTC). Empty: no end.
	Until string `json:"until,omitempty"`
	Filter

	until time.Time // first instant no longer watched; zero = never
}

// OffHoursParams: an event outside Start–End on Days in Timezone.
type OffHoursParams struct {
	Timezone string `json:"timezone"`
	Days     []int  `json:"days"` // working weekdays, 0 = Sunday
	Start    string `json:"start"`
	End      string `json:"end"`
	Filter

	loc        *time.Location
	start, end int // minutes after midnight
	working    [7]bool
}

// FirstTimeParams: a user's first event from a module in Days days.
type FirstTimeParams struct {
	Days int `json:"days"`
	// IncludeFirst: does a user's very first event in the log count?
	// Default true (the first export of a new user is news); set false to
	// stay quiet while the log fills after installation.
	IncludeFirst *bool `json:"include_first,omitempty"`
	Filter
}

// NewIPParams: an IP not seen for that user in Days days.
type NewIPParams struct {
	Days int `json:"days"`
	// IncludeFirst: does a user's very first event in the log count? Default
	// false: with no history there is nothing to compare with, and every
	// user would match once right after installation.
	IncludeFirst bool `json:"include_first,omitempty"`
	Filter
}

// ExternalRecipientsParams: a scheduled report delivered to at least
// MinExternal addresses outside the company's mail domains.
type ExternalRecipientsParams struct {
	MinExternal int      `json:"min_external,omitempty"` // default 1
	Modules     []string `json:"modules,omitempty"`
}

// A good example of each kind's params, shown in validation errors.
var examples = map[string]string{
	KindThreshold:          `{"min_records": 1000, "types": ["listview_export"], "modules": ["Contacts"]}`,
	KindVelocity:           `{"measure": "records", "window": "1h", "min": 5000}`,
	KindWatchlist:          `{"users": ["jsmith"], "until": "2026-12-31"}`,
	KindOffHours:           `{"timezone": "Asia/Tokyo", "days": [1,2,3,4,5], "start": "09:00", "end": "18:00"}`,
	KindFirstTime:          `{"days": 90, "modules": ["Contacts", "Accounts"]}`,
	KindNewIP:              `{"days": 30}`,
	KindExternalRecipients: `{"min_external": 1}`,
}

// Example returns a valid params object for kind ("" for an unknown kind).
func Example(kind string) string { return examples[kind] }

func newParams(kind string) Params {
	switch kind {
	case KindThreshold:
		return &ThresholdParams{}
	case KindVelocity:
		return &VelocityParams{}
	case KindWatchlist:
		return &WatchlistParams{}
	case KindOffHours:
		return &OffHoursParams{}
	case KindFirstTime:
		return &FirstTimeParams{}
	case KindNewIP:
		return &NewIPParams{}
	case KindExternalRecipients:
		return &ExternalRecipientsParams{}
	}
	return nil
}

// decodeParams decodes raw strictly into kind's params and checks them.
func decodeParams(kind string, raw json.RawMessage) (Params, error) {
	p := newParams(kind)
	if p == nil {
		return nil, invalid("kind", "want one of %s, got %q", strings.Join(Kinds(), ", "), kind)
	}
	ex := examples[kind]
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage(`{}`)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, invalid("params", "want a JSON object, e.g. %s", ex)
	}
	known := jsonFields(p)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, invalid("params."+n, "unknown for a %s rule (known: %s), e.g. %s", kind, strings.Join(known, ", "), ex)
		}
	}
	if err := json.Unmarshal(raw, p); err != nil {
		var te *json.UnmarshalTypeError
		var de *durationError
		switch {
		case errors.As(err, &de):
			return nil, invalid("params.window", "%v, e.g. %s", de, ex)
		case errors.As(err, &te) && te.Field != "":
			return nil, invalid("params."+te.Field, "want a %s, got a JSON %s, e.g. %s", jsonKind(te.Type.Kind().String()), te.Value, ex)
		}
		return nil, invalid("params", "%v, e.g. %s", err, ex)
	}
	if err := p.check(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, &ValidationError{Field: "params." + ve.Field, Msg: ve.Msg + ", e.g. " + ex}
		}
		return nil, err
	}
	return p, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32":
		return "whole number"
	case "slice":
		return "list"
	case "bool":
		return "true or false"
	}
	return goKind
}

// jsonFields lists the JSON names a params struct accepts.
func jsonFields(p Params) []string {
	switch p.(type) {
	case *ThresholdParams:
		return []string{"min_records", "types", "modules"}
	case *VelocityParams:
		return []string{"measure", "window", "min", "types", "modules"}
	case *WatchlistParams:
		return []string{"users", "until", "types", "modules"}
	case *OffHoursParams:
		return []string{"timezone", "days", "start", "end", "types", "modules"}
	case *FirstTimeParams:
		return []string{"days", "include_first", "types", "modules"}
	case *NewIPParams:
		return []string{"days", "include_first", "types", "modules"}
	case *ExternalRecipientsParams:
		return []string{"min_external", "modules"}
	}
	return nil
}

var eventTypes = []string{tracker.TypeListviewExport, tracker.TypeReportExport, tracker.TypeScheduledReport, tracker.TypeCopy}

func (f *Filter) check() error {
	for i, t := range f.Types {
		t = strings.ToLower(strings.TrimSpace(t))
		if !slices.Contains(eventTypes, t) {
			return invalid("types", "%q is not an event type (want some of %s)", f.Types[i], strings.Join(eventTypes, ", "))
		}
		f.Types[i] = t
	}
	f.Types = dedupe(f.Types)
	for i, m := range f.Modules {
		if m = strings.TrimSpace(m); m == "" {
			return invalid("modules", "empty module name (want Vtiger module names such as Contacts)")
		}
		f.Modules[i] = m
	}
	f.Modules = dedupe(f.Modules)
	return nil
}

// allows reports whether the filter lets ev through. Module names compare
// case-insensitively, as the database does.
func (f *Filter) allows(ev *Event) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, ev.Type) {
		return false
	}
	return moduleIn(f.Modules, ev.Module)
}

func moduleIn(list []string, module string) bool {
	if len(list) == 0 {
		return true
	}
	for _, m := range list {
		if strings.EqualFold(m, module) {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out
}

const maxRecords = 1<<31 - 1 // record_count is an INT

func (p *ThresholdParams) check() error {
	if p.MinRecords < 1 || p.MinRecords > maxRecords {
		return invalid("min_records", "want a whole number from 1 to %d, got %d", maxRecords, p.MinRecords)
	}
	return p.Filter.check()
}

// Bounds of a velocity window: the state of every user covers the longest
// window in memory.
const (
	minWindow = time.Minute
	maxWindow = 31 * 24 * time.Hour
)

func (p *VelocityParams) check() error {
	p.Measure = strings.ToLower(strings.TrimSpace(p.Measure))
	if p.Measure == "" {
		p.Measure = MeasureRecords
	}
	if p.Measure != MeasureRecords && p.Measure != MeasureEvents {
		return invalid("measure", "want records or events, got %q", p.Measure)
	}
	if p.Window.D == 0 {
		return invalid("window", `required: a duration such as "30m", "1h" or "7d"`)
	}
	if p.Window.D < minWindow || p.Window.D > maxWindow {
		return invalid("window", "want from 1m to 31d, got %s", p.Window)
	}
	if p.Min < 1 || p.Min > 1<<40 {
		return invalid("min", "want a whole number of at least 1, got %d", p.Min)
	}
	return p.Filter.check()
}

func (p *WatchlistParams) check() error {
	if len(p.Users) == 0 {
		return invalid("users", "want at least one Vtiger user name")
	}
	for i, u := range p.Users {
		if u = strings.TrimSpace(u); u == "" {
			return invalid("users", "empty user name")
		}
		p.Users[i] = u
	}
	p.Users = dedupe(p.Users)
	p.Until = strings.TrimSpace(p.Until)
	p.until = time.Time{}
	if p.Until != "" {
		if d, err := time.Parse(time.DateOnly, p.Until); err == nil {
			p.until = d.AddDate(0, 0, 1) // the whole day is included
		} else if t, err := time.Parse(time.RFC3339Nano, p.Until); err == nil {
			p.until = t.Add(time.Nanosecond) // inclusive
		} else {
			return invalid("until", "want a date (2026-12-31) or an RFC 3339 time (2026-12-31T18:00:00+09:00), got %q", p.Until)
		}
	}
	return p.Filter.check()
}

func parseClock(field, v string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(v), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, invalid(field, `want a time of day HH:MM such as "09:00" (24:00 for midnight at the end), got %q`, v)
	}
	return hh*60 + mm, nil
}

func (p *OffHoursParams) check() error {
	p.Timezone = strings.TrimSpace(p.Timezone)
	if p.Timezone == "" || strings.EqualFold(p.Timezone, "local") {
		return invalid("timezone", "want an IANA time zone such as Asia/Tokyo or UTC, got %q", p.Timezone)
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return invalid("timezone", "want an IANA time zone such as Asia/Tokyo or UTC, got %q", p.Timezone)
	}
	p.loc = loc
	if p.Days == nil {
		p.Days = []int{1, 2, 3, 4, 5}
	}
	p.working = [7]bool{}
	for _, d := range p.Days {
		if d < 0 || d > 6 {
			return invalid("days", "want weekdays 0 (Sunday) to 6 (Saturday), got %d", d)
		}
		p.working[d] = true
	}
	slices.Sort(p.Days)
	p.Days = slices.Compact(p.Days)
	if p.start, err = parseClock("start", p.Start); err != nil {
		return err
	}
	if p.end, err = parseClock("end", p.End); err != nil {
		return err
	}
	if p.end <= p.start {
		// Night shifts would need a rule per shift; say so rather than guess
		// which day a shift past midnight belongs to.
		return invalid("end", "must be after start (%s), got %s; for a night shift use two rules", p.Start, p.End)
	}
	return p.Filter.check()
}

// Bounds of first_time and new_ip look-backs.
const maxDays = 3650

func checkDays(days int) error {
	if days < 1 || days > maxDays {
		return invalid("days", "want a whole number of days from 1 to %d, got %d", maxDays, days)
	}
	return nil
}

func (p *FirstTimeParams) check() error {
	if err := checkDays(p.Days); err != nil {
		return err
	}
	return p.Filter.check()
}

func (p *FirstTimeParams) includeFirst() bool { return p.IncludeFirst == nil || *p.IncludeFirst }

func (p *NewIPParams) check() error {
	if err := checkDays(p.Days); err != nil {
		return err
	}
	return p.Filter.check()
}

func (p *ExternalRecipientsParams) check() error {
	if p.MinExternal == 0 {
		p.MinExternal = 1
	}
	if p.MinExternal < 1 {
		return invalid("min_external", "want a whole number of at least 1, got %d", p.MinExternal)
	}
	f := Filter{Modules: p.Modules}
	if err := f.check(); err != nil {
		return err
	}
	p.Modules = f.Modules
	return nil
}

// Duration is a window length written as "90s", "30m", "1h", "1h30m" or
// "7d" (days of 24 hours, since Go's durations stop at hours).
type Duration struct{ D time.Duration }

type durationError struct{ got string }

func (e *durationError) Error() string {
	return fmt.Sprintf(`want a duration such as "30m", "1h" or "7d", got %s`, e.got)
}

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &durationError{got: string(b)}
	}
	v, err := ParseDuration(s)
	if err != nil {
		return &durationError{got: strconv.Quote(s)}
	}
	d.D = v
	return nil
}

// MarshalJSON writes the shortest form String gives.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// String is "7d", "1h", "90m"... whichever unit divides the duration.
func (d Duration) String() string {
	switch {
	case d.D != 0 && d.D%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d.D/(24*time.Hour)), 10) + "d"
	case d.D != 0 && d.D%time.Hour == 0:
		return strconv.FormatInt(int64(d.D/time.Hour), 10) + "h"
	case d.D != 0 && d.D%time.Minute == 0:
		return strconv.FormatInt(int64(d.D/time.Minute), 10) + "m"
	}
	return d.D.String()
}

// ParseDuration is time.ParseDuration plus a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("bad number of days in %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
