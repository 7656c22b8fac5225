package vtiger

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DescribeSchedule says in English when the report is sent: "Daily at
// 09:00", "Weekly on Monday, Friday at 09:00", "Monthly on day 1, 15 at
// 09:00", "Annually on March 1, December 24 at 09:00", "Once on 2026-12-24
// at 09:00". Times and dates are the schedule's own (Vtiger's wall clock,
// the time zone of its active administrator; UTC on a default install).
// The schedule's NextTriggerTime is the exact next instant in UTC.
func DescribeSchedule(s Schedule) string {
	at := ""
	if t := clockTime(s.SchTime); t != "" {
		at = " at " + t
	}
	switch s.ScheduleType {
	case ScheduleDaily:
		return "Daily" + at
	case ScheduleWeekly:
		return "Weekly on " + listOr(weekdays(s.SchDayOfWeek), "no day") + at
	case ScheduleMonthlyByDate:
		return "Monthly on day " + listOr(monthDays(s.SchDayOfMonth), "none") + at
	case ScheduleAnnually:
		return "Annually on " + listOr(annualDates(s.SchAnnualDates), "no date") + at
	case ScheduleOnSpecificDate:
		dates := jsonStrings(s.SchDate)
		if len(dates) > 0 && dates[0] != "" {
			return "Once on " + dates[0] + at
		}
		if s.NextTriggerTime != nil {
			return "Once on " + s.NextTriggerTime.UTC().Format("2006-01-02 at 15:04") + " UTC"
		}
		return "Once" + at
	default:
		return fmt.Sprintf("Unknown schedule type %d%s", s.ScheduleType, at)
	}
}

// clockTime turns "09:00:00" into "09:00".
func clockTime(t string) string {
	t = strings.TrimSpace(t)
	parts := strings.Split(t, ":")
	if len(parts) < 2 {
		return t
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return t
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

// jsonStrings reads a JSON list (or a lone value) as PHP strings; numbers
// keep their JSON text. Anything unreadable is no items.
func jsonStrings(raw string) []string {
	v, err := decodePHPJSON(raw)
	if err != nil {
		return nil
	}
	vals := []jsonValue{v}
	if v.kind == jsonArray || v.kind == jsonObject {
		vals = v.elems
	}
	var out []string
	for _, e := range vals {
		if e.kind == jsonString || e.kind == jsonNumber {
			out = append(out, strings.TrimSpace(e.str))
		}
	}
	return out
}

// weekdays reads schdayoftheweek: 1 is Monday ... 7 Sunday (PHP date('N')),
// sorted as Vtiger sorts them.
func weekdays(raw string) []string {
	return sortedNumbers(jsonStrings(raw), func(n int) (string, bool) {
		if n < 1 || n > 7 {
			return "", false
		}
		return time.Weekday(n % 7).String(), true
	})
}

func monthDays(raw string) []string {
	return sortedNumbers(jsonStrings(raw), func(n int) (string, bool) { return strconv.Itoa(n), true })
}

// sortedNumbers sorts numeric items, names them, and keeps other items
// as they are, after the numbers.
func sortedNumbers(items []string, name func(int) (string, bool)) []string {
	var nums []int
	var other []string
	seen := map[int]bool{}
	for _, it := range items {
		n, err := strconv.Atoi(it)
		if err != nil {
			other = append(other, it)
			continue
		}
		if !seen[n] {
			seen[n] = true
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	var out []string
	for _, n := range nums {
		if s, ok := name(n); ok {
			out = append(out, s)
		} else {
			out = append(out, strconv.Itoa(n))
		}
	}
	return append(out, other...)
}

// annualDates reads schannualdates ("2006-01-02" each; the year does not
// matter to Vtiger) as "January 2", by month and day.
func annualDates(raw string) []string {
	type md struct {
		m time.Month
		d int
	}
	var dates []md
	var other []string
	seen := map[md]bool{}
	for _, it := range jsonStrings(raw) {
		t, err := time.Parse("2006-01-02", it)
		if err != nil {
			other = append(other, it)
			continue
		}
		k := md{t.Month(), t.Day()}
		if !seen[k] {
			seen[k] = true
			dates = append(dates, k)
		}
	}
	sort.Slice(dates, func(i, j int) bool {
		if dates[i].m != dates[j].m {
			return dates[i].m < dates[j].m
		}
		return dates[i].d < dates[j].d
	})
	var out []string
	for _, k := range dates {
		out = append(out, fmt.Sprintf("%s %d", k.m, k.d))
	}
	return append(out, other...)
}
