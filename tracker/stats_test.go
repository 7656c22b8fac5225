package tracker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestStatsGroupsEventsAndRecords(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	d1 := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	d2 := d1.Add(2 * time.Minute) // next day
	insertTestEvent(t, db, testEvent{At: d1, Type: TypeListviewExport, UserName: "admin", Module: "Contacts", RecordCount: i64(50)})
	insertTestEvent(t, db, testEvent{At: d1, Type: TypeListviewExport, UserName: "admin", Module: "Leads", RecordCount: i64(7)})
	insertTestEvent(t, db, testEvent{At: d2, Type: TypeCopy, UserName: "jsmith", Module: "Contacts"})
	insertTestEvent(t, db, testEvent{At: d2, Type: TypeScheduledReport, Module: "Contacts", RecordCount: i64(1000)})

	for _, tc := range []struct {
		by       string
		from, to *time.Time
		want     string
	}{
		{GroupByType, nil, nil, "[{listview_export 2 57} {copy 1 0} {scheduled_report 1 1000}]"},
		{GroupByUser, nil, nil, "[{admin 2 57} { 1 1000} {jsmith 1 0}]"},
		{GroupByModule, nil, nil, "[{Contacts 3 1050} {Leads 1 7}]"},
		{GroupByDay, nil, nil, "[{2026-03-01 2 57} {2026-03-02 2 1000}]"},
		{GroupByDay, &d2, nil, "[{2026-03-02 2 1000}]"},
		{GroupByDay, nil, &d2, "[{2026-03-01 2 57}]"},
		{GroupByType, &d2, &d2, "[]"},
	} {
		rows, err := Stats(ctx, db, tc.from, tc.to, tc.by)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rows); got != tc.want {
			t.Errorf("by %s from %v to %v: %s, want %s", tc.by, tc.from, tc.to, got, tc.want)
		}
	}
	if _, err := Stats(ctx, db, nil, nil, "ip; DROP TABLE dxt_event"); !errors.Is(err, ErrBadGroupBy) {
		t.Errorf("bad group: %v", err)
	}
}
