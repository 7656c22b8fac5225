package beacon

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dxtracker/dxtracker/tracker"
)

// Intake kinds a beacon becomes (CONTRACTS §5): a copy or cut is a `copy`
// row (details.action says which), a right-click a `contextmenu` hint.
const (
	IntakeKindCopy        = tracker.TypeCopy
	IntakeKindContextMenu = "contextmenu"
)

// What the content of a copy is called (the relay uses the same).
const (
	ContentName = "copied-text.txt"
	ContentType = "text/plain; charset=utf-8"
)

// ServeHTTP implements the endpoint:
//
//	POST    204 stored (or discarded: track_copy off); 400 malformed;
//	        401 bad, expired or forged token, or inactive user; 403 origin
//	        not allowed; 413 over 128 KiB; 429 rate limit or queue full
//	        (Retry-After); 503 shutting down or the database failed.
//	OPTIONS CORS preflight.
//
// The order of the checks puts the cheap ones first: the per-address limit
// and the memory budget before the body is read, the token before the
// per-user limit. Nothing from the body is ever logged.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		s.preflight(w, r)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		s.reject(w, reasonMethod, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed here (allowed: POST, OPTIONS)", 0)
		return
	}
	origin, verdict := s.checkOrigin(r)
	switch verdict {
	case originForbidden:
		s.reject(w, reasonOrigin, http.StatusForbidden, "origin not allowed: add it to allowed_origins in the daemon's configuration", 0)
		return
	case originAllowed, originSameHost:
		allowCORS(w.Header(), origin)
	}
	if s.q.isClosed() {
		s.reject(w, reasonShutdown, http.StatusServiceUnavailable, "shutting down; send again later", 5*time.Second)
		return
	}
	now := s.opts.Now()
	ip := clientIP(r, s.opts.TrustedProxies)
	if ok, wait := s.ipLimit.allow(ipKey(ip), now); !ok {
		s.reject(w, reasonIPRate, http.StatusTooManyRequests, "too many beacons from this address", wait)
		return
	}
	if r.ContentLength > MaxBody {
		s.reject(w, reasonTooLarge, http.StatusRequestEntityTooLarge, "beacon larger than 128 KiB", 0)
		return
	}
	// Reserve the memory this beacon may take (body, then text and
	// details) before reading anything: a flood cannot grow the heap past
	// MaxPendingBytes, it gets 429.
	need := int64(MaxBody + 1)
	if r.ContentLength >= 0 {
		need = r.ContentLength
	}
	need = 2*need + 1024
	if !s.budget.TryAcquire(need) {
		s.reject(w, reasonBusy, http.StatusTooManyRequests, "too many beacons in flight; send again later", time.Second)
		return
	}
	defer s.budget.Release(need)

	body, status, msg := s.readBody(w, r)
	if body != nil {
		defer s.putBuf(body)
	}
	if status != 0 {
		reason := reasonMalformed
		if status == http.StatusRequestEntityTooLarge {
			reason = reasonTooLarge
		}
		s.reject(w, reason, status, msg, 0)
		return
	}
	st := s.settings()
	// Under a flood most beacons are over their user's limit: the token is
	// found and checked without decoding the JSON (and its text) first.
	if tok, ok := scanToken(body.Bytes()); ok {
		if uid, err := VerifyToken(tok, st.BeaconSecret, now); err == nil {
			if ok, wait := s.userLimit.peek(strconv.FormatInt(uid, 10), now); !ok {
				s.reject(w, reasonUserRate, http.StatusTooManyRequests, "too many beacons from this user", wait)
				return
			}
		}
	}
	b, err := DecodeBeacon(body.Bytes())
	if err != nil {
		s.reject(w, reasonMalformed, http.StatusBadRequest, err.Error(), 0)
		return
	}
	uid, err := VerifyToken(b.Token, st.BeaconSecret, now)
	if err != nil {
		s.reject(w, reasonToken, http.StatusUnauthorized, tokenMessage(err), 0)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	u, found, err := s.users.User(ctx, uid)
	switch {
	case err != nil:
		s.stats.storeFailed.Add(1)
		s.log.Warn().Err(err).Int64("user_id", uid).Msg("beacon refused: cannot read vtiger_users")
		s.reject(w, reasonStore, http.StatusServiceUnavailable, "cannot check the user now; send again later", 5*time.Second)
		return
	case !found || !u.Active || u.Deleted:
		s.reject(w, reasonUser, http.StatusUnauthorized, "token of a user who is not an active Vtiger user", 0)
		return
	}
	if ok, wait := s.userLimit.allow(strconv.FormatInt(uid, 10), now); !ok {
		s.reject(w, reasonUserRate, http.StatusTooManyRequests, "too many beacons from this user", wait)
		return
	}
	if !st.TrackCopy {
		s.stats.discarded.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}

	it := newItem(b, uid, ip.String(), r.UserAgent(), st, now.UTC())
	if err := s.q.submit(it); err != nil {
		if errors.Is(err, errClosed) {
			s.reject(w, reasonShutdown, http.StatusServiceUnavailable, "shutting down; send again later", 5*time.Second)
		} else {
			s.reject(w, reasonQueueFull, http.StatusTooManyRequests, "too many beacons waiting to be stored; send again later", time.Second)
		}
		return
	}
	select {
	case err := <-it.done:
		if err != nil {
			s.reject(w, reasonStore, http.StatusServiceUnavailable, "beacon not stored; send again later", 5*time.Second)
			return
		}
		s.stats.accepted.Add(1)
		w.WriteHeader(http.StatusNoContent)
	case <-ctx.Done():
		// The writer may still store it; it was not acknowledged.
		s.reject(w, reasonTimeout, http.StatusServiceUnavailable, "beacon not confirmed in time; send again later", 5*time.Second)
	}
}

