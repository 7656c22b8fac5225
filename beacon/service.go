// Package beacon is the daemon's end of copy tracking (CONTRACTS §6):
// POST /api/v1/beacons from tracker.js. A beacon is checked (size, strict
// JSON, CORS origin, signed token of an active Vtiger user, rate limits),
// queued, and written into dxt_intake (+ dxt_intake_chunk for the copied
// text) by the writers (Options.Writers goroutines, each running one
// transaction at a time), many beacons per transaction.
// The answer 204 goes out only after that transaction committed, so every
// acknowledged beacon is durable; the ingest processor then turns the
// intake rows into copy events exactly once, like any other intake row.
package beacon

import (
	"context"
	"database/sql"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"

	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// Path is where the endpoint is mounted.
const Path = "/api/v1/beacons"

// Users is what the endpoint needs from Vtiger: the token's user, to refuse
// inactive and deleted ones. vtiger.Directory caches users and is told by
// the ingest processor when vtiger_users changes.
type Users interface {
	User(ctx context.Context, id int64) (vtiger.User, bool, error)
}

var _ Users = (*vtiger.Directory)(nil)

// Defaults of Options.
var (
	DefaultUserLimit = Limit{Rate: 20, Burst: 60}
	DefaultIPLimit   = Limit{Rate: 200, Burst: 400}
)

const (
	DefaultQueueSize       = 8192
	DefaultMaxPendingBytes = 64 << 20
	DefaultMaxBatch        = 256
	DefaultWriters         = 2
	DefaultRequestTimeout  = 10 * time.Second
	DefaultDrainTimeout    = 15 * time.Second
	defaultMaxLimiterKeys  = 100000
)

// Options configure a Service. The zero value gives the defaults.
type Options struct {
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; from anyone else the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// AllowedOrigins (scheme://host[:port], lower case) may call the
	// endpoint from the browser (CORS). A page on the host it posts to
	// (same origin through a proxy) needs no entry.
	AllowedOrigins []string
	// UserLimit and IPLimit are token buckets per Vtiger user and per
	// client address (IPv6 per /64). A negative Rate disables one.
	UserLimit, IPLimit Limit
	// QueueSize bounds the beacons waiting for the writer; MaxPendingBytes
	// bounds the memory of all beacons being read, queued or written.
	// Beyond either, beacons are answered 429 with Retry-After.
	QueueSize       int
	MaxPendingBytes int64
	// MaxBatch is the most beacons written in one transaction.
	MaxBatch int
	// Writers is how many transactions may be under way at once
	// (default DefaultWriters).
	Writers int
	// RequestTimeout is how long a request waits for its beacon's commit
	// before it is answered 503 (the beacon may still be stored).
	RequestTimeout time.Duration
	// DrainTimeout is how long Run keeps writing queued beacons after its
	// context ended.
	DrainTimeout time.Duration
	// Now is the clock (tests inject one).
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.UserLimit == (Limit{}) {
		o.UserLimit = DefaultUserLimit
	}
	if o.IPLimit == (Limit{}) {
		o.IPLimit = DefaultIPLimit
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if o.MaxPendingBytes < 2*MaxBody {
		o.MaxPendingBytes = 2 * MaxBody
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Writers <= 0 {
		o.Writers = DefaultWriters
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service is the beacon endpoint (ServeHTTP) and its database writer (Run).
// Create it with New; it is safe for concurrent use.
type Service struct {
	db       *sql.DB
	users    Users
	settings func() tracker.Settings
	log      zerolog.Logger
	opts     Options

	allowedOrigins map[string]bool
	userLimit      *limiter
	ipLimit        *limiter
	budget         *semaphore.Weighted
	q              queue
	stats          stats
	bufs           sync.Pool
}

// New builds the service. settings is read at every request, so a new
// beacon_secret or track_copy in dxt_config (which the ingest processor
// applies from the binlog) takes effect with the next beacon. It does no
// I/O and starts nothing: Run writes.
func New(db *sql.DB, users Users, settings func() tracker.Settings, log zerolog.Logger, opts Options) *Service {
	opts.setDefaults()
	s := &Service{
		db: db, users: users, settings: settings,
		log:            log.With().Str("component", "beacon").Logger(),
		opts:           opts,
		allowedOrigins: map[string]bool{},
		userLimit:      newLimiter(opts.UserLimit, defaultMaxLimiterKeys),
		ipLimit:        newLimiter(opts.IPLimit, defaultMaxLimiterKeys),
		budget:         semaphore.NewWeighted(opts.MaxPendingBytes),
		q:              queue{ch: make(chan *item, opts.QueueSize)},
	}
	for _, o := range opts.AllowedOrigins {
		s.allowedOrigins[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return s
}
