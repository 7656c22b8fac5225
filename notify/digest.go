package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/tracker"
)

// digestPayload is dxt_outbox.payload of a kind=digest row.
type digestPayload struct {
	Lang   string     `json:"lang"`
	Digest DigestData `json:"digest"`
}

// DigestOptions configure a Digester. The zero value works.
type DigestOptions struct {
	// Now is the clock; After waits (tests inject both).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Wake is called after a digest was enqueued (Worker.Notify).
	Wake func()
	// Recheck is how often the settings are read again while waiting for
	// the next run (1 minute), so a changed schedule takes effect.
	Recheck time.Duration
}

// Digester enqueues the daily digest on the schedule of the settings
// (digest_enabled, digest_schedule, digest_timezone); the Worker sends it.
type Digester struct {
	db       *sql.DB
	settings func() tracker.Settings
	log      zerolog.Logger
	opts     DigestOptions
}

// NewDigester builds a digester. It does no I/O and starts nothing.
func NewDigester(db *sql.DB, settings func() tracker.Settings, log zerolog.Logger, opts DigestOptions) *Digester {
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
	return &Digester{db: db, settings: settings, log: log.With().Str("component", "notify").Str("job", "digest").Logger(), opts: opts}
}

// DigestSchedule parses digest_schedule and digest_timezone (the daily
// jobs that run with the digest share them).
func DigestSchedule(s tracker.Settings) (cron.Schedule, *time.Location, error) {
	loc, err := time.LoadLocation(s.DigestTimezone)
	if err != nil {
		return nil, nil, fmt.Errorf("digest_timezone %q: %w", s.DigestTimezone, err)
	}
	sched, err := cron.ParseStandard(s.DigestSchedule)
	if err != nil {
		return nil, nil, fmt.Errorf("digest_schedule %q: %w", s.DigestSchedule, err)
	}
	return sched, loc, nil
}

// Run enqueues a digest at every scheduled time until ctx ends. At start
// it catches up the last scheduled run of the past 24 hours (a daemon down
// at 08:00 still sends that morning's digest; one already sent is not sent
// again: the outbox dedupe key is per day and recipient).
func (d *Digester) Run(ctx context.Context) error {
	caughtUp := false
	var last time.Time // the scheduled time last handled; zero = none yet
	for {
		wait := d.opts.Recheck
		s := d.settings()
		sched, loc, err := DigestSchedule(s)
		switch {
		case !s.DigestEnabled:
			last = time.Time{} // enabled later: from then on, no catch-up
		case err != nil:
			d.log.Error().Err(err).Msg("digest schedule is not usable; no digest until it is fixed")
		default:
			now := d.opts.Now().In(loc)
			if !caughtUp {
				caughtUp = true
				if prev, ok := previousRun(sched, now); ok {
					last = prev
					d.fire(ctx, prev, loc)
				}
			}
			if last.IsZero() {
				last = now
			}
			if next := sched.Next(last); !next.After(now) {
				last = next
				d.fire(ctx, next, loc)
				continue
			} else {
				wait = min(wait, next.Sub(now))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.opts.After(wait):
		}
	}
}

// previousRun is the last scheduled time in (now-24h, now].
func previousRun(sched cron.Schedule, now time.Time) (time.Time, bool) {
	var prev time.Time
	for t := sched.Next(now.Add(-24 * time.Hour)); !t.After(now) && !t.IsZero(); t = sched.Next(t) {
		prev = t
	}
	return prev, !prev.IsZero()
}

// fire enqueues the digest of the day before the scheduled time at.
func (d *Digester) fire(ctx context.Context, at time.Time, loc *time.Location) {
	day := at.In(loc).AddDate(0, 0, -1)
	n, err := d.RunDigest(ctx, day)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error().Err(err).Time("scheduled_at", at).Msg("digest failed")
		}
		return
	}
	d.log.Info().Time("scheduled_at", at).Str("day", day.Format("2006-01-02")).Int("enqueued", n).Msg("digest enqueued")
}

// RunDigest computes the digest of one calendar day (day's year, month and
// day; its location is ignored) in the digest time zone and enqueues it to
// every address of notify_admin_email. It returns the number of rows
// written: 0 when the digest of that day was already enqueued (by this or
// another daemon) or no address is set. It runs whether or not the digest
// is enabled.
func (d *Digester) RunDigest(ctx context.Context, day time.Time) (int, error) {
	s := d.settings()
	loc, err := time.LoadLocation(s.DigestTimezone)
	if err != nil {
		return 0, fmt.Errorf("digest: time zone %q: %w", s.DigestTimezone, err)
	}
	if len(s.NotifyAdminEmail) == 0 {
		return 0, nil
	}
	civil := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, loc)
	data, err := computeDigest(ctx, d.db, civil, loc)
	if err != nil {
		return 0, err
	}
	payload, err := json.Marshal(digestPayload{Lang: s.NotifyLanguage, Digest: data})
	if err != nil {
		return 0, fmt.Errorf("digest %s: encode: %w", data.Day, err)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("digest %s: begin: %w", data.Day, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	written := 0
	seen := map[string]bool{}
	for _, a := range s.NotifyAdminEmail {
		h := RecipientHash(a)
		if seen[h] {
			continue
		}
		seen[h] = true
		n, err := insertRow(ctx, tx, newRow{dedupeKey: digestKey(data.Day, ChannelEmail, h), kind: KindDigest, channel: ChannelEmail,
			recipient: a, recipientHash: h, payload: payload, at: d.opts.Now()})
		if err != nil {
			return 0, fmt.Errorf("digest %s: %w", data.Day, err)
		}
		written += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("digest %s: commit: %w", data.Day, err)
	}
	if written > 0 {
		d.opts.Wake()
	}
	return written, nil
}
