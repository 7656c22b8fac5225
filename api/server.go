package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/rules"
	"github.com/dxtracker/dxtracker/vtiger"
)

// StatusProvider reports whether the daemon is ready to serve (binlog
// connected, lag, role...); the details are shown by /readyz.
type StatusProvider interface {
	Ready() (ok bool, details map[string]any)
}

// Directory is what the API needs from Vtiger: administrators for Basic
// authentication, and reports, schedules and recipients for
// /api/v1/scheduled-reports.
type Directory interface {
	AuthenticateAdmin(ctx context.Context, userName, accessKey string) (vtiger.User, error)
	Schedules(ctx context.Context) ([]vtiger.Schedule, error)
	Report(ctx context.Context, id int64) (vtiger.Report, bool, error)
	ResolveRecipients(ctx context.Context, s vtiger.Schedule, companyDomains []string) ([]vtiger.Recipient, error)
	CompanyDomains(ctx context.Context, configured []string) ([]string, error)
	// UserByName and LoginSessions serve the user timeline.
	UserByName(ctx context.Context, name string) (vtiger.User, bool, error)
	LoginSessions(ctx context.Context, user string, from, to *time.Time, limit int) ([]vtiger.Session, bool, error)
}

// Defaults of the options.
const (
	DefaultRequestTimeout  = 30 * time.Second
	DefaultDownloadTimeout = 15 * time.Minute
	DefaultShutdownTimeout = 10 * time.Second
)

// Option configures New.
type Option func(*Server)

// WithCollectors registers more Prometheus collectors (binlog lag, events by
// type, intake backlog...) to be served by /metrics. A collector that cannot
// be registered (a duplicate metric) panics in New: that is a wiring bug.
func WithCollectors(cs ...prometheus.Collector) Option {
	return func(s *Server) { s.collectors = append(s.collectors, cs...) }
}

// WithHandler mounts h at a net/http pattern such as "POST /api/v1/beacons".
// The handler gets request ids, logging, metrics and panic recovery, but no
// authentication: it brings its own (the beacon has a signed token). A
// pattern that conflicts with a built-in route panics in New.
func WithHandler(pattern string, h http.Handler) Option {
	return func(s *Server) { s.extra = append(s.extra, route{pattern, h}) }
}

// WithQuietRoute logs the requests of a route pattern (as given to
// WithHandler) at debug level unless they fail with a 5xx: a route hit by
// every browser, such as the beacons, would otherwise write a line per
// request. The handler should report what matters itself.
func WithQuietRoute(pattern string) Option {
	return func(s *Server) { s.quiet[pattern] = true }
}

// WithRequestTimeout bounds the work of one API request (default 30s).
func WithRequestTimeout(d time.Duration) Option {
	return func(s *Server) { s.requestTimeout = d }
}

// WithDownloadTimeout bounds one content download (default 15 minutes).
func WithDownloadTimeout(d time.Duration) Option {
	return func(s *Server) { s.downloadTimeout = d }
}

// WithShutdownTimeout is how long Serve waits for requests in flight after
// its context ends before it closes their connections (default 10s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(s *Server) { s.shutdownTimeout = d }
}

type route struct {
	pattern string
	h       http.Handler
}

// Server is the HTTP API. Create it with New; it is safe for concurrent use.
type Server struct {
	db     *sql.DB
	dir    Directory
	status StatusProvider
	log    zerolog.Logger

	requestTimeout, downloadTimeout, shutdownTimeout time.Duration
	collectors                                       []prometheus.Collector
	extra                                            []route
	quiet                                            map[string]bool   // route patterns logged at debug
	rulesCache                                       rules.Invalidator // told after a rule changes; nil = none

	mux     *http.ServeMux
	handler http.Handler
	reg     *prometheus.Registry
	metrics *httpMetrics
	limiter *failLimiter
}

// New builds the server. It does no I/O and starts nothing; Serve does.
func New(db *sql.DB, dir Directory, status StatusProvider, log zerolog.Logger, opts ...Option) *Server {
	s := &Server{
		db: db, dir: dir, status: status,
		log:             log.With().Str("component", "api").Logger(),
		requestTimeout:  DefaultRequestTimeout,
		downloadTimeout: DefaultDownloadTimeout,
		shutdownTimeout: DefaultShutdownTimeout,
		mux:             http.NewServeMux(),
		reg:             prometheus.NewRegistry(),
		limiter:         newFailLimiter(authFailLimit, authFailWindow),
		quiet:           map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	s.metrics = newHTTPMetrics()
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.metrics.requests, s.metrics.duration, s.metrics.inFlight,
	)
	s.reg.MustRegister(s.collectors...)
	s.routes()
	s.handler = s.middleware(http.HandlerFunc(s.dispatch))
	return s
}

func (s *Server) routes() {
	// Reading the tracking log and its content.
	s.mux.Handle("GET /api/v1/events", s.api(s.listEvents))
	s.mux.Handle("GET /api/v1/events/{id}", s.api(s.getEvent))
	s.mux.Handle("GET /api/v1/events/{id}/content", s.authed(s.downloadTimeout, s.eventContent))
	s.mux.Handle("GET /api/v1/access-log", s.api(s.accessLog))
	s.mux.Handle("GET /api/v1/scheduled-reports", s.api(s.scheduledReports))
	s.mux.Handle("GET /api/v1/stats", s.api(s.stats))
	s.mux.Handle("GET /api/v1/users/{name}/timeline", s.api(s.userTimeline))
	s.mux.Handle("GET /api/v1/config", s.api(s.getConfig))
	s.mux.Handle("GET /api/v1/notifications", s.api(s.listNotifications))
	s.mux.Handle("PUT /api/v1/config", s.api(s.putConfig))
	// Rules (api/rules.go).
	s.mux.Handle("GET /api/v1/rules", s.api(s.listRules))
	s.mux.Handle("POST /api/v1/rules", s.api(s.createRule))
	s.mux.Handle("GET /api/v1/rules/{id}", s.api(s.getRule))
	s.mux.Handle("PUT /api/v1/rules/{id}", s.api(s.updateRule))
	s.mux.Handle("DELETE /api/v1/rules/{id}", s.api(s.deleteRule))
	// Operator endpoints.
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metricsHandler())
	for _, r := range s.extra {
		s.mux.Handle(r.pattern, r.h)
	}
}

// Handler is the whole API as an http.Handler (for tests, or to mount it in
// another server).
func (s *Server) Handler() http.Handler { return s.handler }

// Registry is the Prometheus registry /metrics serves; components may
// register more collectors on it at any time.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// it stops accepting, lets requests in flight finish for the shutdown
// timeout, then closes what is left. It returns nil after a shutdown caused
// by ctx, or the error that stopped the listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		// No WriteTimeout: downloads stream for as long as the download
		// timeout allows; every handler has its own deadline.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       log.New(s.log.With().Str("source", "net/http").Logger(), "", 0),
		// Requests in flight must survive the cancel of ctx: Shutdown
		// waits for them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("graceful shutdown: %w", err), srv.Close())
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
