package api

import (
	"mime"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/tracker"
)

func TestContentDispositionRoundTrips(t *testing.T) {
	for _, name := range []string{"Contacts.csv", "Übersicht 2026.xlsx", `a"b\c.txt`, "日本語.pdf", "semi;colon,comma.csv", "100% sure.txt"} {
		cd := contentDisposition(name)
		typ, params, err := mime.ParseMediaType(cd)
		if err != nil || typ != "attachment" || params["filename"] != name {
			t.Errorf("%q: %s parsed as %q %v %v", name, cd, typ, params, err)
		}
	}
}

func TestFileNameStripsPathsAndControls(t *testing.T) {
	for _, tc := range []struct {
		meta tracker.ContentMeta
		want string
	}{
		{tracker.ContentMeta{Name: "../../etc/passwd"}, "passwd"},
		{tracker.ContentMeta{Name: `C:\Users\x\Report.xls`}, "Report.xls"},
		{tracker.ContentMeta{Name: "a\r\nb.csv"}, "ab.csv"},
		{tracker.ContentMeta{Name: "", MediaType: "text/plain; charset=utf-8"}, "event-7.txt"},
		{tracker.ContentMeta{Name: "..", MediaType: "text/csv"}, "event-7.csv"},
		{tracker.ContentMeta{Name: "/"}, "event-7.bin"},
	} {
		if got := fileName(tc.meta, 7); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.meta.Name, got, tc.want)
		}
	}
}

func TestSafeMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "application/octet-stream",
		"text/csv":                "text/csv",
		"text/csv; charset=UTF-8": "text/csv; charset=UTF-8",
		"bogus":                   "application/octet-stream",
		"text/html\r\nX-Evil: 1":  "application/octet-stream",
	} {
		if got := safeMediaType(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestFailLimiterWindows(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailLimiter(3, time.Minute)
	l.now = func() time.Time { return now }
	for range 3 {
		if _, b := l.blocked("192.0.2.1"); b {
			t.Fatal("blocked too early")
		}
		l.fail("192.0.2.1")
	}
	if _, b := l.blocked("192.0.2.1"); !b {
		t.Error("not blocked after 3 failures")
	}
	if _, b := l.blocked("192.0.2.2"); b {
		t.Error("another address blocked")
	}
	l.fail("2001:db8::1")
	l.fail("2001:db8::2")
	l.fail("2001:db8::3")
	if _, b := l.blocked("2001:db8::ffff"); !b {
		t.Error("IPv6 /64 not counted together")
	}
	now = now.Add(time.Minute)
	if _, b := l.blocked("192.0.2.1"); b {
		t.Error("still blocked after the window")
	}
}
