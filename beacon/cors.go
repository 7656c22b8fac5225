package beacon

import (
	"net/http"
	"net/url"
	"strings"
)

// originVerdict is what the Origin header of a request says.
type originVerdict int

const (
	originAbsent    originVerdict = iota // no Origin: not a browser cross-origin call
	originSameHost                       // the page is on the host it posts to (behind a same-origin proxy)
	originAllowed                        // one of allowed_origins: CORS headers go out
	originUnlisted                       // another site, and allowed_origins is empty: no CORS grant
	originForbidden                      // another site than those of allowed_origins
)

// checkOrigin classifies the request's Origin. Same host means the Origin's
// host[:port] is the request's Host, or the X-Forwarded-Host a trusted proxy
// set: the page and the endpoint share an origin, no CORS is involved.
//
// A POST from another site is refused only when allowed_origins is set:
// with the list empty, a same-origin proxy that rewrites Host (nginx's
// default) would otherwise make every beacon look foreign. The token is
// what authenticates a beacon; without a CORS grant a browser still sends
// no cross-site application/json POST (its preflight is refused).
func (s *Service) checkOrigin(r *http.Request) (string, originVerdict) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return "", originAbsent
	}
	o := strings.ToLower(origin)
	if s.allowedOrigins[o] {
		return origin, originAllowed
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return origin, originForbidden
	}
	hosts := []string{r.Host}
	if peer := peerAddr(r); peer.IsValid() && isTrusted(peer, s.opts.TrustedProxies) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			hosts = append(hosts, strings.TrimSpace(strings.Split(fh, ",")[0]))
		}
	}
	for _, h := range hosts {
		if sameHost(u, strings.ToLower(h)) {
			return origin, originSameHost
		}
	}
	if len(s.allowedOrigins) == 0 {
		return origin, originUnlisted
	}
	return origin, originForbidden
}

// sameHost compares an origin URL with a Host header value, treating an
// absent port as the scheme's default.
func sameHost(origin *url.URL, host string) bool {
	if host == "" {
		return false
	}
	if origin.Host == host {
		return true
	}
	def := ":80"
	if origin.Scheme == "https" {
		def = ":443"
	}
	return origin.Host+def == host || origin.Host == host+def
}

// allowCORS writes the response headers that let an allowed origin's page
// read the answer (sendBeacon sends credentials, so those are allowed too;
// the daemon uses no cookies).
func allowCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// preflight answers OPTIONS: 204 with the CORS grant for an allowed origin
// asking for POST, 403 for any other origin.
func (s *Service) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Allow", "POST, OPTIONS")
	origin, verdict := s.checkOrigin(r)
	method := r.Header.Get("Access-Control-Request-Method")
	switch {
	case verdict == originAbsent || method == "":
		// Not a CORS preflight: say what the endpoint takes.
		w.WriteHeader(http.StatusNoContent)
		return
	case verdict == originForbidden || verdict == originUnlisted:
		s.reject(w, reasonOrigin, http.StatusForbidden, "origin not allowed: add it to allowed_origins in the daemon's configuration", 0)
		return
	case method != http.MethodPost:
		s.reject(w, reasonMethod, http.StatusMethodNotAllowed, "only POST is allowed", 0)
		return
	}
	allowCORS(h, origin)
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	// Chrome's Private Network Access: a page on a public address calling
	// the daemon on a private one asks first.
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}
