package leader

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Roles reported by Elector.Role and Status.Role.
const (
	RoleStarting = "starting" // Run not called yet
	RoleStandby  = "standby"  // waiting for the lock
	RoleLeader   = "leader"   // holds the lock; lead is running
	RoleStopped  = "stopped"  // Run returned
)

// ErrLeadershipLost is the cause (context.Cause) of the context given to
// lead when the elector cancels it because the lock is lost or in doubt.
var ErrLeadershipLost = errors.New("leader: leadership lost")

// Defaults of Options.
const (
	DefaultRetryInterval = time.Second
	DefaultCheckInterval = time.Second
	DefaultCheckTimeout  = time.Second
)

// Options tune an Elector. The zero value gives the defaults, which make a
// standby take over within about 4 s of any way the leader can fail.
type Options struct {
	// RetryInterval is how long one GET_LOCK attempt of a standby waits on
	// the server (a release wakes it at once, so this does not delay a
	// takeover) and the pause after a connection error. Default 1 s. It
	// must stay below the DSN's readTimeout.
	RetryInterval time.Duration
	// CheckInterval is the period of the leader's check that its lock
	// connection still holds the lock. Default 1 s.
	CheckInterval time.Duration
	// CheckTimeout: a check without an answer after this long counts as a
	// lost lock. Default 1 s.
	CheckTimeout time.Duration
	// SessionTimeout is the lock connection's wait_timeout: the server ends
	// a session idle that long, releasing the lock. The leader's checks
	// keep it busy, so only a leader that stopped talking (dead host,
	// network partition) loses it this way. Whole seconds, at least
	// CheckInterval+CheckTimeout+1s; default CheckInterval+CheckTimeout+2s.
	SessionTimeout time.Duration
	// Now is the clock of Status timestamps. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	floor := o.CheckInterval + o.CheckTimeout + time.Second
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = o.CheckInterval + o.CheckTimeout + 2*time.Second
	}
	o.SessionTimeout = max(o.SessionTimeout, floor)
	o.SessionTimeout = time.Duration(math.Ceil(o.SessionTimeout.Seconds())) * time.Second
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Status is a snapshot of an Elector, for readiness and metrics.
type Status struct {
	Role     string    // RoleStarting, RoleStandby, RoleLeader or RoleStopped
	Since    time.Time // when Role began
	LockName string
	// ConnID is the server connection id of this elector's lock
	// connection (0 when it has none).
	ConnID uint64
	// HolderConnID is the connection id holding the lock, as last seen
	// (equal to ConnID while leader; 0 when free or unknown).
	HolderConnID uint64
	// Terms counts the times this elector became leader.
	Terms int
	// LastCheck is when the lock was last confirmed (leader) or last tried
	// (standby).
	LastCheck time.Time
	// LastError is the last connection or check problem, "" if none.
	LastError string
}

// Fields is the status with stable key names, for readyz.
func (s Status) Fields() map[string]any {
	m := map[string]any{
		"role":       s.Role,
		"lock_name":  s.LockName,
		"role_terms": s.Terms,
	}
	if !s.Since.IsZero() {
		m["role_since"] = s.Since.UTC().Format(time.RFC3339Nano)
	}
	if s.ConnID != 0 {
		m["lock_conn_id"] = s.ConnID
	}
	if s.HolderConnID != 0 {
		m["lock_holder_conn_id"] = s.HolderConnID
	}
	if s.LastError != "" {
		m["lock_last_error"] = s.LastError
	}
	return m
}

// Elector runs a function while it holds a MySQL/MariaDB named lock; see
// the package documentation.
type Elector struct {
	db   *sql.DB
	name string
	log  zerolog.Logger
	opts Options

	running atomic.Bool
	mu      sync.Mutex
	st      Status
}

// New makes an Elector for the named lock (see LockName). It does no I/O.
func New(db *sql.DB, lockName string, log zerolog.Logger, opts Options) *Elector {
	opts = opts.withDefaults()
	e := &Elector{
		db:   db,
		name: lockName,
		log:  log.With().Str("component", "leader").Str("lock", lockName).Logger(),
		opts: opts,
	}
	e.st = Status{Role: RoleStarting, Since: opts.Now(), LockName: lockName}
	return e
}

// Role is the current role; safe from any goroutine.
func (e *Elector) Role() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st.Role
}

// Status is a snapshot of the elector; safe from any goroutine.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}

func (e *Elector) update(f func(*Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.st)
}

