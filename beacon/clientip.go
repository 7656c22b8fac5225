package beacon

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a beacon came from: the TCP peer, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not itself a trusted proxy (walking from the right, the end the proxies
// appended). An X-Forwarded-For from anyone else is ignored: a browser can
// write anything there.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, ok := parseHop(parts[j])
			if !ok {
				// Garbage from the hop before a trusted proxy: the last
				// address a trusted proxy vouched for is all we know.
				return addr
			}
			if !isTrusted(a, trusted) {
				return a
			}
			addr = a
		}
	}
	return addr
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For element: an address, possibly with a
// port ("192.0.2.1:1234", "[2001:db8::1]:80").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ipKey is the rate-limit key of an address: IPv4 as is, IPv6 by /64, the
// block one client usually owns.
func ipKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
