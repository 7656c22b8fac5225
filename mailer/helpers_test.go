package mailer_test

import (
	"context"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/mailer/sink"
)

const testFrom = "Data Export Tracker <dxt@example.com>"

// startSink runs a sink for the test's duration.
func startSink(t *testing.T, opts sink.Options) *sink.Sink {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sink.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start sink: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return s
}

// newMailer builds a Mailer for the sink; tweak adjusts the config.
func newMailer(t *testing.T, s *sink.Sink, tlsMode string, tweak func(*mailer.Config)) *mailer.Mailer {
	t.Helper()
	cfg := mailer.Config{Addr: s.Addr(), TLS: tlsMode, From: testFrom, Timeout: 5 * time.Second, RootCAs: s.CertPool()}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := mailer.New(cfg)
	if err != nil {
		t.Fatalf("mailer.New: %v", err)
	}
	return m
}

// send delivers msg and fails the test on error.
func send(t *testing.T, m *mailer.Mailer, msg *mailer.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Send(ctx, msg, nil); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// waitOne waits for the sink's first message and checks it is the only one.
func waitOne(t *testing.T, s *sink.Sink) sink.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := s.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("sink received %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

func simple(to ...string) *mailer.Message {
	return &mailer.Message{To: to, Subject: "test", Text: "hello\n"}
}