func (e *Elector) setRole(role string, connID uint64) {
	now := e.opts.Now()
	e.update(func(s *Status) {
		if s.Role != role {
			s.Role, s.Since = role, now
		}
		s.ConnID = connID
		if role == RoleLeader {
			s.Terms++
			s.HolderConnID = connID
			s.LastCheck = now
			s.LastError = ""
		}
	})
}

// Run competes for the lock until ctx ends or lead fails, calling lead
// each time it becomes leader:
//
//   - ctx ends: lead's context is cancelled; once lead has returned, the
//     lock is released and Run returns nil (or lead's error, if it is not
//     a cancellation).
//   - lead returns while this elector still leads and ctx is alive: the
//     lock is released and Run returns what lead returned. An error means
//     the worker is broken; the process should exit and let the other
//     daemon (and systemd) take over rather than retry with the lock held.
//   - the lock is lost or in doubt: lead's context is cancelled with cause
//     ErrLeadershipLost, Run waits for lead to return (whatever it
//     returns), drops the lock connection and goes back to standby. lead
//     is called again when the lock is won again, so it must start from
//     the shared state (the checkpoint) each time.
//
// Run must not be called twice at once.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("leader: Run called while already running")
	}
	defer e.running.Store(false)
	defer e.setRole(RoleStopped, 0)
	lastErr := ""
	for {
		if ctx.Err() != nil {
			return nil
		}
		e.setRole(RoleStandby, 0)
		conn, id, err := e.open(ctx)
		if err == nil {
			e.update(func(s *Status) { s.ConnID = id })
			err = e.acquire(ctx, conn)
			if err != nil {
				discard(conn)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.update(func(s *Status) { s.LastError = err.Error(); s.HolderConnID = 0 })
			// Once per distinct problem: an outage would log every RetryInterval.
			lvl := zerolog.WarnLevel
			if err.Error() == lastErr {
				lvl = zerolog.DebugLevel
			}
			lastErr = err.Error()
			e.log.WithLevel(lvl).Err(err).Dur("retry_in", e.opts.RetryInterval).Msg("cannot compete for the lock; retrying")
			if !sleep(ctx, e.opts.RetryInterval) {
				return nil
			}
			continue
		}
		lastErr = ""
		if done, err := e.leadTerm(ctx, conn, id, lead); done {
			return err
		}
	}
}

// open takes a dedicated connection from the pool and prepares it: its id
// and a short wait_timeout, so that the server drops it (and the lock)
// when the daemon goes silent.
func (e *Elector) open(ctx context.Context) (*sql.Conn, uint64, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("leader: connect: %w", err)
	}
	var id uint64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		discard(conn)
		return nil, 0, fmt.Errorf("leader: connection id: %w", err)
	}
	secs := int64(e.opts.SessionTimeout / time.Second)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET SESSION wait_timeout = %d", secs)); err != nil {
		discard(conn)
		return nil, 0, fmt.Errorf("leader: set wait_timeout: %w", err)
	}
	return conn, id, nil
}

// acquire waits on conn until it holds the lock (nil), ctx ends or the
// connection fails. Each GET_LOCK waits RetryInterval on the server; a
// release by the holder wakes it at once.
func (e *Elector) acquire(ctx context.Context, conn *sql.Conn) error {
	wait := e.opts.RetryInterval.Seconds()
	lastHolder := uint64(math.MaxUint64)
	for {
		var got, holder sql.NullInt64
		err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?), IS_USED_LOCK(?)", e.name, wait, e.name).Scan(&got, &holder)
		if err != nil {
			return fmt.Errorf("leader: GET_LOCK: %w", err)
		}
		if !got.Valid {
			return errors.New("leader: GET_LOCK returned NULL (connection killed, or the server is out of memory)")
		}
		if got.Int64 == 1 {
			return nil
		}
		h := uint64(max(holder.Int64, 0))
		now := e.opts.Now()
		e.update(func(s *Status) { s.HolderConnID, s.LastCheck, s.LastError = h, now, "" })
		if h != lastHolder {
			e.log.Info().Uint64("holder_conn_id", h).Msg("standby: another daemon holds the lock")
			lastHolder = h
		}
	}
}

type checkResult struct {
	holder uint64
	err    error
}

