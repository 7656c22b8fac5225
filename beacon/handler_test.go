package beacon_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestAcceptedBeaconIsCommittedBeforeTheAnswerAndBecomesACopyEvent(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	text := "Mary\tSmith\tmary@example.com\nJohn\tDoe\tjohn@example.com\n"
	a := e.post(body(e.token(jsmith), "copy", text, "record", "123", "rows", 2))
	if a.status != http.StatusNoContent || a.body != "" {
		t.Fatalf("status %d body %q", a.status, a.body)
	}
	// 204 means committed: the row and its text are there already.
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake i JOIN dxt_intake_chunk c ON c.intake_id = i.id
WHERE i.kind = 'copy' AND i.user_id = 5 AND i.processed_at IS NULL AND c.data = ?`, text); n != 1 {
		t.Fatalf("%d intake rows with the text after 204", n)
	}

	evs := e.events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.Type != tracker.TypeCopy || *ev.UserID != jsmith || str(ev.UserName) != "jsmith" || str(ev.Module) != "Contacts" ||
		ev.RecordCount == nil || *ev.RecordCount != 2 || str(ev.IP) != "127.0.0.1" || !strings.Contains(str(ev.UserAgent), "Firefox") ||
		ev.Source != tracker.SourceBeacon {
		t.Fatalf("event %+v", ev)
	}
	d := details(t, ev)
	sum := sha256.Sum256([]byte(text))
	for k, want := range map[string]any{
		"channel": "beacon", "action": "copy", "view": "List", "record": "123", "chars": float64(len([]rune(text))), "rows": float64(2),
		"truncated": false, "client_ts": float64(1733300000000), "url": "https://crm.example.com/index.php?module=Contacts&view=List",
		"text_sha256": hex.EncodeToString(sum[:]),
		// jsmith is logged in from 10.0.0.5, the beacon came from 127.0.0.1.
		"ip_mismatch": true, "login_ip": "10.0.0.5",
	} {
		if d[k] != want {
			t.Errorf("details[%s] = %v, want %v (details %s)", k, d[k], want, ev.Details)
		}
	}
	if _, ok := d["via"]; ok {
		t.Errorf("via set on a plain copy: %s", ev.Details)
	}
	got, meta := e.content(ev)
	if got != text || meta.Name != beacon.ContentName || meta.Truncated {
		t.Fatalf("content %q meta %+v", got, meta)
	}
}

func TestTheUserComesOnlyFromTheToken(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	// A body cannot name a user: the field does not exist.
	a := e.post(body(e.token(jsmith), "copy", "x", "user_id", mjones))
	if a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), `unknown field "user_id"`) {
		t.Fatalf("status %d %s", a.status, a.body)
	}
	// mjones's token is mjones, whatever else the body says.
	if a := e.post(body(e.token(mjones), "copy", "y", "module", "Accounts")); a.status != http.StatusNoContent {
		t.Fatalf("status %d %s", a.status, a.body)
	}
	evs := e.events()
	if len(evs) != 1 || str(evs[0].UserName) != "mjones" {
		t.Fatalf("events %+v", evs)
	}
}

func TestBadTokensAreRefused401(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	now := time.Now()
	good := e.token(jsmith)
	forged := beacon.Sign("an attacker's guess at the secret, long enough", jsmith, now.Add(time.Hour))
	otherUser := strings.Replace(good, "v1.5.", "v1.6.", 1) // mjones with jsmith's signature
	for _, c := range []struct{ name, token, want string }{
		{"expired", beacon.Sign(e.secret(), jsmith, now.Add(-time.Minute)), "expired"},
		{"forged", forged, "not valid"},
		{"other user's id", otherUser, "not valid"},
		{"too far ahead", beacon.Sign(e.secret(), jsmith, now.Add(13*time.Hour)), "not valid"},
		{"malformed", "v1.5.abc", "malformed"},
		{"missing", "", "malformed"},
		{"inactive user", beacon.Sign(e.secret(), old, now.Add(time.Hour)), "not an active"},
		{"deleted user", beacon.Sign(e.secret(), gone, now.Add(time.Hour)), "not an active"},
		{"unknown user", beacon.Sign(e.secret(), 999, now.Add(time.Hour)), "not an active"},
	} {
		a := e.post(body(c.token, "copy", "secret text"))
		if a.status != http.StatusUnauthorized || !strings.Contains(a.errorMessage(t), c.want) {
			t.Errorf("%s: status %d %s", c.name, a.status, a.body)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake`); n != 0 {
		t.Fatalf("%d intake rows from refused beacons", n)
	}
	if a := e.post(body(good, "copy", "ok")); a.status != http.StatusNoContent {
		t.Fatalf("good token: %d %s", a.status, a.body)
	}
}

