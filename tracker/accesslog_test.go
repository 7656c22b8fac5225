package tracker

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAccessLogPagesNewestFirst(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	ev := uint64(42)
	for i := range 25 {
		e := AccessEntry{Principal: "admin", AuthMethod: AuthBasic, Action: ActionContentDownload, RemoteIP: "127.0.0.1",
			Path: "/api/v1/events/42/content", Status: 200 + i}
		if i%2 == 0 {
			e.EventID = &ev
		}
		if err := LogAccess(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	var statuses []int
	cursor := ""
	for {
		page, next, err := ListAccess(ctx, db, 10, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			statuses = append(statuses, e.Status)
			if e.At.IsZero() || e.Principal != "admin" || e.AuthMethod != AuthBasic || e.RemoteIP != "127.0.0.1" {
				t.Errorf("entry %+v", e)
			}
			if (e.Status%2 == 0) != (e.EventID != nil && *e.EventID == 42) {
				t.Errorf("entry %d event id %v", e.Status, e.EventID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(statuses) != 25 || statuses[0] != 224 || statuses[24] != 200 {
		t.Errorf("statuses %v, want 224 down to 200", statuses)
	}
	if _, _, err := ListAccess(ctx, db, 10, "nope!"); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestAccessLogClipsLongValuesAndCorrectsStatus(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	id, err := RecordAccess(ctx, db, AccessEntry{Principal: strings.Repeat("é", 300), AuthMethod: AuthToken, Action: ActionContentDownload,
		Path: "/" + strings.Repeat("p", 2000), Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	if err := SetAccessStatus(ctx, db, id, 500); err != nil {
		t.Fatal(err)
	}
	page, _, err := ListAccess(ctx, db, 0, "")
	if err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	e := page[0]
	if len([]rune(e.Principal)) != 255 || len(e.Path) != 1024 || e.Status != 500 || e.RemoteIP != "" || e.EventID != nil {
		t.Errorf("entry: principal %d runes, path %d, status %d", len([]rune(e.Principal)), len(e.Path), e.Status)
	}
}
