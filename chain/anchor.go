package chain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

// KeyAnchorEnabled is the dxt_config key that turns the daily anchor off
// ("0"; absent or anything else: on), set in the Settings page or with
// PUT /api/v1/config {"anchor_enabled": "0"}.
const KeyAnchorEnabled = tracker.KeyAnchorEnabled

// AnchorOptions configure an Anchorer. The zero value works.
type AnchorOptions struct {
	// Now is the clock; After waits (tests inject both).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Wake is called after an anchor was enqueued (Worker.Notify).
	Wake func()
	// Recheck is how often the settings are read again (1 minute).
	Recheck time.Duration
	// Database names the tracker database in the message.
	Database string
}

// Anchorer enqueues the chain's head once a day, on the digest's schedule
// (digest_schedule, digest_timezone; 08:00 UTC by default), to every
// address of notify_admin_email and to notify_webhook_url, whether or not
// the digest itself is enabled. With neither set nothing is sent.
type Anchorer struct {
	db       *sql.DB
	settings func() tracker.Settings
	log      zerolog.Logger
	opts     AnchorOptions
}

// NewAnchorer builds an Anchorer; it does no I/O until Run or AnchorNow.
func NewAnchorer(db *sql.DB, settings func() tracker.Settings, log zerolog.Logger, opts AnchorOptions) *Anchorer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	if opts.Recheck <= 0 {
		opts.Recheck = time.Minute
	}
	return &Anchorer{db: db, settings: settings, log: log.With().Str("component", "chain").Str("job", "anchor").Logger(), opts: opts}
}

// Run enqueues the anchor at every scheduled time until ctx ends; at start
// it catches up the last scheduled time of the past 24 hours (the outbox
// keeps one anchor per day and recipient, so nothing is sent twice).
func (a *Anchorer) Run(ctx context.Context) error {
	var last time.Time
	for {
		wait := a.opts.Recheck
		s := a.settings()
		sched, loc, err := notify.DigestSchedule(s)
		if err != nil {
			a.log.Error().Err(err).Msg("anchor schedule is not usable; no anchor until it is fixed")
		} else {
			now := a.opts.Now().In(loc)
			if last.IsZero() {
				last = now.Add(-24 * time.Hour)
			}
			if next := sched.Next(last); !next.After(now) {
				// Skip to the newest due time: one anchor, not one per missed day.
				for n := sched.Next(next); !n.After(now) && !n.IsZero(); n = sched.Next(n) {
					next = n
				}
				last = next
				if _, err := a.AnchorNow(ctx, next.In(loc).Format("2006-01-02")); err != nil && ctx.Err() == nil {
					a.log.Error().Err(err).Time("scheduled_at", next).Msg("anchor failed")
				}
				continue
			} else {
				wait = min(wait, next.Sub(now))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.opts.After(wait):
		}
	}
}

// AnchorNow enqueues the current head as the anchor of day (YYYY-MM-DD)
// unless anchor_enabled is 0 or the chain is still empty. It returns the
// outbox rows written (0: no recipient, disabled, empty chain, or that
// day's anchor was already enqueued).
func (a *Anchorer) AnchorNow(ctx context.Context, day string) (int, error) {
	var v string
	err := a.db.QueryRowContext(ctx, `SELECT value FROM dxt_config WHERE name = ?`, KeyAnchorEnabled).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, fmt.Errorf("anchor: read %s: %w", KeyAnchorEnabled, err)
	case v == "0":
		return 0, nil
	}
	head, err := ReadHead(ctx, a.db)
	if err != nil {
		return 0, err
	}
	if head.Seq == 0 {
		// An empty log has no history to rewrite: nothing worth a mail.
		return 0, nil
	}
	anchor, err := CurrentAnchor(ctx, a.db)
	if err != nil {
		return 0, err
	}
	data := notify.AnchorData{
		Day: day, Database: a.opts.Database, HeadSeq: head.Seq, HeadHash: head.Hash, TakenAt: a.opts.Now().UTC(),
		PrunedSeq: anchor.Seq,
		Verify:    fmt.Sprintf("dxtracker verify --anchor %d:%s", head.Seq, head.Hash),
	}
	n, err := notify.EnqueueAnchor(ctx, a.db, data, a.settings(), a.opts.Now())
	if err != nil {
		return n, err
	}
	if n > 0 {
		a.opts.Wake()
		a.log.Info().Str("day", day).Uint64("head_seq", head.Seq).Str("head_hash", head.Hash).Int("enqueued", n).Msg("tamper-evidence anchor enqueued")
	}
	return n, nil
}
