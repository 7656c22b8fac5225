package vtigerext

// Browser test of tracker.js: headless Chromium, driven over the DevTools
// protocol, loads a stand-in for a Vtiger list view (browser/listview.html)
// from a small HTTP server on loopback that plays three parts of the real
// system: the extension's BeaconToken action (the token is issued by the
// extension's own PHP code, Dxt_Token, when php is installed), the daemon's
// beacon endpoint, and the extension's Relay action. Keys and clicks are real
// input events (Input.dispatchKeyEvent, Input.dispatchMouseEvent), not
// synthetic DOM events.
//
// Chromium reaches nothing but that server: background networking,
// component updates and sync are off, and every host name but 127.0.0.1
// resolves to nothing.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/domdebugger"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	browserTestSecret = "dxt-test-secret-0123456789abcdef0123456789"
	browserTestUser   = 5
	browserTestCSRF   = "sid:0123456789abcdef,1733300000"
	trackerJSPath     = "layouts/v7/modules/DataExportTracker/resources/tracker.js"
	beaconPath        = "/dxtracker/api/v1/beacons"
)

// The same vector is checked against the PHP issuer in
// tests/TokenTest.php: both sides must agree byte for byte.
func TestBeaconTokenVectorMatchesTheGoHMAC(t *testing.T) {
	const want = "v1.5.1733343200.93eb1dfafb2689e286b969b73c2d80cbf16ee46d4410acb7946cf3f0c07b6074"
	if got := signBeaconToken(5, 1733343200, browserTestSecret); got != want {
		t.Fatalf("Go HMAC gives %s, want %s", got, want)
	}
	if uid, ok := verifyBeaconToken(want, browserTestSecret, time.Unix(1733300000, 0)); !ok || uid != 5 {
		t.Fatalf("verify: uid %d ok %v", uid, ok)
	}
}

func signBeaconToken(userID int, expiry int64, secret string) string {
	payload := fmt.Sprintf("v1.%d.%d", userID, expiry)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return payload + "." + hex.EncodeToString(m.Sum(nil))
}

var tokenRE = regexp.MustCompile(`^v1\.([1-9][0-9]*)\.([1-9][0-9]*)\.([0-9a-f]{64})$`)

// verifyBeaconToken is what the daemon does with a beacon's token (CONTRACTS §6).
func verifyBeaconToken(token, secret string, now time.Time) (int, bool) {
	m := tokenRE.FindStringSubmatch(token)
	if m == nil {
		return 0, false
	}
	uid, _ := strconv.Atoi(m[1])
	exp, _ := strconv.ParseInt(m[2], 10, 64)
	want := signBeaconToken(uid, exp, secret)
	if !hmac.Equal([]byte(want), []byte(token)) || exp <= now.Unix() || exp-now.Unix() > 43200 {
		return 0, false
	}
	return uid, true
}

// ---- the fake Vtiger + daemon ---------------------------------------------

type beaconPost struct {
	Path        string
	ContentType string
	CSRF        string         // __vtrftk of a relay form
	Beacon      map[string]any // the decoded JSON beacon
}

type fakeVtiger struct {
	t       *testing.T
	enabled bool
	relay   bool
	srv     *httptest.Server

	mu        sync.Mutex
	tokenHits int
	posts     []beaconPost
	arrived   chan struct{}
}

func newFakeVtiger(t *testing.T, enabled, relay bool) *fakeVtiger {
	t.Helper()
	f := &fakeVtiger{t: t, enabled: enabled, relay: relay, arrived: make(chan struct{}, 64)}
	page, err := os.ReadFile(filepath.Join("browser", "listview.html"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(trackerJSPath)
	if err != nil {
		t.Fatal(err)
	}
	html := strings.NewReplacer("{{USER_ID}}", strconv.Itoa(browserTestUser), "{{CSRF}}", browserTestCSRF).Replace(string(page))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /crm/"+trackerJSPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript")
		w.Write(js)
	})
	mux.HandleFunc("/crm/index.php", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("module") == "DataExportTracker" && q.Get("action") == "BeaconToken" && r.Method == http.MethodGet:
			f.serveToken(w)
		case q.Get("module") == "DataExportTracker" && q.Get("action") == "Relay" && r.Method == http.MethodPost:
			f.collect(w, r)
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, html)
		default:
			http.Error(w, "unexpected", http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("POST "+beaconPath, f.collect)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVtiger) pageURL() string {
	return f.srv.URL + "/crm/index.php?module=Contacts&view=List&viewname=7"
}

