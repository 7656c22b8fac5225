package vtiger

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }

// fakeClock is a settable clock for cache tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openDB opens dsn and closes it when the test ends.
func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seededDirectory is a Directory on a fresh database with the sandbox's
// minimal Vtiger schema and seed.
func seededDirectory(t *testing.T, opts ...Option) (*Directory, *sql.DB) {
	t.Helper()
	db := openDB(t, sandboxtest.NewVtigerDatabase(t))
	return NewDirectory(db, zerolog.Nop(), opts...), db
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// insertUser adds an active user with only the columns that matter here.
func insertUser(t *testing.T, db *sql.DB, id int64, name, first, last, email, isAdmin, status, accessKey string) {
	t.Helper()
	exec(t, db, `INSERT INTO vtiger_users (id, user_name, first_name, last_name, email1, is_admin, status,
		deleted, accesskey, date_entered) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, NOW())`,
		id, name, first, last, email, isAdmin, status, accessKey)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
