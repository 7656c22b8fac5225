package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// httpError is an error whose message is meant for the client.
type httpError struct {
	status int
	msg    string
	header http.Header // extra response headers (WWW-Authenticate, Retry-After)
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) error {
	return errorf(http.StatusNotFound, format, args...)
}

// writeJSON sends v with status. API answers are never cached: they carry
// who exported what.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a write error means the client is gone
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// fail answers err: its own message for an httpError, 503 for a timeout,
// nothing for a client that went away, and otherwise a generic 500 with the
// request id while the cause goes to the log only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		for k, v := range he.header {
			w.Header()[k] = v
		}
		writeError(w, he.status, he.msg)
		return
	}
	id := info(r.Context()).id
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn().Str("request_id", id).Err(err).Msg("request timed out")
		writeError(w, http.StatusServiceUnavailable, "request timed out (request "+id+"); narrow the query or try again")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		s.log.Debug().Str("request_id", id).Err(err).Msg("client went away")
		writeError(w, 499, "client closed request")
	default:
		s.log.Error().Str("request_id", id).Str("path", r.URL.Path).Err(err).Msg("request failed")
		writeError(w, http.StatusInternalServerError, "internal error (request "+id+")")
	}
}

// handlerFunc is an authenticated API handler; a returned error is answered
// by fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

// api wraps h with authentication and the request timeout.
func (s *Server) api(h handlerFunc) http.Handler { return s.authed(s.requestTimeout, h) }

// authed authenticates the request, then runs h under a context derived from
// the request's with the given timeout.
func (s *Server) authed(timeout time.Duration, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		p, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})
}
