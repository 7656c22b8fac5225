package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// reqInfo travels in the request context; authentication fills in the
// principal so the request log can name who asked.
type reqInfo struct {
	id         string
	principal  string
	authMethod string
}

type ctxKey struct{}

func info(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// httpMetrics counts requests by route pattern (never by raw path, so the
// number of series stays bounded) and status class.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dxtracker_api_requests_total",
			Help: "HTTP requests answered, by route pattern and status class (2xx, 4xx...).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dxtracker_api_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dxtracker_api_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
	}
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware gives every request an id, recovers panics, counts it and logs
// one line with stable field names. It never logs headers or bodies.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: newRequestID()}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		rec := &recorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", ri.id)
		s.metrics.inFlight.Inc()

		defer func() {
			s.metrics.inFlight.Dec()
			p := recover()
			if p != nil && p != http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				s.log.Error().Str("request_id", ri.id).Interface("panic", p).Str("stack", string(debug.Stack())).Msg("handler panicked")
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, "internal error (request "+ri.id+")")
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			aborted := p == http.ErrAbortHandler //nolint:errorlint // as above
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			dur := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(status/100)+"xx").Inc()
			s.metrics.duration.WithLabelValues(route).Observe(dur.Seconds())

			lvl := zerolog.InfoLevel
			switch {
			case status >= 500 || aborted:
				lvl = zerolog.WarnLevel
			case quietRoutes[route] && status < 400:
				lvl = zerolog.DebugLevel
			case s.quiet[route]:
				lvl = zerolog.DebugLevel
			}
			s.log.WithLevel(lvl).
				Str("request_id", ri.id).
				Str("method", r.Method).
				Str("path", r.URL.Path).
				Str("route", route).
				Int("status", status).
				Float64("duration_ms", float64(dur.Microseconds())/1000).
				Int64("bytes", rec.bytes).
				Str("principal", ri.principal).
				Str("auth", ri.authMethod).
				Str("remote_ip", remoteIP(r)).
				Bool("aborted", aborted).
				Msg("request")
			if aborted {
				panic(p) // net/http cuts the connection without logging
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// quietRoutes are polled by machines; their successes are logged at debug.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// dispatch routes through the mux, answering its "no such route" and
// "method not allowed" in JSON like every other error.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch probe.status {
	case http.StatusMethodNotAllowed:
		writeError(w, probe.status, "method "+r.Method+" not allowed here (allowed: "+probe.header.Get("Allow")+")")
	case http.StatusNotFound, 0:
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	default:
		writeError(w, probe.status, strings.ToLower(http.StatusText(probe.status)))
	}
}

// headerProbe captures what the mux's own error handlers would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

// remoteIP is the TCP peer's address. X-Forwarded-For is not trusted: the
// daemon listens on loopback or a private address by default.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
