package notify

import (
	"context"
	"database/sql"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/tracker"
)

// MailSender sends one e-mail; beforeCommit runs after the message data and
// before the final dot, and its error aborts the message. *mailer.Mailer
// is one.
type MailSender interface {
	Send(ctx context.Context, msg *mailer.Message, beforeCommit func() error) error
}

var _ MailSender = (*mailer.Mailer)(nil)

// Defaults of the worker's options.
const (
	DefaultPollInterval   = time.Second
	DefaultBatchSize      = 16
	DefaultConcurrency    = 4
	DefaultSendTimeout    = 2 * time.Minute
	DefaultStaleAfter     = 15 * time.Minute
	DefaultMaxAttachBytes = 10 << 20
)

// Options configure a Worker. The zero value works.
type Options struct {
	// From is the mail sender (config smtp_from); its domain ends the
	// Message-IDs.
	From string
	// WebhookSecret signs webhook requests (config webhook_secret). Empty:
	// requests go unsigned (and a warning is logged).
	WebhookSecret string
	// Renderer writes the messages (NewRenderer(vtiger_url)).
	Renderer *Renderer
	// HTTPClient posts webhooks; nil = a client without redirects and with
	// SendTimeout.
	HTTPClient *http.Client
	// PollInterval is how often the outbox is looked at without a Notify.
	PollInterval time.Duration
	// BatchSize is the most rows claimed at once; Concurrency the most
	// deliveries under way at once.
	BatchSize, Concurrency int
	// SendTimeout bounds one delivery. A delivery under way when Run's
	// context ends is finished (within SendTimeout), not cut off.
	SendTimeout time.Duration
	// RetryBase, RetryMax: backoff after temporary failures (30s doubling
	// to 1h); GiveUpAfter: a row still failing that long after it was
	// written fails for good (24h).
	RetryBase, RetryMax, GiveUpAfter time.Duration
	// StaleAfter: a row left "sending" or "delivering" that long by a
	// worker that is gone is recovered while running (at start: all).
	StaleAfter time.Duration
	// MaxAttachBytes: captured content up to this size is attached when
	// notify_attach_content is on (10 MiB).
	MaxAttachBytes int64
	// Now is the clock (tests inject one).
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Renderer == nil {
		o.Renderer = NewRenderer("")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.MaxAttachBytes <= 0 {
		o.MaxAttachBytes = DefaultMaxAttachBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newWebhookClient(o.SendTimeout)
	}
}

// Worker delivers the outbox. Create it with NewWorker; Run does the work.
type Worker struct {
	db       *sql.DB
	mail     MailSender
	settings func() tracker.Settings
	log      zerolog.Logger
	opts     Options
	domain   string
	webhook  *webhookSender
	wake     chan struct{}

	lastStaleCheck time.Time // only Run's goroutine touches it
}

// NewWorker builds a worker. mail may be nil when no SMTP server is
// configured: e-mail rows then fail with a message saying so. settings is
// read at every claim (the storm limit) and summary. It does no I/O and
// starts nothing.
func NewWorker(db *sql.DB, mail MailSender, settings func() tracker.Settings, log zerolog.Logger, opts Options) *Worker {
	opts.setDefaults()
	return &Worker{
		db: db, mail: mail, settings: settings,
		log:     log.With().Str("component", "notify").Logger(),
		opts:    opts,
		domain:  domainOf(opts.From),
		webhook: &webhookSender{client: opts.HTTPClient, secret: []byte(opts.WebhookSecret), now: opts.Now},
		wake:    make(chan struct{}, 1),
	}
}

// Notify wakes the worker now (call it after committing a transaction that
// enqueued notifications). It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run recovers what a previous run left behind, then delivers until ctx
// ends; deliveries under way are finished before it returns. It returns
// an error only when the recovery at start fails (the database is
// unreachable); later database errors are logged and retried.
func (w *Worker) Run(ctx context.Context) error {
	requeued, uncertain, err := recoverRows(ctx, w.db, w.opts.Now(), 0)
	if err != nil {
		return err
	}
	if requeued > 0 || uncertain > 0 {
		w.log.Warn().Int64("requeued", requeued).Int64("uncertain", uncertain).
			Msg("recovered notifications interrupted by the last stop: interrupted before the final dot are sent again, interrupted after it are marked uncertain and not resent")
	}
	if w.opts.WebhookSecret == "" {
		w.log.Debug().Msg("webhook_secret is not set: webhook requests will not be signed")
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.opts.Concurrency)
	tick := time.NewTicker(w.opts.PollInterval)
	defer tick.Stop()
	lastHousekeeping := time.Time{}
	for {
		if now := w.opts.Now(); now.Sub(lastHousekeeping) >= w.opts.PollInterval {
			lastHousekeeping = now
			w.housekeeping(ctx, now)
		}
		claimed := w.claimAndDispatch(ctx, slots, &wg)
		if claimed > 0 {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// claimAndDispatch claims as many rows as there are free delivery slots
// (waiting for at least one slot) and starts their deliveries.
func (w *Worker) claimAndDispatch(ctx context.Context, slots chan struct{}, wg *sync.WaitGroup) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	free := 1
	for free < w.opts.BatchSize {
		select {
		case slots <- struct{}{}:
			free++
			continue
		default:
		}
		break
	}
	now := w.opts.Now()
	rows, held, err := claim(ctx, w.db, now, free, w.domain, stormLimiter(w.settings, w.opts.Now))
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error().Err(err).Msg("claiming notifications failed; trying again")
		}
		rows = nil
	}
	for _, h := range held {
		w.log.Info().Uint64("outbox_id", h.ID).Str("recipient_hash", h.RecipientHash[:12]).Msg("notification held back by the per-recipient limit; it will be listed in a summary")
	}
	for range free - len(rows) {
		<-slots
	}
	for _, r := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			// A delivery under way is finished even when Run is told to
			// stop: cutting it could leave a row uncertain.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.SendTimeout)
			defer cancel()
			w.deliver(dctx, r)
		}()
	}
	return len(rows) + len(held)
}

// housekeeping writes summaries for recipients whose window freed and
// recovers rows abandoned by a worker that is gone.
func (w *Worker) housekeeping(ctx context.Context, now time.Time) {
	n, err := summarizeHeld(ctx, w.db, w.settings(), now)
	if err != nil && ctx.Err() == nil {
		w.log.Error().Err(err).Msg("summarizing held notifications failed; trying again")
	}
	if n > 0 {
		w.log.Info().Int("summaries", n).Msg("held notifications summarized")
		w.Notify()
	}
	if now.Sub(w.lastStaleCheck) < time.Minute {
		return
	}
	w.lastStaleCheck = now
	requeued, uncertain, err := recoverRows(ctx, w.db, now, w.opts.StaleAfter)
	if err != nil && ctx.Err() == nil {
		w.log.Error().Err(err).Msg("recovering abandoned notifications failed; trying again")
	}
	if requeued > 0 || uncertain > 0 {
		w.log.Warn().Int64("requeued", requeued).Int64("uncertain", uncertain).Msg("recovered abandoned notifications")
	}
}