// serveToken answers like DataExportTracker_BeaconToken_Action.
func (f *fakeVtiger) serveToken(w http.ResponseWriter) {
	f.mu.Lock()
	f.tokenHits++
	f.mu.Unlock()
	now := time.Now().Unix()
	body := map[string]any{"enabled": false, "expires": now + 600, "max_chars": 65536, "token": nil, "beacon_url": nil}
	if f.enabled {
		body["enabled"] = true
		body["token"] = issueTokenWithPHP(f.t, browserTestUser, now)
		body["expires"] = now + 43200
		body["beacon_url"] = beaconPath
		body["relay"] = false
		if f.relay {
			body["beacon_url"] = "index.php?module=DataExportTracker&action=Relay"
			body["relay"] = true
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(body)
}

// issueTokenWithPHP issues the token with the extension's own Dxt_Token when
// php is installed, so the daemon-side check below tests the PHP issuer.
func issueTokenWithPHP(t *testing.T, userID int, now int64) string {
	php, err := exec.LookPath("php")
	if err != nil {
		return signBeaconToken(userID, now+43200, browserTestSecret)
	}
	lib, _ := filepath.Abs("modules/DataExportTracker/lib/Token.php")
	code := fmt.Sprintf(`require %q; echo Dxt_Token::issue(%d, %q, %d);`, lib, userID, browserTestSecret, now)
	out, err := exec.Command(php, "-r", code).Output()
	if err != nil {
		t.Errorf("php Dxt_Token::issue: %v", err)
		return ""
	}
	return string(out)
}

// collect plays the daemon's beacon endpoint and the extension's relay.
func (f *fakeVtiger) collect(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 128<<10))
	if err != nil {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	p := beaconPost{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type")}
	if strings.HasPrefix(p.ContentType, "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		p.CSRF = form.Get("__vtrftk")
		raw = []byte(form.Get("beacon"))
	}
	if err := json.Unmarshal(raw, &p.Beacon); err != nil {
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	f.arrived <- struct{}{}
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeVtiger) waitPosts(t *testing.T, n int, within time.Duration) []beaconPost {
	t.Helper()
	deadline := time.After(within)
	for {
		f.mu.Lock()
		got := len(f.posts)
		f.mu.Unlock()
		if got >= n {
			break
		}
		select {
		case <-f.arrived:
		case <-deadline:
			t.Fatalf("got %d beacons, want %d", got, n)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posts)
}

func (f *fakeVtiger) snapshot() (tokenHits int, posts []beaconPost) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenHits, slices.Clone(f.posts)
}

// ---- the browser ----------------------------------------------------------

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (scripts/install-deps.sh installs it)")
	}
	t.Skip("chromium is not installed: apt-get install chromium (scripts/install-deps.sh does)")
	return ""
}

// newBrowser starts headless Chromium that can reach loopback only, and
// returns a tab context with a deadline for the whole test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1000, 700),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Starts the browser on a context without deadline (see chromedp.Run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return tctx
}

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, func(p *runtime.EvaluateParams) {
		p.AwaitPromise = ptrTo(true)
	}))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func ptrTo[T any](v T) *T { return &v }

