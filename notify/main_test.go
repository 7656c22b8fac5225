package notify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/mailer/sink"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
	"github.com/dxtracker/dxtracker/tracker"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// clock is real time plus an offset the test moves forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// settingsBox holds the settings the worker reads.
type settingsBox struct {
	mu sync.Mutex
	s  tracker.Settings
}

func (b *settingsBox) get() tracker.Settings { b.mu.Lock(); defer b.mu.Unlock(); return b.s }
func (b *settingsBox) set(f func(*tracker.Settings)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.s)
}

type env struct {
	t        *testing.T
	db       *sql.DB
	sink     *sink.Sink
	mail     *mailer.Mailer
	clock    *clock
	settings *settingsBox
	opts     notify.Options
}

const vtigerURL = "https://crm.example.com/vtiger"

// newEnv is a migrated private database, a real SMTP server on loopback and
// settings mailing admin@example.com. sinkOpts may set OnMessage.
func newEnv(t *testing.T, sinkOpts sink.Options) *env {
	t.Helper()
	db, err := sql.Open("mysql", sandboxtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := tracker.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	sinkOpts.Addr = "127.0.0.1:0"
	sinkOpts.Logf = t.Logf
	sk, err := sink.Start(ctx, sinkOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sk.Close() })
	m, err := mailer.New(mailer.Config{Addr: sk.Addr(), TLS: "none", From: "Data Export Tracker <dxt@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := tracker.ParseSettings(map[string]string{tracker.KeyNotifyAdminEmail: "admin@example.com"})
	e := &env{t: t, db: db, sink: sk, mail: m, clock: &clock{}, settings: &settingsBox{s: s}}
	e.opts = notify.Options{
		From:         "Data Export Tracker <dxt@example.com>",
		Renderer:     notify.NewRenderer(vtigerURL),
		PollInterval: 50 * time.Millisecond,
		RetryBase:    100 * time.Millisecond,
		RetryMax:     400 * time.Millisecond,
		SendTimeout:  10 * time.Second,
		Now:          e.clock.Now,
	}
	return e
}

// start runs a worker until the test ends (or the returned stop is called).
func (e *env) start() (*notify.Worker, func()) {
	e.t.Helper()
	w := notify.NewWorker(e.db, e.mail, e.settings.get, zerolog.New(zerolog.NewTestWriter(e.t)), e.opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("worker: %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return w, stop
}

var seq atomic.Int64

type eventSpec struct {
	typ, user, module string
	records           *int64
	at                time.Time
	details           map[string]any
	contentID         *uint64
}

func i64(n int64) *int64    { return &n }
func strp(s string) *string { return &s }

// record writes an event and enqueues its notifications in one
// transaction, as the ingest does.
func (e *env) record(sp eventSpec, matches ...notify.Match) tracker.Event {
	e.t.Helper()
	ctx := context.Background()
	if sp.typ == "" {
		sp.typ = tracker.TypeListviewExport
	}
	if sp.at.IsZero() {
		sp.at = time.Now().UTC()
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer tx.Rollback()
	ne := tracker.NewEvent{OccurredAt: sp.at, Type: sp.typ, UserID: i64(5), RecordCount: sp.records,
		IP: strp("192.0.2.7"), UserAgent: strp("Mozilla/5.0 (X11)"), Source: tracker.SourceProbe, Details: sp.details,
		ContentID: sp.contentID, DedupeKey: fmt.Sprintf("test:%d", seq.Add(1))}
	if sp.user != "" {
		ne.UserName = &sp.user
	}
	if sp.module != "" {
		ne.Module = &sp.module
	}
	id, _, err := tracker.InsertEvent(ctx, tx, ne)
	if err != nil {
		e.t.Fatal(err)
	}
	ev, ok, err := tracker.GetEvent(ctx, tx, id)
	if err != nil || !ok {
		e.t.Fatalf("read back event %d: %v", id, err)
	}
	if _, err := notify.Enqueue(ctx, tx, ev, matches, e.settings.get()); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

type outboxRow struct {
	ID        uint64
	Kind      string
	Channel   string
	State     string
	Attempts  int
	LastError string
	MessageID string
	Payload   string
	Sent      bool
}

func (e *env) rows() []outboxRow {
	e.t.Helper()
	rs, err := e.db.Query(`SELECT id, kind, channel, state, attempts, COALESCE(last_error, ''), COALESCE(message_id, ''), COALESCE(payload, ''), sent_at IS NOT NULL FROM dxt_outbox ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var r outboxRow
		if err := rs.Scan(&r.ID, &r.Kind, &r.Channel, &r.State, &r.Attempts, &r.LastError, &r.MessageID, &r.Payload, &r.Sent); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (e *env) eventState(id uint64) (state string, notified bool) {
	e.t.Helper()
	if err := e.db.QueryRow(`SELECT notify_state, notified_at IS NOT NULL FROM dxt_event WHERE id = ?`, id).Scan(&state, &notified); err != nil {
		e.t.Fatal(err)
	}
	return state, notified
}

// waitRows waits until every outbox row is in one of the states.
func (e *env) waitRows(timeout time.Duration, ok func([]outboxRow) bool) []outboxRow {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows := e.rows()
		if ok(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(rows, "", " ")
			e.t.Fatalf("outbox did not reach the expected state in %s:\n%s", timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allIn(states ...string) func([]outboxRow) bool {
	return func(rows []outboxRow) bool {
		if len(rows) == 0 {
			return false
		}
		for _, r := range rows {
			found := false
			for _, s := range states {
				found = found || r.State == s
			}
			if !found {
				return false
			}
		}
		return true
	}
}

func (e *env) waitMail(n int) []sink.Received {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := e.sink.WaitFor(ctx, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}
