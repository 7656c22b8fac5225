package beacon

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestTokenBucketAllowsBurstThenRateAndSaysWhenToRetry(t *testing.T) {
	l := newLimiter(Limit{Rate: 10, Burst: 3}, 1000)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("u", now); !ok {
			t.Fatalf("beacon %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("u", now)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("4th at once: ok %v, wait %v; want refused, about 100ms", ok, wait)
	}
	if ok, _ := l.allow("other", now); !ok {
		t.Fatal("another key shares the bucket")
	}
	if ok, _ := l.allow("u", now.Add(100*time.Millisecond)); !ok {
		t.Fatal("refused after a token was refilled")
	}
	if ok, _ := (&limiter{limit: Limit{Rate: -1}}).allow("u", now); !ok {
		t.Fatal("a disabled limit refused")
	}
}

func TestLimiterMemoryIsBoundedUnderAddressSpray(t *testing.T) {
	l := newLimiter(Limit{Rate: 1, Burst: 1}, 6400)
	now := time.Unix(1000, 0)
	for i := 0; i < 200000; i++ {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := l.size(); n > 6400 {
		t.Fatalf("%d buckets kept, bound 6400", n)
	}
}

func TestClientIPBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"192.0.2.9:5000", "198.51.100.7", "192.0.2.9"},                       // untrusted peer: header ignored
		{"127.0.0.1:5000", "", "127.0.0.1"},                                   // trusted, no header
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.7"},                    // one proxy
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.7, 10.1.1.1", "198.51.100.7"}, // spoofed left part skipped
		{"127.0.0.1:5000", "garbage, 10.1.1.1", "10.1.1.1"},                   // garbage before trusted hops
		{"127.0.0.1:5000", "[2001:db8::1]:443", "2001:db8::1"},
		{"[::ffff:127.0.0.1]:5000", "198.51.100.7:1234", "198.51.100.7"}, // mapped peer
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientIP(r, trusted).String(); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if k := ipKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); k != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s", k)
	}
}

func TestPeekTakesNoToken(t *testing.T) {
	l := newLimiter(Limit{Rate: 1, Burst: 1}, 1000)
	now := time.Unix(1000, 0)
	if ok, _ := l.peek("u", now); !ok {
		t.Fatal("unknown key refused by peek")
	}
	l.allow("u", now)
	if ok, wait := l.peek("u", now); ok || wait != time.Second {
		t.Fatalf("peek after the burst: %v %v", ok, wait)
	}
	if ok, _ := l.peek("u", now.Add(time.Second)); !ok {
		t.Fatal("peek refused after the refill")
	}
	if ok, _ := l.allow("u", now.Add(time.Second)); !ok {
		t.Fatal("peek took the token")
	}
}

func TestScanTokenFindsTheLastTokenKey(t *testing.T) {
	for _, c := range []struct {
		body, want string
		ok         bool
	}{
		{`{"kind":"copy","text":"x","token":"v1.5.9.ab"}`, "v1.5.9.ab", true},
		{`{"token" : "v1.5.9.ab" ,"kind":"copy"}`, "v1.5.9.ab", true},
		{`{"token":"v1.1.1.aa","text":"a \"token\":\"v1.2.2.bb\""}`, "v1.1.1.aa", true}, // escaped quotes in text do not match
		{`{"text":"no key here"}`, "", false},
		{`{"token":5}`, "", false},
		{`{"token":"unterminated`, "", false},
	} {
		got, ok := scanToken([]byte(c.body))
		if got != c.want || ok != c.ok {
			t.Errorf("scanToken(%s) = %q, %v; want %q, %v", c.body, got, ok, c.want, c.ok)
		}
	}
}
