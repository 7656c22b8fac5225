package mailer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
)

// auth authenticates with PLAIN, or LOGIN when the server offers only
// LOGIN. The password goes only over TLS or to a loopback address, and
// never into an error.
func (c *conversation) auth() error {
	if !c.secure && !isLoopbackConn(c.raw) {
		return c.fail("AUTH", errors.New("refusing to send the password over an unencrypted connection to a non-loopback address"))
	}
	params, ok := c.ext["AUTH"]
	if !ok {
		return c.fail("AUTH", errors.New("the server offers no AUTH; check the user name setting or whether the server requires TLS first"))
	}
	mechs := strings.Fields(strings.ToUpper(params))
	has := func(m string) bool {
		for _, x := range mechs {
			if x == m {
				return true
			}
		}
		return false
	}
	var err error
	switch {
	case has("PLAIN"):
		err = c.authPlain()
	case has("LOGIN"):
		err = c.authLogin()
	default:
		return c.fail("AUTH", fmt.Errorf("the server offers only %s; supported are PLAIN and LOGIN", strings.Join(mechs, ", ")))
	}
	var e *Error
	if errors.As(err, &e) {
		e.Reply = c.scrub(e.Reply)
	}
	return err
}

func (c *conversation) authPlain() error {
	const op = "AUTH PLAIN"
	resp := b64("\x00" + c.m.cfg.User + "\x00" + c.m.cfg.Password)
	code, _, err := c.cmd(op, 2, "AUTH PLAIN %s", resp)
	if code == 334 { // the server did not take the initial response
		_, _, err = c.cmd(op, 2, "%s", resp)
	}
	return err
}

func (c *conversation) authLogin() error {
	const op = "AUTH LOGIN"
	if _, _, err := c.cmd(op, 334, "AUTH LOGIN"); err != nil {
		return err
	}
	if _, _, err := c.cmd(op, 334, "%s", b64(c.m.cfg.User)); err != nil {
		return err
	}
	_, _, err := c.cmd(op, 2, "%s", b64(c.m.cfg.Password))
	return err
}

// scrub removes the password, in clear or in any of the base64 forms sent,
// from a server reply that might echo it.
func (c *conversation) scrub(reply string) string {
	p := c.m.cfg.Password
	if p == "" {
		return reply
	}
	for _, s := range []string{p, b64(p), b64("\x00" + c.m.cfg.User + "\x00" + p)} {
		reply = strings.ReplaceAll(reply, s, "[redacted]")
	}
	return reply
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func isLoopbackConn(c net.Conn) bool {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
