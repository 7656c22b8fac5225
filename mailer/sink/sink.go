// Package sink is a real SMTP server that keeps what it receives in memory:
// the mail sink of `dxtracker demo` and of the tests. It is built on
// github.com/emersion/go-smtp, speaks plain SMTP, STARTTLS or implicit TLS
// with its own self-signed certificate, authenticates with PLAIN and LOGIN,
// can be told to refuse, and can be stopped and restarted on the same
// address.
package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Options configure a Sink.
type Options struct {
	Addr  string            // listen address; "" = "127.0.0.1:0"
	TLS   string            // "none" (default), "starttls" or "tls" (implicit)
	Users map[string]string // AUTH accounts, user -> password; nil = no AUTH, none required
	// AuthMechs are the mechanisms offered when Users is set, in order;
	// nil = PLAIN and LOGIN.
	AuthMechs []string
	Domain    string // name in the greeting; "" = "localhost"
	// OnMessage, if set, is called for every accepted message after it was
	// recorded and before the 250 reply is written, on the connection's
	// goroutine: a test can kill a client right after the server accepted
	// its message but before the client knows.
	OnMessage func(Received)
	// Logf receives the server's connection errors; nil = discarded.
	Logf func(format string, args ...any)
}

// Stage is the command a configured failure answers.
type Stage int

const (
	StageMail Stage = iota // MAIL FROM
	StageRcpt              // RCPT TO
	StageData              // the reply to the final dot: the message is read, then refused
)

// Sink is a running SMTP server. Its methods are safe for concurrent use.
type Sink struct {
	opts  Options
	mechs []string
	cert  *x509.Certificate
	tlsCf *tls.Config

	mu       sync.Mutex
	addr     string // bound address, kept across Stop/Restart
	srv      *smtp.Server
	ln       net.Listener
	done     chan struct{} // closed when srv's Serve returns
	closed   bool
	msgs     []Received
	changed  chan struct{} // closed and replaced on every new message
	failures map[Stage]*smtp.SMTPError
	stopCtx  func() bool
}

// Start listens on opts.Addr and serves until Close or until ctx is done.
func Start(ctx context.Context, opts Options) (*Sink, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	opts.TLS = strings.ToLower(opts.TLS)
	s := &Sink{opts: opts, changed: make(chan struct{}), failures: map[Stage]*smtp.SMTPError{}}
	s.mechs = []string{"PLAIN", "LOGIN"}
	if opts.AuthMechs != nil {
		s.mechs = nil
		for _, m := range opts.AuthMechs {
			m = strings.ToUpper(m)
			if m != "PLAIN" && m != "LOGIN" {
				return nil, fmt.Errorf("sink: auth mechanism %q is not supported (PLAIN, LOGIN)", m)
			}
			s.mechs = append(s.mechs, m)
		}
	}
	switch opts.TLS {
	case "", "none":
		s.opts.TLS = "none"
	case "starttls", "tls":
		cert, leaf, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("sink: certificate: %w", err)
		}
		s.cert = leaf
		s.tlsCf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("sink: TLS mode %q is not one of none, starttls, tls", opts.TLS)
	}
	s.addr = opts.Addr
	if err := s.listen(); err != nil {
		return nil, err
	}
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// listen starts a new go-smtp server on s.addr (a server cannot be reused
// after Close). Called with s.mu held or before s is shared.
func (s *Sink) listen() error {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = s.opts.Domain
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.ErrorLog = log.New(logWriter(s.opts.Logf), "", 0)
	srv.TLSConfig = s.tlsCf
	// Plain text AUTH is fine on a sink that listens on loopback; with
	// STARTTLS it is offered only after the upgrade, as a real server does.
	srv.AllowInsecureAuth = s.opts.TLS == "none"

	var l net.Listener
	var err error
	if s.opts.TLS == "tls" {
		l, err = tls.Listen("tcp", s.addr, s.tlsCf)
	} else {
		l, err = net.Listen("tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("sink: listen on %s: %w", s.addr, err)
	}
	s.addr = l.Addr().String()
	s.srv, s.ln = srv, l
	done := make(chan struct{})
	s.done = done
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return nil
}

// Addr is the address the sink listens on (host:port), the same after a
// Restart.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// CertPool trusts the sink's certificate; nil when TLS is "none".
func (s *Sink) CertPool() *x509.CertPool {
	if s.cert == nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AddCert(s.cert)
	return p
}

// CertPEM is the sink's certificate in PEM form (e.g. for a demo's CA
// file); nil when TLS is "none".
func (s *Sink) CertPEM() []byte {
	if s.cert == nil {
		return nil
	}
	return certPEM(s.cert)
}

// Stop closes the listener and every open connection, as a crashed server
// would; recorded messages stay. Restart brings the sink back.
func (s *Sink) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Sink) stopLocked() error {
	if s.srv == nil {
		return nil
	}
	s.srv.Close()
	s.ln.Close() // Serve may not have registered it with srv yet
	<-s.done
	s.srv = nil
	return nil
}

// Restart listens again on the same address after Stop.
func (s *Sink) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sink: restart after Close")
	}
	if s.srv != nil {
		return nil
	}
	return s.listen()
}

// Close stops the sink for good.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.stopCtx != nil {
		s.stopCtx()
	}
	return s.stopLocked()
}

// SetFailure makes the sink answer MAIL FROM with code and msg (4xx: try
// again later, 5xx: permanent). A code of 0 clears it.
func (s *Sink) SetFailure(code int, msg string) { s.SetFailureAt(StageMail, code, msg) }

// SetFailureAt makes the sink answer the given stage with code and msg; a
// code of 0 clears that stage.
func (s *Sink) SetFailureAt(stage Stage, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.failures, stage)
		return
	}
	s.failures[stage] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
}

// ClearFailures removes every configured failure.
func (s *Sink) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.failures)
}

func (s *Sink) failureAt(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.failures[stage]; f != nil {
		return f
	}
	return nil
}

func (s *Sink) record(r Received) {
	s.mu.Lock()
	s.msgs = append(s.msgs, r)
	close(s.changed)
	s.changed = make(chan struct{})
	hook := s.opts.OnMessage
	s.mu.Unlock()
	if hook != nil {
		hook(r)
	}
}

// Messages returns a copy of every message received so far, in order.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Reset forgets the received messages.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
}

// WaitFor waits until at least n messages have been received and returns
// them all, or returns ctx's error with the messages received so far.
func (s *Sink) WaitFor(ctx context.Context, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		msgs, ch := append([]Received(nil), s.msgs...), s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return msgs, fmt.Errorf("sink: %d of %d messages received: %w", len(msgs), n, ctx.Err())
		}
	}
}

// logWriter adapts Logf to the io.Writer of a log.Logger.
type logWriter func(format string, args ...any)

func (f logWriter) Write(p []byte) (int, error) {
	if f != nil {
		f("smtp sink: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
