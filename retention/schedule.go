package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dxtracker/dxtracker/tracker"
)

// Run purges on the schedule of the settings (retention_schedule in
// retention_timezone) until ctx ends; only the elected leader should run
// it. The robfig/cron scheduler is made again when the schedule or the time
// zone changes: Run reads settings every Recheck (1 minute) and at once
// after Reload. Each run reads settings again, so retention_days,
// retention_batch and content_max_mb take effect at the next run. A run
// that finds a purge still going is skipped. When ctx ends, the purge in
// progress stops after its current batch (its dxt_purge row says so) and
// Run returns nil once it has.
//
// A purge that fails is recorded in dxt_purge, logged and counted in
// Stats; Run keeps going, the next scheduled run tries again.
func (p *Purger) Run(ctx context.Context, settings func() tracker.Settings) error {
	var (
		cur     *cron.Cron
		curKey  string
		stopped []context.Context // Stop() of replaced schedulers: done when their job is
	)
	defer func() {
		if cur != nil {
			stopped = append(stopped, cur.Stop())
		}
		for _, s := range stopped {
			<-s.Done()
		}
		p.setNext(nil)
	}()
	tick := time.NewTicker(p.opts.Recheck)
	defer tick.Stop()
	for {
		s := settings()
		if key := s.RetentionSchedule + "\x00" + s.RetentionTimezone; key != curKey {
			curKey = key
			if cur != nil {
				stopped = append(stopped, cur.Stop())
				cur = nil
			}
			c, err := p.newCron(ctx, s, settings)
			if err != nil {
				p.log.Error().Err(err).Msg("retention schedule is not usable; no purge until it is fixed")
			} else {
				cur = c
				cur.Start()
				p.log.Info().Str("schedule", s.RetentionSchedule).Str("timezone", s.RetentionTimezone).
					Time("next_run", cur.Entries()[0].Next).Msg("retention scheduled")
			}
		}
		p.setNext(cur)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-p.reload:
		}
	}
}

// Reload makes Run read the schedule settings now (call it when dxt_config
// changed); it never blocks.
func (p *Purger) Reload() {
	select {
	case p.reload <- struct{}{}:
	default:
	}
}

func (p *Purger) newCron(ctx context.Context, s tracker.Settings, settings func() tracker.Settings) (*cron.Cron, error) {
	loc, err := time.LoadLocation(s.RetentionTimezone)
	if err != nil || s.RetentionTimezone == "" {
		return nil, fmt.Errorf("retention_timezone %q: want an IANA time zone such as UTC or Asia/Tokyo", s.RetentionTimezone)
	}
	sched, err := cron.ParseStandard(s.RetentionSchedule)
	if err != nil {
		return nil, fmt.Errorf("retention_schedule %q: %w", s.RetentionSchedule, err)
	}
	c := cron.New(cron.WithLocation(loc))
	c.Schedule(sched, cron.FuncJob(func() { p.scheduled(ctx, settings) }))
	return c, nil
}

// scheduled is one cron run. PurgeNow logged and recorded any failure.
func (p *Purger) scheduled(ctx context.Context, settings func() tracker.Settings) {
	if ctx.Err() != nil {
		return
	}
	_, err := p.PurgeNow(ctx, settings())
	var rec *recordedError
	switch {
	case err == nil, errors.As(err, &rec):
		// logged and counted with its dxt_purge row
	case errors.Is(err, ErrBusy):
		p.mu.Lock()
		p.stats.Skipped++
		p.mu.Unlock()
		p.log.Warn().Msg("scheduled purge skipped: the previous purge is still running")
	case ctx.Err() == nil:
		p.mu.Lock()
		p.stats.Failures++
		p.mu.Unlock()
		p.log.Error().Err(err).Msg("scheduled purge could not start")
	}
}

// setNext makes c the scheduler Stats asks for the next run (nil: none).
func (p *Purger) setNext(c *cron.Cron) {
	p.mu.Lock()
	p.cron = c
	p.mu.Unlock()
}

func nextRun(c *cron.Cron) time.Time {
	if c != nil {
		if es := c.Entries(); len(es) > 0 {
			return es[0].Next
		}
	}
	return time.Time{}
}
