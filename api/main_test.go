package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/api"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// The API must accept the real Vtiger directory.
var _ api.Directory = (*vtiger.Directory)(nil)

// Credentials of the sandbox's Vtiger seed.
const (
	adminKey  = "g9drHD5dUitbk8Iz" // admin, id 1, administrator
	jsmithKey = "FD8KFVdaxDnZZwQs" // jsmith, id 5, not an administrator
	oldKey    = "Sx7oldUserKey007" // old, id 7, inactive
)

type fakeStatus struct {
	mu sync.Mutex
	ok bool
}

func (f *fakeStatus) Ready() (bool, map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ok, map[string]any{"binlog_connected": f.ok, "binlog_lag_seconds": 0.5}
}

func (f *fakeStatus) set(ok bool) { f.mu.Lock(); f.ok = ok; f.mu.Unlock() }

// syncBuffer collects log lines from concurrent handlers.
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

type env struct {
	t      *testing.T
	db     *sql.DB
	dir    *vtiger.Directory
	srv    *api.Server
	ts     *httptest.Server
	status *fakeStatus
	logs   *syncBuffer
	token  string // a valid API token
}

// newEnv is a Vtiger sandbox database with the tracker tables, the real
// Vtiger directory and the API on a real HTTP server.
func newEnv(t *testing.T, opts ...api.Option) *env {
	t.Helper()
	db, err := sql.Open("mysql", sandboxtest.NewVtigerDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, status: &fakeStatus{ok: true}, logs: &syncBuffer{}}
	e.dir = vtiger.NewDirectory(db, zerolog.Nop())
	log := zerolog.New(e.logs).Level(zerolog.DebugLevel)
	e.srv = api.New(db, e.dir, e.status, log, opts...)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	if e.token, _, err = tracker.CreateToken(ctx, db, "test"); err != nil {
		t.Fatal(err)
	}
	return e
}

func basic(user, key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+key))
}

func (e *env) bearer() string { return "Bearer " + e.token }

type resp struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body failed (connection cut)
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
}

// errorMessage checks the body is exactly {"error": "..."} and returns it.
func (r resp) errorMessage(t *testing.T) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	var m map[string]any
	r.json(t, &m)
	msg, ok := m["error"].(string)
	if !ok || len(m) != 1 || msg == "" {
		t.Fatalf("error body %s, want {\"error\": \"...\"}", r.body)
	}
	return msg
}

func (e *env) do(method, path, auth string, body io.Reader) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, rerr := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b, err: rerr}
}

func (e *env) get(path string) resp { e.t.Helper(); return e.do("GET", path, e.bearer(), nil) }

// event is a dxt_event row for tests (the write path is not this package's).
type event struct {
	at          time.Time
	typ, user   string
	module, ip  string
	records     *int64
	reportID    *int64
	contentID   *uint64
	notifyState string
}

var dedupe int

func (e *env) insertEvent(ev event) uint64 {
	e.t.Helper()
	dedupe++
	if ev.typ == "" {
		ev.typ = tracker.TypeListviewExport
	}
	if ev.notifyState == "" {
		ev.notifyState = "none"
	}
	res, err := e.db.Exec(`INSERT INTO dxt_event (occurred_at, type, user_id, user_name, module, record_count, ip, user_agent, source, details, content_id, report_id, dedupe_key, notify_state, created_at)
VALUES (?, ?, 1, NULLIF(?, ''), NULLIF(?, ''), ?, NULLIF(?, ''), 'Mozilla/5.0', 'probe', '{"mode":"all"}', ?, ?, ?, ?, UTC_TIMESTAMP(6))`,
		ev.at.UTC(), ev.typ, ev.user, ev.module, ev.records, ev.ip, ev.contentID, ev.reportID, fmt.Sprintf("apitest:%d:%d", dedupe, time.Now().UnixNano()), ev.notifyState)
	if err != nil {
		e.t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return uint64(id)
}

// insertContent stores data through the lead's writer, as the daemon does.
func (e *env) insertContent(name, mediaType string, data []byte) uint64 {
	e.t.Helper()
	m, err := tracker.WriteContent(context.Background(), e.db, tracker.ContentInput{Name: name, MediaType: mediaType}, bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	return m.ID
}

func i64(n int64) *int64 { return &n }
