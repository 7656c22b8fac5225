package notify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

type hookRequest struct {
	header http.Header
	body   []byte
}

func TestWebhookIsSignedVerifiableAndIdempotent(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	var (
		mu       sync.Mutex
		requests []hookRequest
		fail     = 1 // the first request gets a 503: retried
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, hookRequest{r.Header.Clone(), b})
		if fail > 0 {
			fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	e := newEnv(t, sink.Options{})
	e.opts.WebhookSecret = secret
	e.settings.set(func(s *tracker.Settings) { s.NotifyAdminEmail = nil; s.NotifyWebhookURL = srv.URL + "/hook/T0K3N" })
	e.start()
	ev := e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(3120)},
		notify.Match{Rule: "big", Kind: "threshold", Severity: "high", Reason: "3120 >= 1000"})
	e.waitRows(5*time.Second, allIn(notify.StateSent))
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 2 {
		t.Fatalf("%d requests, want 2 (a 503, then the retry)", len(requests))
	}
	key := requests[0].header.Get("Idempotency-Key")
	for _, req := range requests {
		h := req.header
		if h.Get("Content-Type") != "application/json" || h.Get("Idempotency-Key") != key || key == "" {
			t.Errorf("headers %v", h)
		}
		ts := h.Get(notify.HeaderTimestamp)
		if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
			t.Errorf("timestamp %q", ts)
		}
		if !notify.VerifySignature([]byte(secret), ts, req.body, h.Get(notify.HeaderSignature)) {
			t.Errorf("signature %q does not verify", h.Get(notify.HeaderSignature))
		}
		if notify.VerifySignature([]byte("another secret of 32 characters!"), ts, req.body, h.Get(notify.HeaderSignature)) {
			t.Error("signature verifies under another secret")
		}
	}
	var body notify.WebhookBody
	if err := json.Unmarshal(requests[1].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Kind != "event" || body.Event.ID != ev.ID || *body.Event.UserName != "jsmith" || *body.Event.RecordCount != 3120 ||
		len(body.Matches) != 1 || body.Matches[0].Severity != "high" {
		t.Errorf("body %s", requests[1].body)
	}
	list, _, err := notify.List(t.Context(), e.db, notify.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Recipient != srv.URL+"/…" {
		t.Errorf("listed recipient %q: the webhook path (a token) must not be shown", list[0].Recipient)
	}
}

func TestWebhookClientErrorFailsAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer srv.Close()
	e := newEnv(t, sink.Options{})
	e.settings.set(func(s *tracker.Settings) { s.NotifyAdminEmail = nil; s.NotifyWebhookURL = srv.URL })
	e.start()
	e.record(eventSpec{user: "jsmith", module: "Contacts", records: i64(1)})
	rows := e.waitRows(5*time.Second, allIn(notify.StateFailed))
	if rows[0].Attempts != 1 {
		t.Fatalf("403 retried: %+v", rows[0])
	}
}