func TestRotatedSecretRefusesOldTokensAtTheNextBeacon(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	before := e.token(jsmith)
	if a := e.post(body(before, "copy", "a")); a.status != http.StatusNoContent {
		t.Fatalf("%d %s", a.status, a.body)
	}
	e.setting(func(s *tracker.Settings) { s.BeaconSecret = strings.Repeat("f", 64) })
	if a := e.post(body(before, "copy", "b")); a.status != http.StatusUnauthorized {
		t.Fatalf("old token after rotation: %d %s", a.status, a.body)
	}
	if a := e.post(body(e.token(jsmith), "copy", "c")); a.status != http.StatusNoContent {
		t.Fatalf("new token: %d %s", a.status, a.body)
	}
}

func TestOversizeAndMalformedBodies(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	big := body(e.token(jsmith), "copy", strings.Repeat("x", beacon.MaxBody))
	if a := e.post(big); a.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize with Content-Length: %d %s", a.status, a.body)
	}
	// Without Content-Length (chunked) the limit holds while reading.
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+beacon.Path, struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.ContentLength = -1
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize chunked: %d", res.StatusCode)
	}
	// Exactly at the limit is fine.
	tok := e.token(jsmith)
	pad := beacon.MaxBody - len(body(tok, "copy", ""))
	fit := body(tok, "copy", strings.Repeat("y", pad))
	pad -= len(fit) - beacon.MaxBody // the digits of chars grew
	fit = body(tok, "copy", strings.Repeat("y", pad))
	if len(fit) != beacon.MaxBody {
		t.Fatalf("test body of %d bytes", len(fit))
	}
	if a := e.post(fit); a.status != http.StatusNoContent {
		t.Fatalf("body of exactly 128 KiB: %d %s", a.status, a.body)
	}
	for _, c := range []struct{ body, want string }{
		{`{"kind":"copy","token":`, "truncated JSON"},
		{`not json`, "not a JSON object"},
		{`{"kind":"print"}`, "kind"},
		{`{"kind":"copy","rows":-2}`, "rows"},
	} {
		a := e.post([]byte(c.body))
		if a.status != http.StatusBadRequest || !strings.Contains(a.errorMessage(t), c.want) {
			t.Errorf("%s: %d %s", c.body, a.status, a.body)
		}
	}
	if a := e.request(http.MethodGet, nil); a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET: %d allow %q", a.status, a.header.Get("Allow"))
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	e := newEnv(t, beacon.Options{AllowedOrigins: []string{"https://crm.example.com"}})
	pre := func(origin string) answer {
		return e.request(http.MethodOptions, nil, "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type", "Access-Control-Request-Private-Network", "true")
	}
	a := pre("https://crm.example.com")
	if a.status != http.StatusNoContent || a.header.Get("Access-Control-Allow-Origin") != "https://crm.example.com" ||
		a.header.Get("Access-Control-Allow-Methods") != "POST" || !strings.EqualFold(a.header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		a.header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Fatalf("allowed preflight: %d %v", a.status, a.header)
	}
	a = pre("https://evil.example.net")
	if a.status != http.StatusForbidden || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("denied preflight: %d %v", a.status, a.header)
	}
	// The POST itself: allowed origin gets the header, others 403 and nothing stored.
	a = e.post(body(e.token(jsmith), "copy", "t"), "Origin", "https://crm.example.com")
	if a.status != http.StatusNoContent || a.header.Get("Access-Control-Allow-Origin") != "https://crm.example.com" {
		t.Fatalf("allowed POST: %d %v", a.status, a.header)
	}
	a = e.post(body(e.token(jsmith), "copy", "t2"), "Origin", "https://evil.example.net")
	if a.status != http.StatusForbidden {
		t.Fatalf("denied POST: %d", a.status)
	}
	// A page on the daemon's own host (a same-origin proxy) needs no entry.
	host := strings.TrimPrefix(e.ts.URL, "http://")
	if a := e.post(body(e.token(jsmith), "copy", "t3"), "Origin", "http://"+host); a.status != http.StatusNoContent {
		t.Fatalf("same-host POST: %d %s", a.status, a.body)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake`); n != 2 {
		t.Fatalf("%d intake rows, want 2", n)
	}
}

// With no allowed_origins, a proxy that rewrites Host (nginx's default)
// must not make every same-origin beacon look foreign: POSTs are taken
// without a CORS grant, preflights of other sites refused.
func TestWithoutAllowedOriginsPostsAreTakenButNoSiteGetsACORSGrant(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	a := e.post(body(e.token(jsmith), "copy", "t"), "Origin", "https://crm.example.com")
	if a.status != http.StatusNoContent || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("POST: %d %v", a.status, a.header)
	}
	a = e.request(http.MethodOptions, nil, "Origin", "https://evil.example.net", "Access-Control-Request-Method", "POST")
	if a.status != http.StatusForbidden || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight: %d %v", a.status, a.header)
	}
}

func TestRateLimitsAnswer429WithRetryAfter(t *testing.T) {
	t.Run("per user", func(t *testing.T) {
		e := newEnv(t, beacon.Options{UserLimit: beacon.Limit{Rate: 0.5, Burst: 3}})
		for i := 0; i < 3; i++ {
			if a := e.post(body(e.token(jsmith), "copy", fmt.Sprint(i))); a.status != http.StatusNoContent {
				t.Fatalf("beacon %d: %d", i, a.status)
			}
		}
		a := e.post(body(e.token(jsmith), "copy", "over"))
		if ra, _ := strconv.Atoi(a.header.Get("Retry-After")); a.status != http.StatusTooManyRequests || ra < 1 || ra > 2 {
			t.Fatalf("4th: %d Retry-After %q", a.status, a.header.Get("Retry-After"))
		}
		// Another user is not held back by jsmith.
		if a := e.post(body(e.token(mjones), "copy", "other")); a.status != http.StatusNoContent {
			t.Fatalf("other user: %d", a.status)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t, beacon.Options{IPLimit: beacon.Limit{Rate: 1, Burst: 2}})
		for i, uid := range []int64{jsmith, mjones} {
			if a := e.post(body(e.token(uid), "copy", fmt.Sprint(i))); a.status != http.StatusNoContent {
				t.Fatalf("beacon %d: %d", i, a.status)
			}
		}
		a := e.post(body(e.token(admin), "copy", "third"))
		if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "1" {
			t.Fatalf("3rd from the address: %d Retry-After %q", a.status, a.header.Get("Retry-After"))
		}
	})
}

func TestTrackCopyOffAnswers204AndStoresNothing(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	e.setting(func(s *tracker.Settings) { s.TrackCopy = false })
	if a := e.post(body(e.token(jsmith), "copy", "dropped")); a.status != http.StatusNoContent {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake`); n != 0 {
		t.Fatalf("%d intake rows with track_copy off", n)
	}
}

