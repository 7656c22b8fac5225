// Package mailer sends e-mail over SMTP: STARTTLS, implicit TLS or plain
// text to a loopback relay, AUTH PLAIN/LOGIN, one deadline for the whole
// conversation, and MIME messages with safe UTF-8 headers.
//
// Send lets the caller record, durably, that a message may now be accepted
// just before the final "<CRLF>.<CRLF>" is sent (beforeCommit), which is
// what an outbox needs to never send a message twice.
package mailer

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"
)

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS (required), usually port 587
	TLSImplicit = "tls"      // TLS from the first byte, usually port 465
	TLSNone     = "none"     // no encryption; only to a loopback address
)

// DefaultTimeout bounds a whole conversation when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says how to reach the SMTP server. The zero TLS means "tls" when
// the port is 465 and "starttls" otherwise.
type Config struct {
	Addr     string         // host:port
	TLS      string         // "starttls" | "tls" | "none" (loopback only)
	User     string         // AUTH when not empty: PLAIN, or LOGIN when the server offers only LOGIN
	Password string         // never printed, never part of an error
	From     string         // envelope and header sender, e.g. "Data Export Tracker <dxt@example.com>"
	Timeout  time.Duration  // whole conversation (dial, TLS, commands, data); 0 = 30s
	HeloName string         // name sent in EHLO; "" = os.Hostname
	RootCAs  *x509.CertPool // nil = system roots
}

// Mailer sends messages with one Config. It is safe for concurrent use;
// every Send opens its own connection.
type Mailer struct {
	cfg  Config
	host string        // host part of cfg.Addr, the TLS server name
	from *mail.Address // parsed cfg.From
}

// New validates cfg and returns a Mailer. It does no network I/O.
func New(cfg Config) (*Mailer, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("mailer: SMTP address %q must be host:port, e.g. smtp.example.com:587", cfg.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, fmt.Errorf("mailer: SMTP address %q has an invalid port", cfg.Addr)
	}
	switch strings.ToLower(strings.TrimSpace(cfg.TLS)) {
	case "":
		cfg.TLS = TLSStartTLS
		if port == "465" {
			cfg.TLS = TLSImplicit
		}
	case TLSStartTLS, TLSImplicit, TLSNone:
		cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	default:
		return nil, fmt.Errorf("mailer: TLS mode %q is not one of \"starttls\", \"tls\" (implicit, port 465) or \"none\" (loopback only)", cfg.TLS)
	}
	if cfg.TLS == TLSNone && !isLoopbackHost(host) {
		return nil, fmt.Errorf("mailer: TLS \"none\" with %s would send mail (and the SMTP password) in clear text across the network, "+
			"so it is only allowed for a loopback address (127.0.0.1, ::1, localhost); "+
			"use TLS \"starttls\" (usually port 587) or \"tls\" (port 465), or relay through a local MTA listening on 127.0.0.1:25", cfg.Addr)
	}
	if cfg.User == "" && cfg.Password != "" {
		return nil, errors.New("mailer: an SMTP password is set but no user name")
	}
	if strings.ContainsAny(cfg.User, "\x00\r\n") || strings.ContainsAny(cfg.Password, "\x00\r\n") {
		return nil, errors.New("mailer: the SMTP user name or password contains a NUL, CR or LF character")
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mailer: sender (From) %q: %w", cfg.From, err)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("mailer: negative timeout %s", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HeloName == "" {
		h, err := os.Hostname()
		if err != nil || !validHeloName(h) {
			h = "localhost"
		}
		cfg.HeloName = h
	} else if !validHeloName(cfg.HeloName) {
		return nil, fmt.Errorf("mailer: EHLO name %q is not a valid host name", cfg.HeloName)
	}
	return &Mailer{cfg: cfg, host: host, from: from}, nil
}

// isLoopbackHost reports whether host (no port) is a literal loopback
// address or "localhost". No name resolution: New does no I/O.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHeloName accepts a DNS name or an address literal in brackets.
func validHeloName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return net.ParseIP(strings.TrimPrefix(s[1:len(s)-1], "IPv6:")) != nil
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
