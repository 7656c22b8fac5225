package main

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/ingest"
	"github.com/dxtracker/dxtracker/leader"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
	"github.com/dxtracker/dxtracker/vtiger"
)

// liveSettings is what the parts serving requests on every daemon (API,
// beacons) read as the settings in force. The leader's ingest processor
// applies dxt_config changes in binlog order; a standby has no processor
// running, so it re-reads dxt_config every second and drops its Vtiger
// user cache, which keeps "a rotated secret or a deactivated user is
// refused within a second" true on both.
type liveSettings struct {
	db      *sql.DB
	proc    *ingest.Processor
	dir     *vtiger.Directory
	elector *leader.Elector
	log     zerolog.Logger
	polled  atomic.Pointer[tracker.Settings]
}

func (l *liveSettings) Get() tracker.Settings {
	// A new leader's processor has its settings only once Start read them.
	if l.elector.Role() == leader.RoleLeader && l.proc.Loaded() {
		return l.proc.Settings()
	}
	if s := l.polled.Load(); s != nil {
		return *s
	}
	return l.proc.Settings()
}

// Run refreshes the standby's view until ctx ends.
func (l *liveSettings) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if l.elector.Role() != leader.RoleLeader {
			if err := l.refresh(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn().Err(err).Msg("standby: cannot re-read dxt_config; keeping the settings in force")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// refresh reads dxt_config into the polled settings and drops the user
// cache.
func (l *liveSettings) refresh(ctx context.Context) error {
	raw, err := tracker.ReadConfig(ctx, l.db)
	if err != nil {
		return err
	}
	s := tracker.ParseSettings(raw)
	l.polled.Store(&s)
	l.dir.InvalidateUsers()
	return nil
}

// readiness: a leader is ready once its binlog stream is connected and
// caught up within maxReadyLag; a standby is ready (it serves the API and
// beacons and waits for the lock); a daemon still starting is not.
type readiness struct {
	f       *binlog.Follower
	elector *leader.Elector
	extra   []func(map[string]any) // more details (notifications, retention)
}

// maxReadyLag is the lag beyond which the daemon is not "ready": events it
// shows are that much behind.
const maxReadyLag = 60 * time.Second

func (r readiness) Ready() (bool, map[string]any) {
	st := r.f.Status()
	details := map[string]any{}
	for k, v := range r.elector.Status().Fields() {
		details[k] = v
	}
	ok := false
	switch r.elector.Role() {
	case leader.RoleLeader:
		ok = st.Connected && st.LagSeconds < maxReadyLag.Seconds()
		details["binlog_connected"] = st.Connected
		details["binlog_position"] = st.Position.String()
		details["binlog_lag_seconds"] = st.LagSeconds
		details["reconnects"] = st.Reconnects
	case leader.RoleStandby:
		ok = true
	}
	for _, f := range r.extra {
		f(details)
	}
	return ok, details
}

// notificationDetails adds the outbox to readyz: what waits, and what
// needs an administrator (failed, uncertain). They do not make the daemon
// unready: tracking works without mail.
func notificationDetails(w *notify.Worker) func(map[string]any) {
	return func(d map[string]any) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := w.Stats(ctx)
		if err != nil {
			d["notifications"] = map[string]any{"error": "cannot read the outbox"}
			return
		}
		d["notifications"] = st
	}
}