func TestTextIsCutAtCopyMaxCharsAndMarkedTruncated(t *testing.T) {
	e := newEnv(t, beacon.Options{})
	e.setting(func(s *tracker.Settings) { s.CopyMaxChars = 5 })
	if a := e.post(body(e.token(jsmith), "copy", "ééééééééé")); a.status != http.StatusNoContent {
		t.Fatalf("%d %s", a.status, a.body)
	}
	evs := e.events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	got, meta := e.content(evs[0])
	d := details(t, evs[0])
	if got != "ééééé" || !meta.Truncated || d["truncated"] != true || d["chars"] != float64(9) {
		t.Fatalf("content %q truncated %v details %s", got, meta.Truncated, evs[0].Details)
	}
}

func TestBurstIsGroupCommittedAndEveryRowGetsItsOwnText(t *testing.T) {
	e := newEnv(t, beacon.Options{UserLimit: beacon.Limit{Rate: -1}, IPLimit: beacon.Limit{Rate: -1}})
	const n = 2000
	var wg sync.WaitGroup
	statuses := make([]int, n)
	sem := make(chan struct{}, 200)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			uid := []int64{admin, jsmith, mjones}[i%3]
			res, err := client.Post(e.ts.URL+beacon.Path, "application/json",
				bytes.NewReader(body(e.token(uid), "copy", fmt.Sprintf("text %d of user %d", i, uid))))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusNoContent {
			t.Fatalf("beacon %d: %d", i, s)
		}
	}
	c := e.svc.Counts()
	if c.Accepted != n || c.Batches > n/5 {
		t.Fatalf("accepted %d in %d transactions; want %d in far fewer", c.Accepted, c.Batches, n)
	}
	t.Logf("%d beacons in %d transactions", c.Accepted, c.Batches)
	// Every row's chunk is its own text: the id read-back matched them right.
	if bad := e.count(`SELECT COUNT(*) FROM dxt_intake i LEFT JOIN dxt_intake_chunk c ON c.intake_id = i.id
WHERE c.data IS NULL OR i.content_sha256 <> SHA2(c.data, 256)
   OR c.data NOT LIKE CONCAT('% of user ', i.user_id)`); bad != 0 {
		t.Fatalf("%d rows with a missing or foreign text", bad)
	}
	if got := e.count(`SELECT COUNT(*) FROM dxt_intake`); got != n {
		t.Fatalf("%d intake rows", got)
	}
}

