package api

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// principal is who a request acts for: a token ("token:<name>#<id>") or a
// Vtiger administrator (the user name).
type principal struct {
	name   string
	method string // tracker.AuthToken or tracker.AuthBasic
}

const realm = `Basic realm="dxtracker"`

// Failed authentications allowed per client address and window before the
// address gets 429 until the window ends.
const (
	authFailLimit  = 20
	authFailWindow = 5 * time.Minute
)

func unauthorized(msg string) error {
	return &httpError{status: http.StatusUnauthorized, msg: msg, header: http.Header{"Www-Authenticate": {realm}}}
}

// authenticate checks the Authorization header; its errors are answers.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	ip := remoteIP(r)
	if wait, blocked := s.limiter.blocked(ip); blocked {
		return principal{}, &httpError{status: http.StatusTooManyRequests,
			msg:    "too many failed authentications from this address; try again later",
			header: http.Header{"Retry-After": {strconv.Itoa(int(wait.Seconds()) + 1)}}}
	}
	p, err := s.credentials(r)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusUnauthorized {
		s.limiter.fail(ip)
	}
	if err == nil {
		ri := info(r.Context())
		ri.principal, ri.authMethod = p.name, p.method
	}
	return p, err
}

func (s *Server) credentials(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, unauthorized("authentication required: send Authorization: Bearer <API token> or HTTP Basic with a Vtiger administrator's user name and access key")
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		t, err := tracker.VerifyToken(r.Context(), s.db, strings.TrimSpace(rest))
		switch {
		case errors.Is(err, tracker.ErrTokenRevoked):
			return principal{}, unauthorized("API token revoked")
		case errors.Is(err, tracker.ErrTokenExpired):
			return principal{}, unauthorized("API token expired")
		case errors.Is(err, tracker.ErrTokenUnknown):
			return principal{}, unauthorized("unknown API token")
		case err != nil:
			return principal{}, err
		}
		return principal{name: "token:" + t.Name + "#" + strconv.FormatUint(t.ID, 10), method: tracker.AuthToken}, nil
	case "basic":
		user, key, ok := r.BasicAuth()
		if !ok || user == "" || key == "" || s.dir == nil {
			return principal{}, unauthorized("malformed Basic credentials: want a Vtiger user name and access key")
		}
		u, err := s.dir.AuthenticateAdmin(r.Context(), user, key)
		switch {
		case errors.Is(err, vtiger.ErrNotAdmin):
			return principal{}, errorf(http.StatusForbidden, "Vtiger user %q is not an administrator; the API is for administrators only", user)
		case errors.Is(err, vtiger.ErrBadCredentials):
			return principal{}, unauthorized("wrong user name or access key, or the user is not active")
		case err != nil:
			return principal{}, err
		}
		return principal{name: u.UserName, method: tracker.AuthBasic}, nil
	}
	return principal{}, unauthorized("unsupported authorization scheme: use Bearer or Basic")
}

// failLimiter counts failed authentications per client address in fixed
// windows. Memory is bounded: past maxTracked addresses the oldest windows
// are dropped first.
type failLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	byIP map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

const maxTracked = 10000

func newFailLimiter(limit int, window time.Duration) *failLimiter {
	return &failLimiter{limit: limit, window: window, now: time.Now, byIP: map[string]*failWindow{}}
}

func limiterKey(ip string) string {
	// One IPv6 client usually owns a whole /64.
	if a, err := netip.ParseAddr(ip); err == nil && a.Unmap().Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return ip
}

func (l *failLimiter) blocked(ip string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.byIP[limiterKey(ip)]
	if w == nil {
		return 0, false
	}
	left := l.window - l.now().Sub(w.start)
	if left <= 0 {
		delete(l.byIP, limiterKey(ip))
		return 0, false
	}
	return left, w.n >= l.limit
}

func (l *failLimiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := limiterKey(ip)
	w := l.byIP[k]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.byIP) >= maxTracked {
			l.pruneLocked(now)
		}
		w = &failWindow{start: now}
		l.byIP[k] = w
	}
	w.n++
}

func (l *failLimiter) pruneLocked(now time.Time) {
	for k, w := range l.byIP {
		if now.Sub(w.start) >= l.window {
			delete(l.byIP, k)
		}
	}
	for k := range l.byIP { // still full: forget arbitrary ones
		if len(l.byIP) < maxTracked {
			break
		}
		delete(l.byIP, k)
	}
}
