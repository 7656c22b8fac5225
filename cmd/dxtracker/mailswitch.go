package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dxtracker/dxtracker/config"
	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/notify"
)

// mailSwitch is the notification worker's SMTP client, replaced as a whole
// when SIGHUP brings new smtp_* settings: a delivery under way finishes on
// the client it started with.
type mailSwitch struct {
	m atomic.Pointer[mailer.Mailer]
}

var _ notify.MailSender = (*mailSwitch)(nil)

// errNoSMTP fails e-mail rows at once with the fix, rather than retrying
// for a day against a server that is not configured.
var errNoSMTP = notify.Permanent(errors.New("no SMTP server is configured: set smtp_addr and smtp_from in the daemon's configuration (notify_admin_email is set)"))

func (s *mailSwitch) Send(ctx context.Context, msg *mailer.Message, beforeCommit func() error) error {
	m := s.m.Load()
	if m == nil {
		return errNoSMTP
	}
	return m.Send(ctx, msg, beforeCommit)
}

// set builds the client of cfg; nil when smtp_addr is empty.
func (s *mailSwitch) set(cfg config.Config) error {
	if cfg.SMTPAddr == "" {
		s.m.Store(nil)
		return nil
	}
	if cfg.SMTPFrom == "" {
		return &config.Error{Key: "smtp_from", Problem: "is required when smtp_addr is set (the sender of the notifications)",
			Example: `smtp_from = "dxtracker@example.com" in the file, or DXT_SMTP_FROM=dxtracker@example.com`}
	}
	m, err := mailer.New(mailer.Config{Addr: cfg.SMTPAddr, TLS: cfg.SMTPTLS, User: cfg.SMTPUser, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, Timeout: cfg.SMTPTimeout})
	if err != nil {
		return &config.Error{Key: "smtp_addr", Problem: fmt.Sprintf("%v", err),
			Example: `smtp_addr = "mail.example.com:587" with smtp_tls = "starttls"`}
	}
	s.m.Store(m)
	return nil
}
