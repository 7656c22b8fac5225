package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

// Match is one rule that matched an event.
type Match struct {
	RuleID   uint64 `json:"rule_id"` // 0 for the built-in rule
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Notify   bool   `json:"notify"`
	Reason   string `json:"reason"` // English, for the log, the API and mail
}

// defaultMatch is the seed behaviour: every export (not a copy) with at
// least notify_min_records records notifies. An unknown count (a scheduled
// report seen only in the binlog) cannot be compared, so it notifies only
// when the minimum is 0, i.e. "every export".
func defaultMatch(ev *Event, st tracker.Settings) (Match, bool) {
	switch ev.Type {
	case tracker.TypeListviewExport, tracker.TypeReportExport, tracker.TypeScheduledReport:
	default:
		return Match{}, false
	}
	m := Match{Name: DefaultRuleName, Kind: KindDefault, Severity: SeverityMedium, Notify: true}
	switch {
	case ev.RecordCount == nil && st.NotifyMinRecords == 0:
		m.Reason = "export (record count unknown); notify_min_records is 0: every export notifies"
	case ev.RecordCount == nil:
		return Match{}, false
	case *ev.RecordCount >= st.NotifyMinRecords:
		m.Reason = fmt.Sprintf("%s records exported (notify_min_records %s)", commas(*ev.RecordCount), commas(st.NotifyMinRecords))
	default:
		return Match{}, false
	}
	return m, true
}

// stateful reports whether p needs the user's history.
func stateful(p Params) bool {
	switch p.(type) {
	case *VelocityParams, *FirstTimeParams, *NewIPParams:
		return true
	}
	return false
}

// applies is the cheap pre-check: the filters, and that per-user kinds
// have a user (and new_ip an IP).
func applies(p Params, ev *Event) bool {
	switch p := p.(type) {
	case *ThresholdParams:
		return p.allows(ev)
	case *VelocityParams:
		return ev.UserName != "" && p.allows(ev)
	case *WatchlistParams:
		return ev.UserName != "" && p.allows(ev)
	case *OffHoursParams:
		return p.allows(ev)
	case *FirstTimeParams:
		return ev.UserName != "" && ev.Module != "" && p.allows(ev)
	case *NewIPParams:
		return ev.UserName != "" && ev.IP != "" && p.allows(ev)
	case *ExternalRecipientsParams:
		return ev.Type == tracker.TypeScheduledReport && moduleIn(p.Modules, ev.Module)
	}
	return false
}

// match decides one rule on ev; s is the user's history before ev (nil for
// kinds that need none). The reason is English, for people.
func match(p Params, ev *Event, s *userState) (string, bool) {
	switch p := p.(type) {
	case *ThresholdParams:
		if ev.RecordCount == nil || *ev.RecordCount < p.MinRecords {
			return "", false
		}
		return fmt.Sprintf("%s records in one %s (minimum %s)", commas(*ev.RecordCount), typeNoun(ev.Type), commas(p.MinRecords)), true

	case *VelocityParams:
		// Only the event that crosses the bound matches: later events in
		// the same window would otherwise each send one more mail.
		before := s.windowSum(ev, p)
		after := before + measure(p, ev)
		if before >= p.Min || after < p.Min {
			return "", false
		}
		unit := "records"
		if p.Measure == MeasureEvents {
			unit = "take-outs"
		}
		return fmt.Sprintf("%s took out %s %s within %s (minimum %s)", ev.UserName, commas(after), unit, p.Window, commas(p.Min)), true

	case *WatchlistParams:
		if !p.until.IsZero() && !ev.OccurredAt.Before(p.until) {
			return "", false
		}
		for _, u := range p.Users {
			if strings.EqualFold(u, ev.UserName) {
				r := ev.UserName + " is on the watchlist"
				if p.Until != "" {
					r += " until " + p.Until
				}
				return r, true
			}
		}
		return "", false

	case *OffHoursParams:
		t := ev.OccurredAt.In(p.loc)
		minute := t.Hour()*60 + t.Minute()
		if p.working[t.Weekday()] && minute >= p.start && minute < p.end {
			return "", false
		}
		return fmt.Sprintf("%s %s (%s) is outside working hours (%s %s–%s)",
			t.Weekday(), t.Format("15:04"), p.Timezone, dayList(p.Days), p.Start, p.End), true

	case *FirstTimeParams:
		if s.moduleSeen(ev.Module, ev.OccurredAt.AddDate(0, 0, -p.Days)) || (!s.hasHistory && !p.includeFirst()) {
			return "", false
		}
		return fmt.Sprintf("first %s take-out by %s in %d days", ev.Module, ev.UserName, p.Days), true

	case *NewIPParams:
		if s.ipSeen(ev.IP, ev.OccurredAt.AddDate(0, 0, -p.Days)) || (!s.hasHistory && !p.IncludeFirst) {
			return "", false
		}
		return fmt.Sprintf("IP %s not seen for %s in %d days", ev.IP, ev.UserName, p.Days), true

	case *ExternalRecipientsParams:
		if ev.ExternalCount < p.MinExternal {
			return "", false
		}
		r := fmt.Sprintf("scheduled report sent to %d external recipient", ev.ExternalCount)
		if ev.ExternalCount != 1 {
			r += "s"
		}
		if len(ev.ExternalRecipients) > 0 {
			r += ": " + strings.Join(ev.ExternalRecipients, ", ")
		}
		return r, true
	}
	return "", false
}

// measure is what ev adds to a velocity rule's sum (an unknown record count
// adds nothing: it is not evidence of volume).
func measure(p *VelocityParams, ev *Event) int64 {
	if !p.allows(ev) {
		return 0
	}
	if p.Measure == MeasureEvents {
		return 1
	}
	if ev.RecordCount == nil || *ev.RecordCount < 0 {
		return 0
	}
	return *ev.RecordCount
}

func typeNoun(t string) string {
	switch t {
	case tracker.TypeListviewExport:
		return "list-view export"
	case tracker.TypeReportExport:
		return "report export"
	case tracker.TypeScheduledReport:
		return "scheduled report"
	case tracker.TypeCopy:
		return "copy"
	}
	return t
}

func dayList(days []int) string {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = time.Weekday(d).String()[:3]
	}
	return strings.Join(names, ",")
}

// commas writes n with thousands separators: 3,120.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
