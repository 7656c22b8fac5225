package notify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

func anchorData() notify.AnchorData {
	h := strings.Repeat("ab", 32)
	return notify.AnchorData{Day: "2026-12-05", Database: "vtiger\r\nBcc: evil@example.org", HeadSeq: 4242, HeadHash: h,
		TakenAt: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), PrunedSeq: 17, Verify: "dxtracker verify --anchor 4242:" + h}
}

func TestAnchorMailNamesTheHeadAndTheVerifyCommandInBothLanguages(t *testing.T) {
	a := anchorData()
	for _, l := range []string{"en", "ja"} {
		r, err := notify.NewRenderer("").Anchor(l, a)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") || !strings.Contains(r.Subject, "4242") {
			t.Errorf("%s subject %q", l, r.Subject)
		}
		for _, part := range []string{r.Text, r.HTML} {
			if !strings.Contains(part, a.HeadHash) || !strings.Contains(part, a.Verify) || strings.Contains(part, "\r\nBcc:") {
				t.Errorf("%s body lacks the head or the command, or carries the injected header:\n%s", l, part)
			}
		}
	}
}

// The worker delivers anchor rows by mail and by webhook.
func TestAnchorIsDeliveredByMailAndWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) { s.NotifyWebhookURL = srv.URL + "/anchor" })
	a := anchorData()
	a.Database = "vtiger"
	n, err := notify.EnqueueAnchor(t.Context(), e.db, a, e.settings.get(), e.clock.Now())
	if err != nil || n != 2 {
		t.Fatalf("enqueued %d, err %v; want 2", n, err)
	}
	e.start()
	e.waitRows(10*time.Second, allIn(notify.StateSent))
	msgs := e.waitMail(1)
	if !strings.Contains(string(msgs[0].Data), a.HeadHash) || !strings.Contains(msgs[0].Subject, "4242") {
		t.Fatalf("anchor mail %q:\n%s", msgs[0].Subject, msgs[0].Data)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(bodies))
	}
	var body notify.AnchorWebhookBody
	if err := json.Unmarshal(bodies[0], &body); err != nil || body.Kind != notify.KindAnchor || body.Anchor.HeadHash != a.HeadHash {
		t.Fatalf("webhook body %s (%v)", bodies[0], err)
	}
}
