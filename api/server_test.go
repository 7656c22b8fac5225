package api_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dxtracker/dxtracker/api"
)

func TestErrorsAreJSONWithoutInternals(t *testing.T) {
	e := newEnv(t)
	r := e.get("/api/v1/nope")
	if r.status != http.StatusNotFound {
		t.Errorf("unknown route: %d", r.status)
	}
	r.errorMessage(t)
	r = e.do("DELETE", "/api/v1/events", e.bearer(), nil)
	if r.status != http.StatusMethodNotAllowed || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("DELETE events: %d Allow %q", r.status, r.header.Get("Allow"))
	}
	r.errorMessage(t)

	// A database failure is a 500 with a request id, not the driver's text.
	e.db.Exec(`DROP TABLE dxt_content`)
	r = e.get("/api/v1/events")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("broken database: %d %s", r.status, r.body)
	}
	msg := r.errorMessage(t)
	id := r.header.Get("X-Request-Id")
	if id == "" || !strings.Contains(msg, id) || strings.Contains(strings.ToLower(msg), "dxt_content") || strings.Contains(msg, "Error") {
		t.Errorf("500 message %q (request id %q)", msg, id)
	}
	// The cause is in the daemon log under that request id.
	var found bool
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, id) && strings.Contains(line, "dxt_content") {
			found = true
		}
	}
	if !found {
		t.Errorf("log has no line with request %s and the cause", id)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", "", nil)
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/readyz", "", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"binlog_connected":true`) || !strings.Contains(string(r.body), `"database":"ok"`) {
		t.Errorf("readyz: %d %s", r.status, r.body)
	}
	e.status.set(false)
	r = e.do("GET", "/readyz", "", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"status":"not ready"`) {
		t.Errorf("readyz when not ready: %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "dxtracker_test_extra_total", Help: "test"})
	e := newEnv(t, api.WithCollectors(extra))
	extra.Add(3)
	e.get("/api/v1/events")
	e.get("/api/v1/events/999")
	e.do("GET", "/api/v1/events", "", nil)
	e.get("/nope")
	// Registered later by another component.
	late := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dxtracker_test_late", Help: "test"})
	e.srv.Registry().MustRegister(late)

	r := e.do("GET", "/metrics", "", nil) // loopback: no credentials needed
	if r.status != http.StatusOK {
		t.Fatalf("metrics: %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{
		`dxtracker_api_requests_total{code="2xx",route="GET /api/v1/events"} 1`,
		`dxtracker_api_requests_total{code="4xx",route="GET /api/v1/events"} 1`,
		`dxtracker_api_requests_total{code="4xx",route="GET /api/v1/events/{id}"} 1`,
		`dxtracker_api_requests_total{code="4xx",route="unmatched"} 1`,
		`dxtracker_api_request_duration_seconds_bucket{route="GET /api/v1/events",le="+Inf"} 2`,
		`dxtracker_test_extra_total 3`,
		`dxtracker_test_late 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// From elsewhere, /metrics needs credentials like the API.
	h := e.srv.Handler()
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {e.bearer(), 200}, {basic("jsmith", jsmithKey), 403}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = "192.0.2.7:40000"
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("remote /metrics with %q: %d, want %d", tc.auth, w.Code, tc.want)
		}
	}
}

func TestWithHandlerMountsUnauthenticatedRoute(t *testing.T) {
	beacon := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e := newEnv(t, api.WithHandler("POST /api/v1/beacons", beacon))
	if r := e.do("POST", "/api/v1/beacons", "", strings.NewReader(`{}`)); r.status != http.StatusNoContent {
		t.Errorf("beacon: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/beacons", "", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET beacon: %d", r.status)
	}
	if !strings.Contains(e.logs.String(), `"route":"POST /api/v1/beacons"`) {
		t.Errorf("beacon requests are not logged with their route")
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	e := newEnv(t, api.WithHandler("GET /slow", slow), api.WithShutdownTimeout(5*time.Second))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	body := make(chan string, 1)
	go func() {
		res, err := http.Get(url + "/slow")
		if err != nil {
			body <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		body <- string(b)
	}()
	<-started
	cancel()
	if got := <-body; got != "done" {
		t.Errorf("request in flight during shutdown got %q", got)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Errorf("still accepting after shutdown")
	}

	// A listener that fails is an error, not a silent stop.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	ln2.Close()
	if err := e.srv.Serve(context.Background(), ln2); err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener: %v", err)
	}
}
