package api

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// GET /healthz: the process answers. Nothing else is checked, so a
// supervisor does not restart the daemon because MySQL is down.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// GET /readyz: 200 when the database answers and the status provider
// (binlog stream connected, lag within bounds) says ready, else 503, with
// the details either way.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ready := true
	details := map[string]any{}
	if s.status != nil {
		ok, d := s.status.Ready()
		for k, v := range d {
			details[k] = v
		}
		ready = ok
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		ready = false
		details["database"] = "unreachable"
		s.log.Warn().Str("request_id", info(r.Context()).id).Err(err).Msg("readiness: database ping failed")
	} else {
		details["database"] = "ok"
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "not ready"
	}
	writeJSON(w, status, map[string]any{"status": word, "details": details})
}

// GET /metrics: Prometheus text. Loopback peers need no credentials;
// anyone else authenticates like an API client.
func (s *Server) metricsHandler() http.Handler {
	prom := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(remoteIP(r)) {
			ctx, cancel := context.WithTimeout(r.Context(), s.requestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
			if _, err := s.authenticate(r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		prom.ServeHTTP(w, r)
	})
}

func isLoopback(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Unmap().IsLoopback()
}