func TestFullQueueAnswers429AndDrainAnswersEveryQueuedBeacon(t *testing.T) {
	e := newEnv(t, beacon.Options{QueueSize: 2, Writers: 1, UserLimit: beacon.Limit{Rate: -1}})
	// Hold the writer: a session locks dxt_intake.
	conn, err := e.db.Conn(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(e.ctx, `LOCK TABLES dxt_intake WRITE`); err != nil {
		t.Fatal(err)
	}
	results := make(chan int, 10)
	send := func(i int) {
		res, err := e.ts.Client().Post(e.ts.URL+beacon.Path, "application/json", bytes.NewReader(body(e.token(jsmith), "copy", fmt.Sprint("q", i))))
		if err != nil {
			results <- 0
			return
		}
		res.Body.Close()
		results <- res.StatusCode
	}
	// One beacon in the writer's hands, two in the queue...
	for i := 0; i < 3; i++ {
		go send(i)
		waitFor(t, func() bool { return e.queued()+e.writing() == i+1 })
	}
	// ...and the fourth finds the queue full.
	a := e.post(body(e.token(jsmith), "copy", "overflow"))
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
		t.Fatalf("full queue: %d %v", a.status, a.header)
	}
	// Shutdown: new beacons get 503, the queued ones are still written.
	e.stop()
	waitFor(t, func() bool {
		return e.post(body(e.token(jsmith), "copy", "late")).status == http.StatusServiceUnavailable
	})
	if _, err := conn.ExecContext(e.ctx, `UNLOCK TABLES`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if s := <-results; s != http.StatusNoContent {
			t.Fatalf("queued beacon answered %d", s)
		}
	}
	<-e.stopped
	if n := e.count(`SELECT COUNT(*) FROM dxt_intake`); n != 3 {
		t.Fatalf("%d intake rows after drain, want 3", n)
	}
}

func TestCopiedTextNeverReachesTheLog(t *testing.T) {
	e := newEnv(t, beacon.Options{UserLimit: beacon.Limit{Rate: 1, Burst: 1}})
	const secret = "IBAN DE44 5001 0517 5407 3249 31"
	e.post(body(e.token(jsmith), "copy", secret))
	e.post(body(e.token(jsmith), "copy", secret))                   // rate limited
	e.post(body("v1.5.1.bad", "copy", secret))                      // bad token
	e.post([]byte(`{"kind":"copy","text":"` + secret + `","x":1}`)) // malformed
	e.events()
	e.stop()
	<-e.stopped
	if strings.Contains(e.logs.String(), "IBAN") {
		t.Fatalf("copied text in the log:\n%s", e.logs.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
