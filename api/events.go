package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dxtracker/dxtracker/tracker"
)

type eventList struct {
	Events     []tracker.Event `json:"events"`
	NextCursor string          `json:"next_cursor"`
}

// GET /api/v1/events?type=&user=&module=&ip=&from=&to=&min_records=&limit=&cursor=
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, _ principal) error {
	f, err := eventFilter(r)
	if err != nil {
		return err
	}
	events, next, err := tracker.ListEvents(r.Context(), s.db, f)
	if errors.Is(err, tracker.ErrBadCursor) {
		return badRequest("cursor: malformed or not from this list; start again without cursor")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventList{Events: events, NextCursor: next})
	return nil
}

func eventFilter(r *http.Request) (tracker.EventFilter, error) {
	var f tracker.EventFilter
	q, err := parseQuery(r.URL, "type", "user", "module", "ip", "from", "to", "min_records", "limit", "cursor")
	if err != nil {
		return f, err
	}
	if f.Type, err = q.eventType("type"); err != nil {
		return f, err
	}
	if f.User, err = q.text("user", 255); err != nil {
		return f, err
	}
	if f.Module, err = q.text("module", 100); err != nil {
		return f, err
	}
	if ip := q.str("ip"); ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil || a.Zone() != "" {
			return f, badRequest("ip: want an IPv4 or IPv6 address such as 192.0.2.10, got %q", ip)
		}
		f.IP = a.String()
	}
	if f.From, f.To, err = q.timeRange(); err != nil {
		return f, err
	}
	if n, ok, err := q.intIn("min_records", 0, 1<<31-1); err != nil {
		return f, err
	} else if ok {
		f.MinRecords = &n
	}
	if n, ok, err := q.intIn("limit", 1, tracker.MaxEventLimit); err != nil {
		return f, err
	} else if ok {
		f.Limit = int(n)
	}
	f.Cursor = q.str("cursor")
	return f, nil
}

// GET /api/v1/events/{id}
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, _ principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	id, err := pathID(r.PathValue("id"))
	if err != nil {
		return err
	}
	e, ok, err := tracker.GetEvent(r.Context(), s.db, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("no event %d", id)
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// GET /api/v1/events/{id}/content streams the original bytes. The access
// log row is written before the first byte, whatever the outcome.
func (s *Server) eventContent(w http.ResponseWriter, r *http.Request, p principal) error {
	if _, err := parseQuery(r.URL); err != nil {
		return err
	}
	id, err := pathID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	entry := tracker.AccessEntry{Principal: p.name, AuthMethod: p.method, Action: tracker.ActionContentDownload,
		EventID: &id, RemoteIP: remoteIP(r), Path: r.URL.Path}
	// deny logs a refused download and answers it.
	deny := func(answer error) error {
		var he *httpError
		entry.Status = http.StatusInternalServerError
		if errors.As(answer, &he) {
			entry.Status = he.status
		}
		if err := tracker.LogAccess(ctx, s.db, entry); err != nil {
			return fmt.Errorf("event %d: log refused download (%v): %w", id, answer, err)
		}
		return answer
	}

	e, ok, err := tracker.GetEvent(ctx, s.db, id)
	if err != nil {
		return deny(err)
	}
	if !ok {
		return deny(notFound("no event %d", id))
	}
	if e.ContentID == nil {
		return deny(notFound("event %d has no captured content", id))
	}
	body, meta, err := tracker.OpenContent(ctx, s.db, *e.ContentID)
	if errors.Is(err, tracker.ErrNoContent) {
		return deny(notFound("the captured content of event %d is no longer stored", id))
	}
	if err != nil {
		return deny(err)
	}
	defer body.Close()

	entry.Status = http.StatusOK
	logID, err := tracker.RecordAccess(ctx, s.db, entry)
	if err != nil {
		// Fail closed: a download that cannot be logged does not happen.
		return fmt.Errorf("event %d: log download before sending: %w", id, err)
	}

	h := w.Header()
	h.Set("Content-Type", safeMediaType(meta.MediaType))
	h.Set("Content-Disposition", contentDisposition(fileName(meta, id)))
	h.Set("Content-Length", strconv.FormatInt(meta.Size, 10))
	h.Set("X-Content-SHA256", meta.SHA256)
	if meta.Truncated {
		h.Set("X-Content-Truncated", "true")
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// Nothing in the file may run if a browser shows it anyway.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}

	cw := &clientWriter{w: w}
	_, err = io.CopyBuffer(cw, body, make([]byte, 64<<10))
	if err == nil {
		return nil
	}
	status, what := http.StatusInternalServerError, "reading stored content"
	if cw.err != nil {
		status, what = 499, "client went away"
	}
	// The request context may be gone with the client; the correction must
	// still be written.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	uerr := tracker.SetAccessStatus(fctx, s.db, logID, status)
	ev := s.log.Warn()
	if status == http.StatusInternalServerError {
		ev = s.log.Error()
	}
	ev.Str("request_id", info(ctx).id).Uint64("event_id", id).Uint64("access_log_id", logID).
		AnErr("access_log_error", uerr).Err(err).Msg("download broke off: " + what)
	// Cut the connection so the client cannot take a partial file for a
	// whole one.
	panic(http.ErrAbortHandler)
}

// clientWriter tells write errors (the client) from read errors (storage).
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func safeMediaType(mt string) string {
	if mt == "" {
		return "application/octet-stream"
	}
	t, params, err := mime.ParseMediaType(mt)
	typ, sub, ok := strings.Cut(t, "/")
	if err != nil || !ok || typ == "" || sub == "" {
		return "application/octet-stream"
	}
	if out := mime.FormatMediaType(t, params); out != "" {
		return out
	}
	return "application/octet-stream"
}

// fileName is the stored name without any directory part or control
// characters, or event-<id> with an extension from the media type.
func fileName(m tracker.ContentMeta, id uint64) string {
	name := m.Name
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name != "" && name != "." && name != ".." {
		return name
	}
	ext := ".bin"
	if t, _, err := mime.ParseMediaType(m.MediaType); err == nil {
		switch t {
		case "text/plain":
			ext = ".txt"
		case "text/csv":
			ext = ".csv"
		case "application/pdf":
			ext = ".pdf"
		case "text/html":
			ext = ".html"
		case "application/vnd.ms-excel":
			ext = ".xls"
		case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			ext = ".xlsx"
		}
	}
	return "event-" + strconv.FormatUint(id, 10) + ext
}

// contentDisposition is RFC 6266: an ASCII filename for old clients and
// filename* (RFC 8187, UTF-8 percent-encoded) with the real name.
func contentDisposition(name string) string {
	var ascii strings.Builder
	for _, r := range name {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r > 0x7e:
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	var ext strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar is RFC 8187 attr-char: what filename* may carry unencoded.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
