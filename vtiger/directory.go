package vtiger

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of the Directory's caches.
const (
	DefaultCacheTTL           = 5 * time.Minute
	DefaultMissReloadInterval = 10 * time.Second
)

// Directory reads Vtiger's tables. Users and modules are cached; everything
// else is read when asked. It is safe for concurrent use.
type Directory struct {
	db         *sql.DB
	log        zerolog.Logger
	now        func() time.Time
	ttl        time.Duration
	missReload time.Duration

	users   snapshotCache[*userSnapshot]
	modules snapshotCache[*moduleSnapshot]
}

// Option configures a Directory.
type Option func(*Directory)

// WithCacheTTL sets how long the user and module caches are trusted without
// an invalidation (default DefaultCacheTTL). Zero or less disables caching.
func WithCacheTTL(d time.Duration) Option { return func(dir *Directory) { dir.ttl = d } }

// WithMissReloadInterval sets how often, at most, a lookup of an unknown
// user or module reloads its cache (default DefaultMissReloadInterval).
func WithMissReloadInterval(d time.Duration) Option {
	return func(dir *Directory) { dir.missReload = d }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(dir *Directory) { dir.now = now } }

// NewDirectory returns a Directory reading db. It does no I/O.
func NewDirectory(db *sql.DB, log zerolog.Logger, opts ...Option) *Directory {
	d := &Directory{
		db:         db,
		log:        log.With().Str("component", "vtiger").Logger(),
		now:        time.Now,
		ttl:        DefaultCacheTTL,
		missReload: DefaultMissReloadInterval,
	}
	for _, o := range opts {
		o(d)
	}
	d.users.load = d.loadUsers
	d.modules.load = d.loadModules
	return d
}

// snapshotCache holds one value loaded as a whole (all users, all modules).
type snapshotCache[T any] struct {
	load func(context.Context) (T, error)

	loadMu sync.Mutex // one load at a time

	mu       sync.Mutex
	val      T
	loaded   bool
	loadedAt time.Time
	gen      uint64 // bumped by invalidate
	valGen   uint64 // gen when val's load started
}

func (c *snapshotCache[T]) current(now time.Time, ttl time.Duration) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := c.loaded && c.valGen == c.gen && now.Sub(c.loadedAt) < ttl
	return c.val, fresh
}

// get returns the cached value, loading it when absent, invalidated or older
// than ttl.
func (c *snapshotCache[T]) get(ctx context.Context, now func() time.Time, ttl time.Duration) (T, error) {
	if v, fresh := c.current(now(), ttl); fresh {
		return v, nil
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if v, fresh := c.current(now(), ttl); fresh { // loaded while we waited
		return v, nil
	}
	return c.reloadLocked(ctx, now)
}

// refresh reloads after a miss, unless the value was loaded less than
// interval ago (and not invalidated since). reloaded says whether it did.
func (c *snapshotCache[T]) refresh(ctx context.Context, now func() time.Time, interval time.Duration) (v T, reloaded bool, err error) {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if v, fresh := c.current(now(), interval); fresh {
		return v, false, nil
	}
	v, err = c.reloadLocked(ctx, now)
	return v, err == nil, err
}

func (c *snapshotCache[T]) reloadLocked(ctx context.Context, now func() time.Time) (T, error) {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	at := now()
	v, err := c.load(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	c.val, c.loaded, c.loadedAt, c.valGen = v, true, at, gen
	c.mu.Unlock()
	return v, nil
}

func (c *snapshotCache[T]) invalidate() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}
