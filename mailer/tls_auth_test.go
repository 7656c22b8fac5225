package mailer_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/mailer/sink"
)

func TestSendOverSTARTTLSWithTrustedTestCertificate(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "starttls"})
	send(t, newMailer(t, s, "starttls", nil), simple("a@example.com"))
	if r := waitOne(t, s); !r.TLS {
		t.Error("message was not received over TLS")
	}
}

func TestSTARTTLSFailsWhenCertificateIsNotTrusted(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "starttls"})
	m := newMailer(t, s, "starttls", func(c *mailer.Config) { c.RootCAs = x509.NewCertPool() })
	err := m.Send(context.Background(), simple("a@example.com"), nil)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "smtp: STARTTLS with "+s.Addr()) {
		t.Fatalf("err = %v, want an unknown-authority error from STARTTLS", err)
	}
	if len(s.Messages()) != 0 {
		t.Error("sink received a message over an untrusted connection")
	}
}

func TestSTARTTLSModeRefusesServerWithoutSTARTTLS(t *testing.T) {
	s := startSink(t, sink.Options{})
	err := newMailer(t, s, "starttls", nil).Send(context.Background(), simple("a@example.com"), nil)
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("err = %v", err)
	}
	if len(s.Messages()) != 0 {
		t.Error("sink received a message in clear text")
	}
}

func TestSendOverImplicitTLS(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "tls"})
	send(t, newMailer(t, s, "tls", nil), simple("a@example.com"))
	if r := waitOne(t, s); !r.TLS {
		t.Error("message was not received over TLS")
	}
}

func TestAuthPLAINIsPreferredAfterSTARTTLS(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "starttls", Users: map[string]string{"alice": "s3cret"}})
	send(t, newMailer(t, s, "starttls", func(c *mailer.Config) { c.User, c.Password = "alice", "s3cret" }), simple("a@example.com"))
	if r := waitOne(t, s); r.User != "alice" || r.AuthMech != "PLAIN" || !r.TLS {
		t.Errorf("user=%q mech=%q tls=%v", r.User, r.AuthMech, r.TLS)
	}
}

func TestAuthFallsBackToLOGINWhenServerOffersOnlyLOGIN(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "tls", Users: map[string]string{"alice": "s3cret"}, AuthMechs: []string{"LOGIN"}})
	send(t, newMailer(t, s, "tls", func(c *mailer.Config) { c.User, c.Password = "alice", "s3cret" }), simple("a@example.com"))
	if r := waitOne(t, s); r.User != "alice" || r.AuthMech != "LOGIN" {
		t.Errorf("user=%q mech=%q", r.User, r.AuthMech)
	}
}

func TestAuthOverPlainLoopbackConnection(t *testing.T) {
	s := startSink(t, sink.Options{Users: map[string]string{"alice": "s3cret"}})
	send(t, newMailer(t, s, "none", func(c *mailer.Config) { c.User, c.Password = "alice", "s3cret" }), simple("a@example.com"))
	if r := waitOne(t, s); r.User != "alice" {
		t.Errorf("user=%q", r.User)
	}
}

func TestAuthFailureIsPermanentAndErrorHidesPassword(t *testing.T) {
	const password = "wrong-Pa55word!"
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			s := startSink(t, sink.Options{TLS: "starttls", Users: map[string]string{"alice": "s3cret"}, AuthMechs: []string{mech}})
			m := newMailer(t, s, "starttls", func(c *mailer.Config) { c.User, c.Password = "alice", password })
			err := m.Send(context.Background(), simple("a@example.com"), nil)
			if err == nil || !mailer.IsPermanent(err) {
				t.Fatalf("err = %v, want permanent", err)
			}
			if !strings.Contains(err.Error(), "AUTH "+mech) || !strings.Contains(err.Error(), "535") {
				t.Errorf("error does not say what failed: %v", err)
			}
			for _, secret := range []string{password, base64.StdEncoding.EncodeToString([]byte(password)), base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + password))} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error contains the password (%q): %v", secret, err)
				}
			}
			if len(s.Messages()) != 0 {
				t.Error("sink received a message")
			}
		})
	}
}

func TestSinkRequiresAuthWhenUsersAreSet(t *testing.T) {
	s := startSink(t, sink.Options{Users: map[string]string{"alice": "s3cret"}})
	err := newMailer(t, s, "none", nil).Send(context.Background(), simple("a@example.com"), nil)
	if !mailer.IsPermanent(err) || !strings.Contains(err.Error(), "MAIL FROM") {
		t.Fatalf("err = %v, want a permanent MAIL FROM refusal", err)
	}
}

func TestNewRefusesPlainTextToNonLoopbackAddress(t *testing.T) {
	for _, addr := range []string{"smtp.example.com:25", "192.0.2.10:25", "[2001:db8::1]:25"} {
		_, err := mailer.New(mailer.Config{Addr: addr, TLS: "none", From: testFrom})
		if err == nil || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "starttls") {
			t.Errorf("%s: err = %v, want a refusal explaining loopback and starttls", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:25", "localhost:25", "[::1]:25"} {
		if _, err := mailer.New(mailer.Config{Addr: addr, TLS: "none", From: testFrom}); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	bad := []mailer.Config{
		{Addr: "smtp.example.com", From: testFrom},
		{Addr: "smtp.example.com:587", TLS: "ssl", From: testFrom},
		{Addr: "smtp.example.com:587", From: "not an address"},
		{Addr: "smtp.example.com:587", From: testFrom, Password: "x"},
		{Addr: "smtp.example.com:587", From: testFrom, HeloName: "bad name\r\n"},
	}
	for _, c := range bad {
		if _, err := mailer.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		} else if c.Password != "" && strings.Contains(err.Error(), c.Password+" ") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
