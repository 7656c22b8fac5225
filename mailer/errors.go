package mailer

import (
	"errors"
	"fmt"
	"strings"
)

// Error is what Send returns when a delivery fails. It says what was being
// done (Op) with which server, the server's reply when there was one, and the
// underlying cause otherwise. It never contains the SMTP password.
type Error struct {
	// Op is the step that failed: "dial", "TLS handshake", "greeting",
	// "EHLO", "STARTTLS", "AUTH PLAIN", "AUTH LOGIN", "MAIL FROM",
	// "RCPT TO <a@example.com>", "DATA", "message data", "before commit",
	// "end of DATA" or "prepare message".
	Op string
	// Server is the configured host:port.
	Server string
	// Code is the SMTP reply code, 0 when the server gave none.
	Code int
	// Reply is the server's reply text (multi-line replies joined by "; ").
	Reply string
	// Err is the underlying cause (network, TLS, context, beforeCommit or
	// validation error); nil when the server simply refused.
	Err error

	permanent bool // a local problem that retrying the same message cannot fix
	uncertain bool // the final dot was sent but no reply was read
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "smtp: %s with %s: ", e.Op, e.Server)
	switch {
	case e.Code != 0 && e.Err != nil:
		fmt.Fprintf(&b, "%d %s: %v", e.Code, e.Reply, e.Err)
	case e.Code != 0:
		fmt.Fprintf(&b, "%d %s", e.Code, e.Reply)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("failed")
	}
	if e.uncertain {
		b.WriteString(" (the message was fully sent; whether the server accepted it is unknown)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether retrying the same message later is pointless:
// the server answered with a 5xx reply (unknown recipient, authentication
// rejected, message refused...) or the message itself is invalid (bad
// recipient address, bad header name). Network errors, timeouts, TLS errors,
// 4xx replies and context cancellation are not permanent.
func IsPermanent(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.permanent || (e.Code >= 500 && e.Code <= 599)
}

// IsUncertain reports whether the whole message including the final
// "<CRLF>.<CRLF>" was transmitted but the connection failed before the
// server's reply was read: the server may or may not have accepted it.
// A caller that must never send twice treats this as "maybe delivered".
func IsUncertain(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.uncertain
}
