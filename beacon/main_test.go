package beacon_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/beacon"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// Users of the sandbox's Vtiger seed.
const (
	admin  = 1 // active administrator
	jsmith = 5 // active, logged in from 10.0.0.5
	mjones = 6 // active
	old    = 7 // inactive
	gone   = 8 // deleted
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a Vtiger sandbox database with the tracker tables, the beacon
// service on a real loopback HTTP server with its writer running, and an
// ingest processor to turn the stored beacons into events.
type env struct {
	t        *testing.T
	ctx      context.Context
	db       *sql.DB
	svc      *beacon.Service
	ts       *httptest.Server
	proc     *ingest.Processor
	settings atomic.Pointer[tracker.Settings]
	logs     *syncBuffer
	stop     context.CancelFunc
	stopped  chan struct{}
}

func newEnv(t *testing.T, opts beacon.Options) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	db, err := sql.Open("mysql", sandboxtest.NewVtigerDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	raw, err := tracker.ReadConfig(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: db, logs: &syncBuffer{}, stopped: make(chan struct{})}
	st := tracker.ParseSettings(raw)
	e.settings.Store(&st)
	log := zerolog.New(e.logs).Level(zerolog.DebugLevel)
	dir := vtiger.NewDirectory(db, log)
	e.proc = ingest.New(db, dir, log, ingest.Options{})
	if _, err := e.proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.svc = beacon.New(db, dir, func() tracker.Settings { return *e.settings.Load() }, log, opts)
	e.ts = httptest.NewServer(e.svc)
	t.Cleanup(e.ts.Close)
	rctx, stop := context.WithCancel(ctx)
	e.stop = stop
	go func() {
		defer close(e.stopped)
		if err := e.svc.Run(rctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { stop(); <-e.stopped })
	return e
}

func (e *env) secret() string { return e.settings.Load().BeaconSecret }

func (e *env) token(uid int64) string {
	return beacon.Sign(e.secret(), uid, time.Now().Add(time.Hour))
}

func (e *env) setting(f func(*tracker.Settings)) {
	st := *e.settings.Load()
	f(&st)
	e.settings.Store(&st)
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) errorMessage(t *testing.T) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(a.body), &m); err != nil || m["error"] == "" {
		t.Fatalf("error body %q", a.body)
	}
	return m["error"]
}

func (e *env) post(body []byte, headers ...string) answer {
	e.t.Helper()
	return e.request(http.MethodPost, body, headers...)
}

func (e *env) request(method string, body []byte, headers ...string) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+beacon.Path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// body is a tracker.js beacon; fields in extra replace or add to it.
func body(token, kind, text string, extra ...any) []byte {
	m := map[string]any{"token": token, "kind": kind, "url": "https://crm.example.com/index.php?module=Contacts&view=List",
		"module": "Contacts", "view": "List", "record": nil, "chars": len([]rune(text)), "rows": 2, "text": text, "ts": 1733300000000}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// events turns the stored beacons into events and lists them.
func (e *env) events() []tracker.Event {
	e.t.Helper()
	if _, err := e.proc.ReconcileIntake(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	evs, _, err := tracker.ListEvents(e.ctx, e.db, tracker.EventFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *env) content(ev tracker.Event) (string, tracker.ContentMeta) {
	e.t.Helper()
	if ev.ContentID == nil {
		e.t.Fatalf("event %d has no content", ev.ID)
	}
	r, meta, err := tracker.OpenContent(e.ctx, e.db, *ev.ContentID)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b), meta
}

func details(t *testing.T, ev tracker.Event) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(ev.Details, &m); err != nil {
		t.Fatalf("details %s: %v", ev.Details, err)
	}
	return m
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func (e *env) queued() int  { return e.svc.Counts().Queued }
func (e *env) writing() int { return e.svc.Counts().Writing }
