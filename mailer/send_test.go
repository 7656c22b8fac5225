package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/mailer/sink"
)

func TestSendDeliversJapaneseSubjectTextHTMLAndAttachment(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	subject := "[Data Export Tracker] 山田太郎 が 取引先 を 3,120 件エクスポートしました"
	csv := []byte("id,name\n1,Tanaka\n.\n2,Suzuki\n")
	send(t, m, &mailer.Message{
		To:          []string{"管理者 <admin@example.com>", "sec@example.com"},
		Subject:     subject,
		Text:        "日本語の本文\n.single dot line\nline two",
		HTML:        "<p>日本語の<b>本文</b></p>",
		Attachments: []mailer.Attachment{{Name: "取引先.csv", ContentType: "text/csv", Data: csv}},
	})
	r := waitOne(t, s)
	if r.ParseErr != nil {
		t.Fatalf("received message does not parse: %v", r.ParseErr)
	}
	if r.Subject != subject {
		t.Errorf("subject = %q, want %q", r.Subject, subject)
	}
	if r.From != "dxt@example.com" || strings.Join(r.To, ",") != "admin@example.com,sec@example.com" {
		t.Errorf("envelope = %s -> %v", r.From, r.To)
	}
	parts, err := r.Parts()
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("got %d parts, want text, html, attachment: %+v", len(parts), parts)
	}
	if parts[0].ContentType != "text/plain" || string(parts[0].Body) != "日本語の本文\r\n.single dot line\r\nline two\r\n" {
		t.Errorf("text part = %s %q", parts[0].ContentType, parts[0].Body)
	}
	if parts[1].ContentType != "text/html" || !strings.Contains(string(parts[1].Body), "<b>本文</b>") {
		t.Errorf("html part = %s %q", parts[1].ContentType, parts[1].Body)
	}
	if parts[2].ContentType != "text/csv" || parts[2].Filename != "取引先.csv" || !bytes.Equal(parts[2].Body, csv) {
		t.Errorf("attachment = %s %q %q", parts[2].ContentType, parts[2].Filename, parts[2].Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/mixed;") {
		t.Errorf("Content-Type = %q, want multipart/mixed", ct)
	}
}

func TestSendTextOnlyMessageIsSinglePart(t *testing.T) {
	s := startSink(t, sink.Options{})
	send(t, newMailer(t, s, "none", nil), &mailer.Message{To: []string{"a@example.com"}, Subject: "plain", Text: "just text"})
	r := waitOne(t, s)
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	text, html, err := r.Text()
	if err != nil || text != "just text\r\n" || html != "" {
		t.Errorf("text=%q html=%q err=%v", text, html, err)
	}
}

func TestSendKeepsCallerMessageIDDateAndExtraHeaders(t *testing.T) {
	s := startSink(t, sink.Options{})
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("JST", 9*3600))
	send(t, newMailer(t, s, "none", nil), &mailer.Message{
		To: []string{"a@example.com"}, Subject: "x", Text: "x",
		MessageID: "<dxt-42-a@example.com>", Date: date,
		Headers: map[string]string{"X-DXT-Event-ID": "42"},
	})
	r := waitOne(t, s)
	if r.MessageID != "<dxt-42-a@example.com>" {
		t.Errorf("Message-ID = %q", r.MessageID)
	}
	got, err := r.Header.Date()
	if err != nil || !got.Equal(date) {
		t.Errorf("Date = %v (%v), want %v", got, err, date)
	}
	if v := r.Header.Get("X-DXT-Event-ID"); v != "42" {
		t.Errorf("X-DXT-Event-ID = %q", v)
	}
}

func TestSendNeutralisesHeaderInjectionInSubjectAndHeaders(t *testing.T) {
	s := startSink(t, sink.Options{})
	send(t, newMailer(t, s, "none", nil), &mailer.Message{
		To:      []string{"admin@example.com"},
		Subject: "jsmith\r\nBcc: victim@example.com\r\n\r\nbody",
		Text:    "x",
		Headers: map[string]string{"X-DXT-User": "eve\nBcc: other@example.com\rX-Evil: 1"},
	})
	r := waitOne(t, s)
	for _, h := range []string{"Bcc", "X-Evil"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("injected header %s: %q", h, v)
		}
	}
	if r.Subject != "jsmith Bcc: victim@example.com body" {
		t.Errorf("subject = %q", r.Subject)
	}
	if v := r.Header.Get("X-DXT-User"); v != "eve Bcc: other@example.com X-Evil: 1" {
		t.Errorf("X-DXT-User = %q", v)
	}
	if len(r.To) != 1 {
		t.Errorf("envelope recipients = %v", r.To)
	}
}

func TestSendRefusesRecipientWithLineBreakAndSendsNothing(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	for _, to := range []string{"admin@example.com\r\nRCPT TO:<evil@example.com>", "admin@example.com>\nBcc: evil@example.com", "a b@example.com"} {
		err := m.Send(context.Background(), simple(to), nil)
		if err == nil || !mailer.IsPermanent(err) {
			t.Errorf("To %q: err = %v, want a permanent error", to, err)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("sink received %d messages", n)
	}
}

func TestBeforeCommitRunsWhenServerHasNotYetAccepted(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	calls := 0
	err := m.Send(context.Background(), simple("a@example.com"), func() error {
		calls++
		if n := len(s.Messages()); n != 0 {
			t.Errorf("sink already has %d messages when beforeCommit runs", n)
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Fatalf("Send = %v, beforeCommit called %d times", err, calls)
	}
	waitOne(t, s)
}

func TestBeforeCommitErrorMeansServerReceivesNothing(t *testing.T) {
	s := startSink(t, sink.Options{})
	m := newMailer(t, s, "none", nil)
	boom := errors.New("outbox commit failed")
	err := m.Send(context.Background(), &mailer.Message{To: []string{"a@example.com"}, Subject: "abandoned", Text: "x"}, func() error { return boom })
	if !errors.Is(err, boom) || mailer.IsPermanent(err) || mailer.IsUncertain(err) {
		t.Fatalf("err = %v; want it to wrap beforeCommit's error, not permanent, not uncertain", err)
	}
	// A later message arrives alone: the abandoned one was never accepted.
	send(t, m, &mailer.Message{To: []string{"a@example.com"}, Subject: "second", Text: "x"})
	if r := waitOne(t, s); r.Subject != "second" {
		t.Errorf("sink received %q", r.Subject)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(s.Messages()); n != 1 {
		t.Errorf("sink has %d messages, want 1", n)
	}
}

func TestConnectionLostAfterFinalDotIsUncertain(t *testing.T) {
	var s *sink.Sink
	s = startSink(t, sink.Options{OnMessage: func(sink.Received) { s.Stop() }})
	err := newMailer(t, s, "none", nil).Send(context.Background(), simple("a@example.com"), nil)
	if err == nil || !mailer.IsUncertain(err) || mailer.IsPermanent(err) {
		t.Fatalf("err = %v, want uncertain and not permanent", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("sink has %d messages, want 1 (accepted before the client knew)", n)
	}
}
