package api

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// query reads URL parameters strictly: unknown names and repeated names are
// errors (a typo must not silently widen a query), and an empty value means
// "not given", so ?type=&user=x works as the contract's URL templates show.
type query struct {
	v url.Values
}

func parseQuery(u *url.URL, allowed ...string) (query, error) {
	v, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return query{}, badRequest("malformed query string: %v", err)
	}
	known := map[string]bool{}
	for _, a := range allowed {
		known[a] = true
	}
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !known[n] {
			if len(allowed) == 0 {
				return query{}, badRequest("unknown parameter %q: this endpoint takes none", n)
			}
			return query{}, badRequest("unknown parameter %q (known: %s)", n, strings.Join(allowed, ", "))
		}
		if len(v[n]) > 1 {
			return query{}, badRequest("parameter %q given %d times; give it once", n, len(v[n]))
		}
	}
	return query{v: v}, nil
}

func (q query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

// text is a free-text parameter of at most max characters.
func (q query) text(name string, max int) (string, error) {
	s := q.str(name)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", badRequest("%s: want at most %d characters of text", name, max)
	}
	return s, nil
}

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func (q query) eventType(name string) (string, error) {
	s := q.str(name)
	if s != "" && !eventTypeRE.MatchString(s) {
		return "", badRequest("%s: want an event type such as listview_export, report_export, scheduled_report or copy, got %q", name, s)
	}
	return s, nil
}

// intIn is an optional whole number in [min, max]; ok is false if absent.
func (q query) intIn(name string, min, max int64) (n int64, ok bool, err error) {
	s := q.str(name)
	if s == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, false, badRequest("%s: want a whole number from %d to %d, got %q", name, min, max, s)
	}
	return n, true, nil
}

// timeBound parses from/to as RFC 3339 (2026-03-01T12:00:00Z) or a date
// (2026-03-01, a UTC day). A date as the upper bound includes that whole
// day, so from=2026-03-01&to=2026-03-01 is that one day.
func (q query) timeBound(name string, upper bool) (*time.Time, error) {
	s := q.str(name)
	if s == "" {
		return nil, nil
	}
	var t time.Time
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		t = d
		if upper {
			t = t.AddDate(0, 0, 1)
		}
	} else if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = ts.UTC()
	} else {
		return nil, badRequest("%s: want a time in RFC 3339 (2026-03-01T12:00:00Z) or a date (2026-03-01), got %q", name, s)
	}
	if t.Year() < 1970 || t.Year() > 9998 {
		return nil, badRequest("%s: year %d is out of range", name, t.Year())
	}
	return &t, nil
}

// timeRange reads from and to and checks their order.
func (q query) timeRange() (from, to *time.Time, err error) {
	if from, err = q.timeBound("from", false); err != nil {
		return nil, nil, err
	}
	if to, err = q.timeBound("to", true); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && !from.Before(*to) {
		return nil, nil, badRequest("from (%s) must be before to (%s)", q.str("from"), q.str("to"))
	}
	return from, to, nil
}

// pathID is a positive id from the URL path.
func pathID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("event id: want a positive whole number, got %q", s)
	}
	return id, nil
}
