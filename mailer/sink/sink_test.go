package sink

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Sink {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// converse sends lines and checks each reply code; a code of 0 means send
// the line without reading a reply, the line "<read>" means read only.
func converse(t *testing.T, c *textproto.Conn, steps ...any) {
	t.Helper()
	for i := 0; i < len(steps); i += 2 {
		line, code := steps[i].(string), steps[i+1].(int)
		if line != "<read>" {
			if err := c.PrintfLine("%s", line); err != nil {
				t.Fatal(err)
			}
		}
		if code == 0 {
			continue
		}
		if _, msg, err := c.ReadResponse(code); err != nil {
			t.Fatalf("%q: %v %s", line, err, msg)
		}
	}
}

func TestSinkRecordsNothingWhenClientDisconnectsBeforeFinalDot(t *testing.T) {
	s := start(t, Options{})
	c, err := textproto.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	converse(t, c, "<read>", 220, "EHLO test", 250, "MAIL FROM:<a@example.com>", 250, "RCPT TO:<b@example.com>", 250,
		"DATA", 354, "Subject: x", 0, "", 0, "body", 0)
	c.Close()

	c, err = textproto.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	converse(t, c, "<read>", 220, "EHLO test", 250, "MAIL FROM:<a@example.com>", 250, "RCPT TO:<b@example.com>", 250,
		"DATA", 354, "Subject: complete", 0, "", 0, "..dot", 0, ".", 250, "QUIT", 221)
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "complete" {
		t.Fatalf("messages = %+v", msgs)
	}
	if !strings.HasSuffix(string(msgs[0].Data), "\r\n.dot\r\n") {
		t.Errorf("dot not unstuffed: %q", msgs[0].Data)
	}
}

func TestSinkRefusesAsConfiguredThenRecovers(t *testing.T) {
	s := start(t, Options{})
	c, err := textproto.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.SetFailure(451, "try later")
	converse(t, c, "<read>", 220, "EHLO test", 250, "MAIL FROM:<a@example.com>", 451)
	s.SetFailure(0, "")
	s.SetFailureAt(StageRcpt, 550, "no such user")
	converse(t, c, "MAIL FROM:<a@example.com>", 250, "RCPT TO:<b@example.com>", 550)
	s.ClearFailures()
	converse(t, c, "RCPT TO:<b@example.com>", 250)
}

func TestWaitForReturnsContextErrorWithMessagesSoFar(t *testing.T) {
	s := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	msgs, err := s.WaitFor(ctx, 1)
	if err == nil || len(msgs) != 0 {
		t.Fatalf("WaitFor = %v, %v", msgs, err)
	}
}

func TestStartGeneratesCertificateForLoopback(t *testing.T) {
	s := start(t, Options{TLS: "tls"})
	block, _ := pem.Decode(s.CertPEM())
	if block == nil {
		t.Fatal("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Error(err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: s.CertPool(), DNSName: "localhost"}); err != nil {
		t.Error(err)
	}
}

func TestStartRejectsUnknownOptions(t *testing.T) {
	if _, err := Start(context.Background(), Options{TLS: "ssl"}); err == nil {
		t.Error("TLS ssl accepted")
	}
	if _, err := Start(context.Background(), Options{Users: map[string]string{}, AuthMechs: []string{"CRAM-MD5"}}); err == nil {
		t.Error("CRAM-MD5 accepted")
	}
}

func TestCancelledContextClosesSink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		c, err := textproto.Dial("tcp", s.Addr())
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("sink still accepts connections after its context was cancelled")
}