// leadTerm runs lead while conn holds the lock. done reports that Run must
// return err; otherwise leadership was lost and Run competes again.
func (e *Elector) leadTerm(ctx context.Context, conn *sql.Conn, id uint64, lead func(context.Context) error) (done bool, err error) {
	e.setRole(RoleLeader, id)
	e.log.Info().Uint64("conn_id", id).Msg("became leader")

	// The lock connection lives on its own context: a shutdown must not
	// close it under an in-flight check before lead has stopped.
	connCtx, cancelConn := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConn()
	leadCtx, cancelLead := context.WithCancelCause(ctx)
	defer cancelLead(nil)
	leadDone := make(chan error, 1)
	go func() { leadDone <- lead(leadCtx) }()

	tick := time.NewTicker(e.opts.CheckInterval)
	defer tick.Stop()
	var (
		checkRes      chan checkResult // non-nil while a check is in flight
		checkDeadline <-chan time.Time
		lost          error
	)
	for lost == nil {
		select {
		case lerr := <-leadDone:
			return true, e.endTerm(ctx, connCtx, conn, checkRes, checkDeadline, cancelConn, lerr)
		case <-tick.C:
			if checkRes != nil {
				continue
			}
			checkRes = make(chan checkResult, 1)
			go func(ch chan<- checkResult) { ch <- e.check(connCtx, conn) }(checkRes)
			checkDeadline = time.After(e.opts.CheckTimeout)
		case r := <-checkRes:
			checkRes, checkDeadline = nil, nil
			now := e.opts.Now()
			switch {
			case r.err != nil:
				lost = fmt.Errorf("check failed: %w", r.err)
			case r.holder != id:
				lost = fmt.Errorf("the lock is held by connection %d, not by this daemon's %d", r.holder, id)
			}
			e.update(func(s *Status) {
				s.HolderConnID = r.holder
				if lost == nil {
					s.LastCheck = now
				}
			})
		case <-checkDeadline:
			checkDeadline = nil
			lost = fmt.Errorf("check got no answer within %s", e.opts.CheckTimeout)
		}
	}

	// Stop lead first, then drop the connection: if the server still
	// counts us as the holder, nobody else leads until lead has stopped.
	e.log.Warn().Err(lost).Uint64("conn_id", id).Msg("leadership lost or in doubt; stopping")
	e.update(func(s *Status) { s.LastError = lost.Error() })
	cancelLead(fmt.Errorf("%w: %w", ErrLeadershipLost, lost))
	if lerr := <-leadDone; lerr != nil && !errors.Is(lerr, context.Canceled) {
		e.log.Info().Err(lerr).Msg("lead stopped after losing leadership")
	}
	cancelConn()
	if checkRes != nil {
		<-checkRes
	}
	discard(conn)
	e.log.Info().Uint64("conn_id", id).Msg("dropped the lock connection; back to standby")
	return false, nil
}

// endTerm finishes a term whose lead returned by itself or because ctx
// ended: it waits for an in-flight check, releases the lock, drops the
// connection and says what Run returns.
func (e *Elector) endTerm(ctx, connCtx context.Context, conn *sql.Conn, checkRes chan checkResult, checkDeadline <-chan time.Time, cancelConn context.CancelFunc, lerr error) error {
	healthy := true
	if checkRes != nil {
		if checkDeadline == nil {
			checkDeadline = time.After(e.opts.CheckTimeout)
		}
		select {
		case r := <-checkRes:
			healthy = r.err == nil
		case <-checkDeadline:
			healthy = false
			cancelConn()
			<-checkRes
		}
	}
	if healthy {
		rctx, cancel := context.WithTimeout(connCtx, e.opts.CheckTimeout)
		var released sql.NullInt64
		err := conn.QueryRowContext(rctx, "SELECT RELEASE_LOCK(?)", e.name).Scan(&released)
		cancel()
		switch {
		case err != nil:
			e.log.Warn().Err(err).Msg("RELEASE_LOCK failed; closing the lock connection releases it")
		case released.Valid && released.Int64 == 1:
			e.log.Info().Msg("released the lock")
		default:
			e.log.Warn().Msg("RELEASE_LOCK: this connection did not hold the lock")
		}
	}
	discard(conn)
	if ctx.Err() != nil && (lerr == nil || errors.Is(lerr, context.Canceled) || errors.Is(lerr, context.DeadlineExceeded)) {
		return nil
	}
	return lerr
}

// check asks the server who holds the lock, on the lock connection itself:
// a dead connection fails here, a killed one too.
func (e *Elector) check(ctx context.Context, conn *sql.Conn) checkResult {
	var holder sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", e.name).Scan(&holder); err != nil {
		return checkResult{err: err}
	}
	return checkResult{holder: uint64(max(holder.Int64, 0))}
}

// discard closes conn and its driver connection instead of returning it to
// the pool: a connection that held the lock must never serve other code
// (it could hold the lock still, or a re-entrant count of it).
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close() // already closed by Raw; returns sql.ErrConnDone
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
