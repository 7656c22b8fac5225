package vtiger

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseScheduleRowReadsABinlogRowImage(t *testing.T) {
	row := map[string]any{
		"reportid":          int32(26),
		"scheduleid":        int32(1),
		"recipients":        []byte(`["USER::1","USER::5"]`),
		"schdate":           nil,
		"schtime":           "19:24:00",
		"schdayoftheweek":   nil,
		"schdayofthemonth":  nil,
		"schannualdates":    nil,
		"specificemails":    `"reports@example.com"`,
		"next_trigger_time": "2026-12-04 19:24:00",
		"fileformat":        "CSV",
	}
	s, err := ParseScheduleRow(row)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 4, 19, 24, 0, 0, time.UTC)
	if s.ReportID != 26 || s.ScheduleType != ScheduleDaily || s.Recipients != `["USER::1","USER::5"]` ||
		s.SpecificEmails != `"reports@example.com"` || s.SchTime != "19:24:00" || s.FileFormat != "CSV" ||
		s.NextTriggerTime == nil || !s.NextTriggerTime.Equal(want) || s.NextTriggerTime.Location() != time.UTC {
		t.Errorf("got %+v", s)
	}
}

func TestParseScheduleRowToleratesOtherValueTypes(t *testing.T) {
	next := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	for name, row := range map[string]map[string]any{
		"int64 and time.Time": {"reportid": int64(7), "scheduleid": int64(2), "next_trigger_time": next},
		"uint and bytes":      {"reportid": uint32(7), "scheduleid": []byte("2"), "next_trigger_time": []byte("2027-01-02 02:04:05.000000")},
		"string id":           {"reportid": "7", "scheduleid": int8(2), "next_trigger_time": "2027-01-02 02:04:05"},
	} {
		s, err := ParseScheduleRow(row)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s.ReportID != 7 || s.ScheduleType != 2 || s.NextTriggerTime == nil || !s.NextTriggerTime.Equal(next) {
			t.Errorf("%s: got %+v", name, s)
		}
	}
}

func TestParseScheduleRowReadsZeroAndNullTriggerTimesAsNil(t *testing.T) {
	for _, v := range []any{nil, "0000-00-00 00:00:00", "", time.Time{}} {
		s, err := ParseScheduleRow(map[string]any{"reportid": int32(1), "next_trigger_time": v})
		if err != nil || s.NextTriggerTime != nil {
			t.Errorf("next_trigger_time %#v: %+v, %v", v, s.NextTriggerTime, err)
		}
	}
}

func TestParseScheduleRowNamesTheBadColumn(t *testing.T) {
	for col, row := range map[string]map[string]any{
		"reportid":          {"scheduleid": int32(1)},
		"scheduleid":        {"reportid": int32(1), "scheduleid": 1.5},
		"recipients":        {"reportid": int32(1), "recipients": 42},
		"next_trigger_time": {"reportid": int32(1), "next_trigger_time": "tomorrow"},
	} {
		_, err := ParseScheduleRow(row)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", col, err)
		} else if !strings.Contains(err.Error(), col) {
			t.Errorf("%s: error %q does not name the column", col, err)
		}
	}
}

func TestDescribeScheduleSaysWhenTheReportIsSent(t *testing.T) {
	next := time.Date(2026, 12, 24, 8, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{ScheduleType: 1, SchTime: "09:00:00"}, "Daily at 09:00"},
		{Schedule{ScheduleType: 1, SchTime: "19:24:00"}, "Daily at 19:24"},
		{Schedule{ScheduleType: 2, SchTime: "09:00:00", SchDayOfWeek: `["5","1"]`}, "Weekly on Monday, Friday at 09:00"},
		{Schedule{ScheduleType: 2, SchTime: "9:00", SchDayOfWeek: `["7",3]`}, "Weekly on Wednesday, Sunday at 09:00"},
		{Schedule{ScheduleType: 2, SchTime: "09:00:00", SchDayOfWeek: `null`}, "Weekly on no day at 09:00"},
		{Schedule{ScheduleType: 3, SchTime: "06:15:00", SchDayOfMonth: `["15","1"]`}, "Monthly on day 1, 15 at 06:15"},
		{Schedule{ScheduleType: 4, SchTime: "00:00:00", SchAnnualDates: `["2026-12-24","2027-03-01"]`}, "Annually on March 1, December 24 at 00:00"},
		{Schedule{ScheduleType: 5, SchTime: "10:00:00", SchDate: `["2026-12-24"]`}, "Once on 2026-12-24 at 10:00"},
		{Schedule{ScheduleType: 5, NextTriggerTime: &next}, "Once on 2026-12-24 at 08:30 UTC"},
		{Schedule{ScheduleType: 9, SchTime: "10:00:00"}, "Unknown schedule type 9 at 10:00"},
	} {
		if got := DescribeSchedule(c.s); got != c.want {
			t.Errorf("DescribeSchedule(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
