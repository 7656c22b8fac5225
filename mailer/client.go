package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Send delivers msg to every address in msg.To in one SMTP transaction.
//
// beforeCommit, if not nil, is called once the whole message has been
// transmitted and only the final "<CRLF>.<CRLF>" is missing. If it returns
// an error, Send closes the connection without sending the final dot, so
// the server discards the message (inside DATA every byte, RSET or QUIT
// included, would be message text: closing is the only abort RFC 5321
// leaves), and returns an *Error that wraps beforeCommit's error.
//
// The whole conversation is bounded by Config.Timeout and by ctx: when ctx
// is done the connection's deadline is moved to the past, so every pending
// read or write fails at once and Send returns an error wrapping ctx.Err().
//
// If one recipient is refused, nothing is sent to the others either. Errors
// are *Error values; see IsPermanent and IsUncertain.
func (m *Mailer) Send(ctx context.Context, msg *Message, beforeCommit func() error) error {
	if msg == nil {
		return &Error{Op: "prepare message", Server: m.cfg.Addr, Err: errors.New("nil message"), permanent: true}
	}
	data, err := msg.Bytes(m.cfg.From)
	if err != nil {
		return &Error{Op: "prepare message", Server: m.cfg.Addr, Err: err, permanent: true}
	}
	rcpts, _ := msg.recipients() // validated by Bytes
	if err := ctx.Err(); err != nil {
		return &Error{Op: "dial", Server: m.cfg.Addr, Err: err}
	}

	c := &conversation{m: m, ctx: ctx, deadline: time.Now().Add(m.cfg.Timeout)}
	if d, ok := ctx.Deadline(); ok && d.Before(c.deadline) {
		c.deadline = d
	}
	if err := c.connect(); err != nil {
		return err
	}
	defer c.close()
	stop := context.AfterFunc(ctx, func() { c.raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if err := c.handshake(); err != nil {
		c.quitAfter(err)
		return err
	}
	if err := c.envelope(rcpts, len(data)); err != nil {
		c.quitAfter(err)
		return err
	}
	if err := c.data(data, beforeCommit); err != nil {
		c.quitAfter(err) // only after a reply: inside DATA, QUIT would be message text
		return err
	}
	c.quit()
	return nil
}

// conversation is one SMTP connection.
type conversation struct {
	m        *Mailer
	ctx      context.Context
	deadline time.Time
	raw      net.Conn // the TCP connection; deadlines are set here
	text     *textproto.Conn
	ext      map[string]string // EHLO extensions, upper-case keyword -> parameters
	secure   bool              // TLS is established
}

func (c *conversation) fail(op string, err error) *Error {
	return &Error{Op: op, Server: c.m.cfg.Addr, Err: err}
}

// ioErr explains a network error: cancelled, timed out, or as is.
func (c *conversation) ioErr(op string, err error) *Error {
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return c.fail(op, ctxErr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(c.deadline) {
		return c.fail(op, fmt.Errorf("no answer within the %s timeout: %w", c.m.cfg.Timeout, err))
	}
	return c.fail(op, err)
}

func (c *conversation) connect() error {
	d := net.Dialer{Deadline: c.deadline}
	raw, err := d.DialContext(c.ctx, "tcp", c.m.cfg.Addr)
	if err != nil {
		return c.ioErr("dial", err)
	}
	raw.SetDeadline(c.deadline)
	c.raw = raw
	conn := raw
	if c.m.cfg.TLS == TLSImplicit {
		tc := tls.Client(raw, c.tlsConfig())
		if err := tc.HandshakeContext(c.ctx); err != nil {
			raw.Close()
			return c.ioErr("TLS handshake", err)
		}
		conn, c.secure = tc, true
	}
	c.text = textproto.NewConn(conn)
	return nil
}

func (c *conversation) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: c.m.host, RootCAs: c.m.cfg.RootCAs, MinVersion: tls.VersionTLS12}
}

func (c *conversation) close() { c.text.Close() }

// quitAfter says QUIT after a refusal, when the connection is still
// usable; not after a network error, a timeout or a cancellation.
func (c *conversation) quitAfter(err error) {
	var e *Error
	if errors.As(err, &e) && e.Code != 0 && c.ctx.Err() == nil {
		c.quit()
	}
}

// quit ends the session politely, waiting at most a second for the reply.
func (c *conversation) quit() {
	if c.ctx.Err() != nil {
		return
	}
	if d := time.Now().Add(time.Second); d.Before(c.deadline) {
		c.raw.SetDeadline(d)
	}
	if c.text.PrintfLine("QUIT") == nil {
		c.text.ReadResponse(0)
	}
}

// cmd sends one command line (nothing when line is "") and reads the reply;
// want is an exact code, or a class (2 for any 2xx).
func (c *conversation) cmd(op string, want int, line string, args ...any) (int, string, error) {
	if line != "" {
		if err := c.text.PrintfLine(line, args...); err != nil {
			return 0, "", c.ioErr(op, err)
		}
	}
	code, msg, err := c.text.ReadResponse(0)
	if err != nil {
		return code, msg, c.ioErr(op, err)
	}
	if code != want && !(want < 10 && code/100 == want) {
		return code, msg, &Error{Op: op, Server: c.m.cfg.Addr, Code: code, Reply: oneLine(msg)}
	}
	return code, msg, nil
}

// handshake reads the greeting, says EHLO, upgrades with STARTTLS and
// authenticates, as configured.
func (c *conversation) handshake() error {
	if _, _, err := c.cmd("greeting", 220, ""); err != nil {
		return err
	}
	if err := c.hello(); err != nil {
		return err
	}
	if c.m.cfg.TLS == TLSStartTLS {
		if err := c.startTLS(); err != nil {
			return err
		}
	}
	if c.m.cfg.User != "" {
		return c.auth()
	}
	return nil
}

func (c *conversation) hello() error {
	_, msg, err := c.cmd("EHLO", 250, "EHLO %s", c.m.cfg.HeloName)
	var e *Error
	if errors.As(err, &e) && e.Code >= 500 {
		// A server without ESMTP: HELO, no extensions.
		c.ext = map[string]string{}
		_, _, err = c.cmd("HELO", 250, "HELO %s", c.m.cfg.HeloName)
		return err
	}
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

func (c *conversation) startTLS() error {
	if _, ok := c.ext["STARTTLS"]; !ok {
		return c.fail("STARTTLS", errors.New(`the server does not offer STARTTLS; if it expects TLS from the first byte (port 465) set TLS "tls"`))
	}
	if _, _, err := c.cmd("STARTTLS", 220, "STARTTLS"); err != nil {
		return err
	}
	tc := tls.Client(c.raw, c.tlsConfig())
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return c.ioErr("STARTTLS", err)
	}
	c.text = textproto.NewConn(tc)
	c.secure = true
	return c.hello()
}

// envelope sends MAIL FROM and one RCPT TO per recipient.
func (c *conversation) envelope(rcpts []*mail.Address, size int) error {
	sizeParam := ""
	if _, ok := c.ext["SIZE"]; ok {
		sizeParam = fmt.Sprintf(" SIZE=%d", size)
	}
	if _, _, err := c.cmd("MAIL FROM", 2, "MAIL FROM:<%s>%s", c.m.from.Address, sizeParam); err != nil {
		return err
	}
	for _, r := range rcpts {
		if _, _, err := c.cmd("RCPT TO <"+r.Address+">", 2, "RCPT TO:<%s>", r.Address); err != nil {
			return err
		}
	}
	return nil
}

// data transmits the message, calls beforeCommit and only then sends the
// final dot and reads the server's verdict.
func (c *conversation) data(msg []byte, beforeCommit func() error) error {
	if _, _, err := c.cmd("DATA", 354, "DATA"); err != nil {
		return err
	}
	c.text.W.Write(dotStuff(msg))
	if err := c.text.W.Flush(); err != nil {
		return c.ioErr("message data", err)
	}
	if beforeCommit != nil {
		if err := beforeCommit(); err != nil {
			return c.fail("before commit", fmt.Errorf("message abandoned without the final dot: %w", err))
		}
	}
	if err := c.ctx.Err(); err != nil {
		return c.fail("end of DATA", fmt.Errorf("message abandoned without the final dot: %w", err))
	}
	if !time.Now().Before(c.deadline) {
		return c.fail("end of DATA", fmt.Errorf("message abandoned without the final dot: the %s timeout expired", c.m.cfg.Timeout))
	}
	c.text.W.WriteString(".\r\n")
	if err := c.text.W.Flush(); err != nil {
		e := c.ioErr("end of DATA", err)
		e.uncertain = true
		return e
	}
	_, _, err := c.cmd("end of DATA", 2, "")
	var e *Error
	if errors.As(err, &e) && e.Code == 0 {
		e.uncertain = true
	}
	return err
}

// dotStuff doubles a leading dot on every line (RFC 5321 4.5.2); msg has
// CRLF line endings and ends with CRLF.
func dotStuff(msg []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(msg) + len(msg)/100)
	for len(msg) > 0 {
		line := msg
		if i := bytes.Index(msg, []byte("\r\n")); i >= 0 {
			line = msg[:i+2]
		}
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
		msg = msg[len(line):]
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// oneLine joins a multi-line reply.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }
