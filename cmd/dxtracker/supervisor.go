package main

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/dxtracker/dxtracker/binlog"
	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/leader"
	"github.com/dxtracker/dxtracker/sdnotify"
)

// supervisor is the daemon's main loop towards systemd: READY once the
// binlog stream is open (leader) or the daemon stands by, WATCHDOG while
// the loop runs, STOPPING on shutdown, and SIGHUP: re-read and check the
// configuration, apply what can change live, keep the old one if the new
// one is wrong.
type supervisor struct {
	log      zerolog.Logger
	elector  *leader.Elector
	follower *binlog.Follower
	cfg      config.Config
	reload   func() (config.Config, error) // nil: SIGHUP is not offered
	hup      <-chan os.Signal
	mail     *mailSwitch
	certs    *certSwitch
}

func (s *supervisor) Run(ctx context.Context) error {
	tick := 250 * time.Millisecond
	wd, wdOn := sdnotify.WatchdogInterval()
	if wdOn && wd/2 < tick {
		tick = wd / 2
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var lastPing time.Time
	role := ""
	for {
		// Checked before waiting, so READY and the first WATCHDOG do not
		// wait for a tick.
		if r := s.elector.Role(); r != role && s.serving(r) {
			if role == "" {
				s.log.Info().Str("role", r).Msg("ready")
				s.notify(sdnotify.Ready())
			}
			role = r
			s.notify(sdnotify.Status(r))
		}
		if wdOn && time.Since(lastPing) >= wd/2 {
			s.notify(sdnotify.Watchdog())
			lastPing = time.Now()
		}
		select {
		case <-ctx.Done():
			s.notify(sdnotify.Stopping())
			return nil
		case <-s.hup:
			s.reloadConfig()
		case <-t.C:
		}
	}
}

// serving: a leader once its stream is open, a standby at once.
func (s *supervisor) serving(role string) bool {
	switch role {
	case leader.RoleLeader:
		return s.follower.Status().Connected
	case leader.RoleStandby:
		return true
	}
	return false
}

func (s *supervisor) notify(err error) {
	if err != nil {
		s.log.Warn().Err(err).Msg("systemd notification failed")
	}
}

// liveKeys change without a restart; every other key needs one.
var liveKeys = []string{"log_level", "smtp_addr", "smtp_user", "smtp_password", "smtp_tls", "smtp_timeout", "tls_cert", "tls_key"}

func (s *supervisor) reloadConfig() {
	if s.reload == nil {
		return
	}
	s.notify(sdnotify.Reloading())
	defer func() { s.notify(sdnotify.Ready()) }()
	next, err := s.reload()
	if err == nil {
		err = s.apply(next)
	}
	if err != nil {
		s.log.Error().Err(err).Msg("SIGHUP: the new configuration is refused; the running one stays in force")
		s.notify(sdnotify.Status("reload refused: " + err.Error()))
		return
	}
	var changed, restart []string
	old, now := s.cfg.Redacted(), next.Redacted()
	if s.cfg.SMTPPassword != next.SMTPPassword {
		now["smtp_password"] += " (changed)"
	}
	if s.cfg.WebhookSecret != next.WebhookSecret {
		now["webhook_secret"] += " (changed)"
	}
	for k, v := range now {
		if old[k] == v {
			continue
		}
		if slices.Contains(liveKeys, k) {
			changed = append(changed, k)
		} else {
			restart = append(restart, k)
		}
	}
	slices.Sort(changed)
	slices.Sort(restart)
	ev := s.log.Info().Strs("applied", changed)
	if len(restart) > 0 {
		ev = s.log.Warn().Strs("applied", changed).Strs("need_restart", restart)
	}
	ev.Msg("SIGHUP: configuration reloaded")
	s.cfg = next
	s.notify(sdnotify.Status("configuration reloaded"))
}

// apply checks everything that can fail before it changes anything.
func (s *supervisor) apply(next config.Config) error {
	mail := &mailSwitch{}
	if err := mail.set(next); err != nil {
		return err
	}
	certs := &certSwitch{on: next.TLSCert != ""}
	if certs.on != s.certs.on {
		return &config.Error{Key: "tls_cert", Problem: "switching HTTPS on or off needs a restart (systemctl restart dxtracker)"}
	}
	if certs.on {
		if err := certs.load(next); err != nil {
			return err
		}
		s.certs.cert.Store(certs.cert.Load())
	}
	s.mail.m.Store(mail.m.Load())
	zerolog.SetGlobalLevel(levelOf(next))
	return nil
}

func levelOf(cfg config.Config) zerolog.Level {
	l, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil || cfg.LogLevel == "" {
		return zerolog.InfoLevel
	}
	return l
}