// openPage loads the list view and waits until tracker.js has its config
// (or, when tracking is off, has had its answer).
func openPage(t *testing.T, ctx context.Context, f *fakeVtiger) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(f.pageURL()))
	deadline := time.Now().Add(10 * time.Second)
	for {
		// tracker.js caches every answer, enabled or not, in sessionStorage.
		if eval[bool](t, ctx, `sessionStorage.length > 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tracker.js never asked for its token")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let the promise chain that adds the listeners finish.
	eval[bool](t, ctx, `new Promise(r => setTimeout(() => r(true), 100))`)
}

// selectRows selects from the first cell of row `from` to the end of the
// last cell of row `to` of the list view table.
func selectRows(t *testing.T, ctx context.Context, from, to int) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(() => {
		const a = document.getElementById('row%d').cells[0].firstChild;
		const lastRow = document.getElementById('row%d');
		const b = lastRow.cells[lastRow.cells.length - 1].firstChild;
		const r = document.createRange();
		r.setStart(a, 0);
		r.setEnd(b, b.length);
		const s = window.getSelection();
		s.removeAllRanges();
		s.addRange(r);
		return s.toString();
	})()`, from, to))
}

// pressCtrl sends a real Ctrl+<key> as the keyboard would.
func pressCtrl(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	upper := strings.ToUpper(key)
	vk := int64(upper[0])
	code := "Key" + upper
	steps := []input.DispatchKeyEventParams{
		{Type: input.DispatchKeyEventTypeRawKeyDown, Key: "Control", Code: "ControlLeft", WindowsVirtualKeyCode: 17, Modifiers: 2},
		{Type: input.DispatchKeyEventTypeRawKeyDown, Key: key, Code: code, WindowsVirtualKeyCode: vk, Modifiers: 2},
		{Type: input.DispatchKeyEventTypeKeyUp, Key: key, Code: code, WindowsVirtualKeyCode: vk, Modifiers: 2},
		{Type: input.DispatchKeyEventTypeKeyUp, Key: "Control", Code: "ControlLeft", WindowsVirtualKeyCode: 17},
	}
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, p := range steps {
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	}))
}

// rightClick presses and releases the right mouse button over an element.
func rightClick(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	pos := eval[[]float64](t, ctx, fmt.Sprintf(`(() => {
		const r = document.getElementById(%q).getBoundingClientRect();
		return [r.left + 5, r.top + r.height / 2];
	})()`, id))
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, typ := range []input.DispatchMouseEventType{input.DispatchMouseEventTypeMousePressed, input.DispatchMouseEventTypeMouseReleased} {
			p := input.DispatchMouseEventParams{Type: typ, X: pos[0], Y: pos[1], Button: input.MouseButtonRight, Buttons: 2, ClickCount: 1}
			if _, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, p); err != nil {
				return err
			}
		}
		return nil
	}))
}

// documentListeners lists the event listeners on document as the DevTools
// see them: type, capture and passive.
func documentListeners(t *testing.T, ctx context.Context) []*domdebugger.EventListener {
	t.Helper()
	obj, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](`document`))
	if err != nil {
		t.Fatal(err)
	}
	var out []*domdebugger.EventListener
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, domdebugger.GetEventListeners, domdebugger.GetEventListenersParams{ObjectID: obj.ObjectID})
		out = res.Listeners
		return err
	}))
	return out
}

// watchCopy adds a page listener (bubble phase, after tracker.js) that
// records whether anything prevented the copy's default action.
func watchCopy(t *testing.T, ctx context.Context) {
	t.Helper()
	eval[bool](t, ctx, `(() => {
		window.__copies = [];
		document.addEventListener('copy', e => { setTimeout(() => window.__copies.push({prevented: e.defaultPrevented})); });
		return true;
	})()`)
}

