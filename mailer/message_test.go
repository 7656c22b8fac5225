package mailer_test

import (
	"bytes"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dxtracker/dxtracker/mailer"
)

// checkWireFormat fails unless every line ends with CRLF, has no bare CR or
// LF, and is at most 998 octets.
func checkWireFormat(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Error("message does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d octets long", i+1, len(line))
		}
	}
}

func TestBytesHasValidDateAndGeneratedMessageID(t *testing.T) {
	b, err := (&mailer.Message{To: []string{"a@example.com"}, Subject: "s", Text: "t"}).Bytes(testFrom)
	if err != nil {
		t.Fatal(err)
	}
	checkWireFormat(t, b)
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := m.Header.Date(); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date = %q (%v)", m.Header.Get("Date"), err)
	}
	if id := m.Header.Get("Message-Id"); !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if m.Header.Get("MIME-Version") != "1.0" {
		t.Error("no MIME-Version")
	}
	if from, err := m.Header.AddressList("From"); err != nil || len(from) != 1 ||
		from[0].Name != "Data Export Tracker" || from[0].Address != "dxt@example.com" {
		t.Errorf("From = %q (%v)", m.Header.Get("From"), err)
	}
}

func TestBytesKeepsLinesShortForLongSubjectsAndBodies(t *testing.T) {
	long := strings.Repeat("x", 2000)
	jp := strings.Repeat("長い件名のテスト", 60)
	msg := &mailer.Message{
		To:      []string{strings.Repeat("名前", 50) + " <a@example.com>", "b@example.com"},
		Subject: jp + " " + long,
		Text:    long + "\n" + jp,
		HTML:    "<p>" + long + "</p>",
		Headers: map[string]string{"X-Long": long, "X-Words": strings.Repeat("word ", 300)},
		Attachments: []mailer.Attachment{
			{Name: strings.Repeat("ファイル", 100) + ".csv", Data: bytes.Repeat([]byte("a,b\n"), 1000)},
		},
	}
	b, err := msg.Bytes(testFrom)
	if err != nil {
		t.Fatal(err)
	}
	checkWireFormat(t, b)
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil || s != msg.Subject {
		t.Errorf("subject round trip failed (%v): %q", err, s)
	}
	if s, err := dec.DecodeHeader(m.Header.Get("X-Long")); err != nil || s != long {
		t.Errorf("X-Long round trip failed (%v)", err)
	}
	if s := m.Header.Get("X-Words"); s != strings.TrimSpace(strings.Repeat("word ", 300)) {
		t.Errorf("X-Words folded wrongly: %q", s)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != strings.Repeat("名前", 50) {
		t.Errorf("To = %v (%v)", to, err)
	}
}

func TestBytesHTMLOnlyMessage(t *testing.T) {
	b, err := (&mailer.Message{To: []string{"a@example.com"}, HTML: "<p>x</p>"}).Bytes(testFrom)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := mail.ReadMessage(bytes.NewReader(b))
	if ct := m.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestBytesRejectsMessagesThatCannotBeSentSafely(t *testing.T) {
	cases := map[string]*mailer.Message{
		"no recipient":          {Subject: "x"},
		"recipient with CRLF":   {To: []string{"a@example.com\r\nBcc: b@example.com"}},
		"two addresses in one":  {To: []string{"a@example.com, b@example.com"}},
		"non-ASCII address":     {To: []string{"ユーザー@example.com"}},
		"bad header name":       {To: []string{"a@example.com"}, Headers: map[string]string{"X-A\r\nBcc": "x"}},
		"reserved header":       {To: []string{"a@example.com"}, Headers: map[string]string{"bcc": "x@example.com"}},
		"Message-ID with CRLF":  {To: []string{"a@example.com"}, MessageID: "<a@b>\r\nBcc: x@example.com"},
		"Message-ID no bracket": {To: []string{"a@example.com"}, MessageID: "a@b"},
	}
	for name, msg := range cases {
		if b, err := msg.Bytes(testFrom); err == nil {
			t.Errorf("%s: accepted:\n%s", name, b)
		}
	}
	if _, err := (&mailer.Message{To: []string{"a@example.com"}}).Bytes("x\r\nBcc: y@example.com"); err == nil {
		t.Error("sender with CRLF accepted")
	}
}
