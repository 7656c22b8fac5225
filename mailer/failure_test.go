package mailer_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/mailer/sink"
)

func TestTemporaryReplyIsNotPermanentAndPermanentReplyIs(t *testing.T) {
	cases := []struct {
		stage     sink.Stage
		code      int
		op        string
		permanent bool
	}{
		{sink.StageMail, 421, "MAIL FROM", false},
		{sink.StageRcpt, 450, "RCPT TO <a@example.com>", false},
		{sink.StageData, 451, "end of DATA", false},
		{sink.StageMail, 553, "MAIL FROM", true},
		{sink.StageRcpt, 550, "RCPT TO <a@example.com>", true},
		{sink.StageData, 554, "end of DATA", true},
	}
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	for _, c := range cases {
		s.ClearFailures()
		s.SetFailureAt(c.stage, c.code, "refused by test")
		err := m.Send(context.Background(), simple("a@example.com"), nil)
		var e *mailer.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Op != c.op {
			t.Errorf("%d at %s: err = %v", c.code, c.op, err)
			continue
		}
		if mailer.IsPermanent(err) != c.permanent || mailer.IsUncertain(err) {
			t.Errorf("%v: permanent=%v uncertain=%v", err, mailer.IsPermanent(err), mailer.IsUncertain(err))
		}
		if !strings.Contains(err.Error(), "refused by test") || !strings.Contains(err.Error(), s.Addr()) {
			t.Errorf("error does not say what happened: %v", err)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("sink recorded %d refused messages", n)
	}
	s.ClearFailures()
	send(t, m, simple("a@example.com"))
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return l.Addr().String()
}

func TestSendTimesOutAgainstServerThatNeverAnswers(t *testing.T) {
	m, err := mailer.New(mailer.Config{Addr: silentServer(t), TLS: "none", From: testFrom, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = m.Send(context.Background(), simple("a@example.com"), nil)
	took := time.Since(start)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || mailer.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary timeout", err)
	}
	if !strings.Contains(err.Error(), "greeting") || !strings.Contains(err.Error(), "300ms timeout") {
		t.Errorf("error does not say what timed out: %v", err)
	}
	if took < 250*time.Millisecond || took > 2*time.Second {
		t.Errorf("Send returned after %v, want about 300ms", took)
	}
}

func TestImplicitTLSTimesOutAgainstServerThatNeverAnswers(t *testing.T) {
	m, err := mailer.New(mailer.Config{Addr: silentServer(t), TLS: "tls", From: testFrom, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = m.Send(context.Background(), simple("a@example.com"), nil)
	if err == nil || mailer.IsPermanent(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestContextCancelAbortsConversationPromptly(t *testing.T) {
	m, err := mailer.New(mailer.Config{Addr: silentServer(t), TLS: "none", From: testFrom, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = m.Send(ctx, simple("a@example.com"), nil)
	if !errors.Is(err, context.Canceled) || mailer.IsPermanent(err) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Send returned after %v", took)
	}
}

func TestContextCancelledInBeforeCommitSendsNoFinalDot(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	ctx, cancel := context.WithCancel(context.Background())
	err := m.Send(ctx, simple("a@example.com"), func() error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) || mailer.IsUncertain(err) {
		t.Fatalf("err = %v, want context.Canceled before the final dot", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(s.Messages()); n != 0 {
		t.Errorf("sink recorded %d messages", n)
	}
}

func TestServerDownIsTemporaryAndDeliveryWorksAfterRestart(t *testing.T) {
	s := startSink(t, sink.Options{TLS: "starttls"})
	m := newMailer(t, s, "starttls", nil)
	addr := s.Addr()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	err := m.Send(context.Background(), simple("a@example.com"), nil)
	if err == nil || mailer.IsPermanent(err) || !strings.Contains(err.Error(), "smtp: dial with "+addr) {
		t.Fatalf("err = %v, want a temporary dial error", err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	send(t, m, simple("a@example.com"))
	waitOne(t, s)
}

func TestTimeoutExpiredInBeforeCommitSendsNoFinalDot(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", func(c *mailer.Config) { c.Timeout = 200 * time.Millisecond })
	err := m.Send(context.Background(), simple("a@example.com"), func() error { time.Sleep(300 * time.Millisecond); return nil })
	if err == nil || mailer.IsUncertain(err) || mailer.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary, certain failure", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(s.Messages()); n != 0 {
		t.Errorf("sink recorded %d messages", n)
	}
}