func checkBeaconCommon(t *testing.T, b map[string]any, kind string) {
	t.Helper()
	tok, _ := b["token"].(string)
	if uid, ok := verifyBeaconToken(tok, browserTestSecret, time.Now()); !ok || uid != browserTestUser {
		t.Errorf("token %q: user %d valid %v, want user %d", tok, uid, ok, browserTestUser)
	}
	if b["kind"] != kind {
		t.Errorf("kind %v, want %s", b["kind"], kind)
	}
	if b["module"] != "Contacts" || b["view"] != "List" {
		t.Errorf("page context module %v view %v, want Contacts List", b["module"], b["view"])
	}
	if u, _ := b["url"].(string); !strings.Contains(u, "module=Contacts&view=List") {
		t.Errorf("url %q", u)
	}
	ts, _ := b["ts"].(float64)
	if d := time.Since(time.UnixMilli(int64(ts))); d < 0 || d > time.Minute {
		t.Errorf("ts %v is %v away from now", b["ts"], d)
	}
	for _, f := range []string{"token", "kind", "url", "module", "view", "record", "chars", "rows", "text", "ts"} {
		if _, ok := b[f]; !ok {
			t.Errorf("beacon lacks %q (CONTRACTS §6): %v", f, b)
		}
	}
}

// ---- the tests ------------------------------------------------------------

func TestTrackerSendsOneCopyBeaconForCtrlCOnTableRowsAndLeavesTheCopyAlone(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, false)
	openPage(t, ctx, f)

	ls := documentListeners(t, ctx)
	for _, typ := range []string{"copy", "cut", "contextmenu"} {
		i := slices.IndexFunc(ls, func(l *domdebugger.EventListener) bool { return l.Type == typ })
		if i < 0 {
			t.Fatalf("no %s listener on document", typ)
		}
		if !ls[i].UseCapture || !ls[i].Passive {
			t.Errorf("%s listener: capture %v passive %v, want both", typ, ls[i].UseCapture, ls[i].Passive)
		}
	}

	// Clipboard access for the check that the copy really happened.
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return tg.Call(ctx, "Browser.grantPermissions", map[string]any{
			"origin": f.srv.URL, "permissions": []string{"clipboardReadWrite", "clipboardSanitizedWrite"},
		}, nil)
	}))
	watchCopy(t, ctx)
	want := selectRows(t, ctx, 2, 4)
	pressCtrl(t, ctx, "c")

	posts := f.waitPosts(t, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a second beacon would arrive by now
	if _, posts = f.snapshot(); len(posts) != 1 {
		t.Fatalf("got %d beacons for one Ctrl+C, want 1: %+v", len(posts), posts)
	}
	p := posts[0]
	if p.Path != beaconPath || !strings.HasPrefix(p.ContentType, "application/json") {
		t.Errorf("posted to %s as %s, want %s as application/json", p.Path, p.ContentType, beaconPath)
	}
	b := p.Beacon
	checkBeaconCommon(t, b, "copy")
	if b["rows"] != float64(3) {
		t.Errorf("rows %v, want 3", b["rows"])
	}
	if b["text"] != want {
		t.Errorf("text %q, want the selection %q", b["text"], want)
	}
	if b["chars"] != float64(len([]rune(want))) {
		t.Errorf("chars %v, want %d", b["chars"], len([]rune(want)))
	}

	copies := eval[[]map[string]bool](t, ctx, `window.__copies`)
	if len(copies) != 1 || copies[0]["prevented"] {
		t.Errorf("page saw copies %v, want one not prevented", copies)
	}
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, func(p *runtime.EvaluateParams) {
		p.AwaitPromise = ptrTo(true)
		p.UserGesture = ptrTo(true)
	}))
	if err != nil {
		t.Logf("clipboard not readable in this headless build (%v); the copy event was not prevented", err)
	} else if strings.TrimSpace(clip) == "" || !strings.Contains(clip, "Grace") || !strings.Contains(clip, "Dijkstra") {
		t.Errorf("clipboard holds %q, want the selected rows", clip)
	}
}

func TestTrackerSendsAContextmenuBeaconOnRightClickInASelection(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, false)
	openPage(t, ctx, f)

	want := selectRows(t, ctx, 1, 2)
	rightClick(t, ctx, "row1")
	posts := f.waitPosts(t, 1, 10*time.Second)
	b := posts[0].Beacon
	checkBeaconCommon(t, b, "contextmenu")
	if b["rows"] != float64(2) || b["text"] != want {
		t.Errorf("rows %v text %q, want 2 and %q", b["rows"], b["text"], want)
	}
}