// readBody reads the body into a pooled buffer (give it back with
// putBuf). A non-zero status is the answer.
func (s *Service) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, int, string) {
	buf, _ := s.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return buf, http.StatusRequestEntityTooLarge, "beacon larger than 128 KiB"
	case err != nil:
		return buf, http.StatusBadRequest, "could not read the body"
	}
	return buf, 0, ""
}

func (s *Service) putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 2*MaxBody {
		buf.Reset()
		s.bufs.Put(buf)
	}
}

// scanToken finds the value of "token" in a beacon body without decoding
// it: the last "token" key followed by a string of token characters. It is
// only a hint (the key could sit inside the copied text); the decoded body
// decides.
func scanToken(body []byte) (string, bool) {
	i := bytes.LastIndex(body, []byte(`"token"`))
	if i < 0 {
		return "", false
	}
	rest := bytes.TrimLeft(body[i+len(`"token"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || end > maxTokenLen {
		return "", false
	}
	return string(rest[:end]), true
}

func tokenMessage(err error) string {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return "token expired: reload the page for a new one"
	case errors.Is(err, ErrNoSecret):
		return "beacons are not set up: dxt_config has no beacon_secret (run dxtracker migrate)"
	case errors.Is(err, ErrTokenMalformed):
		return "token missing or malformed: want v1.<user_id>.<expiry>.<hmac>"
	}
	return "token not valid"
}

// item is one beacon on its way to dxt_intake.
type item struct {
	nonce       string
	kind        string
	occurredAt  time.Time
	userID      int64
	module      *string
	recordCount *int64
	ip          *string
	userAgent   *string
	details     []byte
	text        []byte // what is stored as content; nil for none
	textSHA     string
	size        int // approximate bytes, for batching
	done        chan error
}

// intakeDetails is the details JSON of a beacon's intake row; the keys match
// those of the extension's relay so both become the same event. beacon_id
// comes first: the writer finds its rows by it.
type intakeDetails struct {
	BeaconID   string  `json:"beacon_id"`
	Via        string  `json:"via"`
	Action     string  `json:"action"`
	URL        *string `json:"url"`
	View       *string `json:"view"`
	Record     *string `json:"record"`
	Chars      int64   `json:"chars"`
	Rows       *int64  `json:"rows"`
	Truncated  bool    `json:"truncated"`
	ClientTS   *int64  `json:"client_ts,omitempty"`
	TextSHA256 string  `json:"text_sha256,omitempty"`
}

func newItem(b Beacon, uid int64, ip, ua string, st tracker.Settings, now time.Time) *item {
	it := &item{
		nonce:      newNonce(),
		kind:       IntakeKindCopy,
		occurredAt: now,
		userID:     uid,
		module:     nonEmpty(b.Module),
		ip:         nonEmpty(ip),
		userAgent:  tracker.Clip(nonEmpty(ua), 512),
		done:       make(chan error, 1),
	}
	if b.Kind == KindContextMenu {
		it.kind = IntakeKindContextMenu
	}
	if b.Rows != nil && *b.Rows > 0 && *b.Rows <= math.MaxInt32 {
		it.recordCount = b.Rows
	}
	received := utf8.RuneCountInString(b.Text)
	text := b.Text
	if max := st.CopyMaxChars; int64(received) > max {
		text = clipChars(text, int(max))
	}
	kept := utf8.RuneCountInString(text)
	chars := int64(received)
	if b.Chars != nil {
		chars = *b.Chars
	}
	d := intakeDetails{
		BeaconID: it.nonce, Via: "beacon", Action: b.Kind,
		URL: nonEmpty(b.URL), View: nonEmpty(b.View), Record: nonEmpty(b.Record),
		Chars: chars, Rows: b.Rows, ClientTS: b.TS,
		Truncated: kept < received || chars > int64(kept),
	}
	if it.kind == IntakeKindCopy && text != "" {
		sum := sha256.Sum256([]byte(text))
		it.textSHA = hex.EncodeToString(sum[:])
		d.TextSHA256 = it.textSHA
		if st.CaptureContent {
			it.text = []byte(text)
		}
	}
	it.details, _ = json.Marshal(d) // plain struct: cannot fail
	it.size = len(it.details) + len(it.text) + 256
	return it
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// errorBody is the API's error shape.
type errorBody struct {
	Error string `json:"error"`
}

// reject answers a refused beacon: {"error": msg}, Retry-After when wait > 0.
func (s *Service) reject(w http.ResponseWriter, reason rejectReason, status int, msg string, wait time.Duration) {
	s.stats.reject(reason)
	h := w.Header()
	if wait > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg})
}
