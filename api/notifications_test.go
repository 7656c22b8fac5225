package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestNotificationsListsOutboxRowsWithoutSecretsAndFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.insertEvent(event{typ: tracker.TypeListviewExport, user: "jsmith", module: "Contacts", records: i64(5)})
	ev, _, err := tracker.GetEvent(ctx, e.db, id)
	if err != nil {
		t.Fatal(err)
	}
	s := tracker.ParseSettings(map[string]string{tracker.KeyNotifyAdminEmail: "sec@example.com",
		tracker.KeyNotifyWebhookURL: "https://hooks.example.com/services/T000/SECRET"})
	if _, err := notify.Enqueue(ctx, e.db, ev, []notify.Match{{Rule: "r", Severity: "high"}}, s); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE dxt_outbox SET state = 'failed', last_error = '550 no such user' WHERE channel = 'email'`); err != nil {
		t.Fatal(err)
	}

	r := e.get("/api/v1/notifications")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "SECRET") || strings.Contains(string(r.body), "payload") {
		t.Fatalf("the list shows a webhook token or payload: %s", r.body)
	}
	var body struct {
		Notifications []notify.Notification `json:"notifications"`
		NextBefore    *uint64               `json:"next_before"`
	}
	r.json(t, &body)
	if len(body.Notifications) != 2 || body.NextBefore != nil {
		t.Fatalf("body %s", r.body)
	}

	r = e.get("/api/v1/notifications?state=failed&event_id=" + strconv.FormatUint(id, 10))
	r.json(t, &body)
	if len(body.Notifications) != 1 || body.Notifications[0].Recipient != "sec@example.com" ||
		body.Notifications[0].LastError == nil || *body.Notifications[0].LastError != "550 no such user" {
		t.Fatalf("failed rows: %s", r.body)
	}

	r = e.get("/api/v1/notifications?limit=1")
	r.json(t, &body)
	if len(body.Notifications) != 1 || body.NextBefore == nil {
		t.Fatalf("first page: %s", r.body)
	}
	r = e.get("/api/v1/notifications?limit=1&before=" + strconv.FormatUint(*body.NextBefore, 10))
	r.json(t, &body)
	if len(body.Notifications) != 1 || body.NextBefore != nil {
		t.Fatalf("second page: %s", r.body)
	}

	if r := e.get("/api/v1/notifications?state=lost"); r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(t), "uncertain") {
		t.Errorf("bad state: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/notifications", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("without credentials: %d", r.status)
	}
}