func TestTrackerCutsTextToMaxCharsAndCountsCharactersNotBytes(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, false)
	openPage(t, ctx, f)
	// max_chars from the token answer is 65536; check the count of a
	// selection with Japanese and an emoji (one character, two UTF-16 units).
	want := eval[string](t, ctx, `(() => {
		const n = document.getElementById('note').firstChild;
		const r = document.createRange(); r.setStart(n, 7); r.setEnd(n, n.length);
		const s = getSelection(); s.removeAllRanges(); s.addRange(r); return s.toString();
	})()`)
	pressCtrl(t, ctx, "c")
	b := f.waitPosts(t, 1, 10*time.Second)[0].Beacon
	if b["text"] != want || b["chars"] != float64(len([]rune(want))) || b["rows"] != float64(0) {
		t.Errorf("text %q chars %v rows %v, want %q %d 0", b["text"], b["chars"], b["rows"], want, len([]rune(want)))
	}
}

func TestTrackerReadsTheSelectionOfATextareaOnCut(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, false)
	openPage(t, ctx, f)
	eval[bool](t, ctx, `(() => { const m = document.getElementById('memo'); m.focus(); m.setSelectionRange(0, 6); return true; })()`)
	pressCtrl(t, ctx, "x")
	b := f.waitPosts(t, 1, 10*time.Second)[0].Beacon
	if b["kind"] != "cut" || b["text"] != "secret" {
		t.Errorf("kind %v text %q, want cut and %q", b["kind"], b["text"], "secret")
	}
	if v := eval[string](t, ctx, `document.getElementById('memo').value`); v != " memo text" {
		t.Errorf("textarea holds %q after the cut: the cut must go through", v)
	}
}

func TestTrackerAddsNoListenersAndSendsNothingWhenCopyTrackingIsOff(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, false, false)
	openPage(t, ctx, f)
	for _, l := range documentListeners(t, ctx) {
		if l.Type == "copy" || l.Type == "cut" || l.Type == "contextmenu" {
			t.Errorf("listener %s on document while tracking is off", l.Type)
		}
	}
	selectRows(t, ctx, 1, 3)
	pressCtrl(t, ctx, "c")
	rightClick(t, ctx, "row2")
	time.Sleep(time.Second)
	if hits, posts := f.snapshot(); len(posts) != 0 || hits != 1 {
		t.Errorf("token requests %d beacons %d, want 1 and 0", hits, len(posts))
	}
}

func TestTrackerReusesItsCachedTokenOnTheNextPage(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, false)
	openPage(t, ctx, f)
	openPage(t, ctx, f)
	selectRows(t, ctx, 5, 5)
	pressCtrl(t, ctx, "c")
	f.waitPosts(t, 1, 10*time.Second)
	if hits, _ := f.snapshot(); hits != 1 {
		t.Errorf("token requested %d times over two pages, want 1 (sessionStorage cache)", hits)
	}
}

func TestTrackerPostsAFormWithTheCSRFTokenToTheRelay(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeVtiger(t, true, true)
	openPage(t, ctx, f)
	want := selectRows(t, ctx, 1, 1)
	pressCtrl(t, ctx, "c")
	p := f.waitPosts(t, 1, 10*time.Second)[0]
	if p.Path != "/crm/index.php" || !strings.HasPrefix(p.ContentType, "application/x-www-form-urlencoded") {
		t.Errorf("relay post to %s as %s", p.Path, p.ContentType)
	}
	if p.CSRF != browserTestCSRF {
		t.Errorf("__vtrftk %q, want the page's csrfMagicToken %q", p.CSRF, browserTestCSRF)
	}
	checkBeaconCommon(t, p.Beacon, "copy")
	if p.Beacon["text"] != want || p.Beacon["rows"] != float64(1) {
		t.Errorf("text %q rows %v", p.Beacon["text"], p.Beacon["rows"])
	}
}
