package notify_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/dxtracker/dxtracker/mailer"
	"github.com/dxtracker/dxtracker/notify"
	"github.com/dxtracker/dxtracker/tracker"
)

// wantHeaders are the header fields of an event mail with a text and an
// HTML part, in the order the mailer writes them: nothing else may appear,
// whatever the database holds.
var wantHeaders = []string{"Date", "From", "To", "Subject", "Message-Id", "X-Dxt-Event-Id", "Mime-Version", "Content-Type"}

// eventMail renders ev as the notification worker does and returns the
// wire bytes of the mail and the rendered subject.
func eventMail(t testing.TB, lang string, ev tracker.Event) ([]byte, string) {
	t.Helper()
	rend, err := notify.NewRenderer("https://crm.example.com").Event(lang, ev, []notify.Match{{Rule: "big", Kind: "threshold", Severity: "high", Reason: "over 1000"}}, "")
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	m := &mailer.Message{
		To: []string{"sec@example.com"}, Subject: rend.Subject, Text: rend.Text, HTML: rend.HTML,
		MessageID: "<dxt-1.abc@example.com>", Date: time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC),
		Headers: map[string]string{"X-DXT-Event-ID": "42"},
	}
	b, err := m.Bytes("Data Export Tracker <dxtracker@example.com>")
	if err != nil {
		t.Fatalf("Bytes: %v", err)
	}
	return b, rend.Subject
}

// checkHeaders proves the header block of raw holds exactly wantHeaders,
// one recipient, lines of at most 998 octets ending in CRLF, and a subject
// that decodes to the rendered one: one line, no control characters.
func checkHeaders(t testing.TB, raw []byte, rendered string) {
	t.Helper()
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no end of header:\n%s", raw)
	}
	var names []string
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("header line of %d octets", len(line))
		}
		if strings.ContainsAny(line, "\r\n\x00") {
			t.Fatalf("bare CR, LF or NUL in header line %q", line)
		}
		if line == "" {
			t.Fatalf("empty line inside the header:\n%s", head)
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // folded continuation
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("header line without a field name: %q", line)
		}
		names = append(names, strings.ToLower(name))
	}
	var want []string
	for _, n := range wantHeaders {
		want = append(want, strings.ToLower(n))
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("header fields %v, want exactly %v\n%s", names, want, head)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the mail does not parse: %v", err)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "sec@example.com" {
		t.Fatalf("To %v %v", to, err)
	}
	for _, h := range []string{"Bcc", "Cc", "Reply-To", "Sender"} {
		if v, ok := msg.Header[h]; ok {
			t.Fatalf("injected %s: %q", h, v)
		}
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject does not decode: %v", err)
	}
	if subject != rendered {
		t.Fatalf("subject on the wire decodes to\n%q\nwant the rendered\n%q", subject, rendered)
	}
	for _, r := range subject {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("control character %U in subject %q", r, subject)
		}
	}
}

func TestMailHeadersStayExactWhateverTheDatabaseHolds(t *testing.T) {
	at := time.Date(2026, 12, 4, 19, 24, 0, 0, time.UTC)
	long := strings.Repeat("A", 5000)
	longWords := strings.Repeat("Bcc: x@example.org ", 400)
	encoded := "=?UTF-8?B?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=" // "Bcc: victim@example.org"
	for _, c := range []struct {
		name, user, module, report string
		// wantInSubject is what the decoded subject shows of the hostile
		// value ("" = only checked structurally).
		wantInSubject string
	}{
		{"CRLF Bcc in the user name", "evil\r\nBcc: victim@example.org", "Contacts", "", "evil Bcc: victim@example.org"},
		{"LF header in the module label", "jsmith", "Contacts\nX-Injected: 1", "", "Contacts X-Injected: 1"},
		{"CR only", "a\rBcc: b@example.org", "Leads", "", "a Bcc: b@example.org"},
		{"blank line then body", "jsmith\r\n\r\nfake body", "Contacts", "", "jsmith fake body"},
		{"NUL, tab and Unicode line separators", "a\x00b\tc\u2028Bcc: d@example.org\u2029e\u0085f", "Con\u000btacts", "", "a b c Bcc: d@example.org e f"},
		{"RFC 2047 encoded word", encoded, encoded, "", encoded},
		{"half an encoded word", "=?UTF-8?Q?Bcc:=0D=0A", "?= x", "", "=?UTF-8?Q?Bcc:=0D=0A"},
		{"very long user name", long, long, "", strings.Repeat("A", 60) + "…"},
		{"very long text of short words", longWords, longWords, "", ""},
		{"Japanese and emoji", "山田\r\n太郎😀", "取引先\r\nBcc: x@example.org", "", "山田 太郎😀"},
		{"bidi override", "admin\u202eBcc: x@example.org", "Contacts", "", "admin Bcc: x@example.org"},
		{"invalid UTF-8", "a\xff\xfeb\r\nBcc: x@example.org", "M\xc3", "", "ab Bcc: x@example.org"},
		{"report name", "admin", "Contacts", "Q1\r\nBcc: victim@example.org\r\n\r\n", "Q1 Bcc: victim@example.org"},
		{"report name encoded word", "admin", "Contacts", encoded, encoded},
	} {
		t.Run(c.name, func(t *testing.T) {
			details, _ := json.Marshal(map[string]any{"report_name": c.report,
				"recipients": []map[string]any{{"name": "x\r\nBcc: y@example.org", "email": "x@example.org\r\nBcc: y@example.org"}}})
			for _, typ := range []string{tracker.TypeListviewExport, tracker.TypeCopy, tracker.TypeScheduledReport} {
				ev := tracker.Event{ID: 42, OccurredAt: at, Type: typ, UserName: strp(c.user), Module: strp(c.module),
					RecordCount: i64(3120), IP: strp("10.0.0.5\r\nBcc: z@example.org"), UserAgent: strp("UA\r\nX-Evil: 1"),
					Source: "probe", Details: details, ReportID: i64(26)}
				for _, lang := range []string{notify.LangEnglish, notify.LangJapanese} {
					raw, subject := eventMail(t, lang, ev)
					checkHeaders(t, raw, subject)
					// The subject names the user and module of exports and
					// copies, the report (and module) of scheduled reports.
					shown := typ != tracker.TypeScheduledReport
					if c.report != "" {
						shown = typ == tracker.TypeScheduledReport
					}
					if c.wantInSubject != "" && shown && !strings.Contains(subject, c.wantInSubject) {
						t.Errorf("%s %s: subject %q lacks %q", typ, lang, subject, c.wantInSubject)
					}
				}
			}
		})
	}
}

// FuzzEventMailHeaders renders the notification of an event whose user
// name, module and report name are arbitrary text from the database and
// checks the wire form of the mail: exactly the expected header fields,
// one recipient, and a subject that decodes to one line.
func FuzzEventMailHeaders(f *testing.F) {
	for _, s := range [][3]string{
		{"jsmith", "Contacts", "Q1"},
		{"evil\r\nBcc: victim@example.org", "Contacts", ""},
		{"=?UTF-8?B?QmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=", "=?", "?="},
		{strings.Repeat("x", 2000), strings.Repeat("y ", 1000), strings.Repeat("z", 999)},
		{"山田\u2028太郎", "\x00", "\xff"},
	} {
		f.Add(s[0], s[1], s[2], uint8(0), false)
	}
	at := time.Date(2026, 12, 4, 19, 24, 0, 0, time.UTC)
	types := []string{tracker.TypeListviewExport, tracker.TypeReportExport, tracker.TypeCopy, tracker.TypeScheduledReport, "unknown"}
	f.Fuzz(func(t *testing.T, user, module, report string, typ uint8, ja bool) {
		details, _ := json.Marshal(map[string]any{"report_name": report, "external_recipients": 1,
			"recipients": []map[string]any{{"name": user, "email": module}}})
		lang := notify.LangEnglish
		if ja {
			lang = notify.LangJapanese
		}
		ev := tracker.Event{ID: 42, OccurredAt: at, Type: types[int(typ)%len(types)], UserName: strp(user), Module: strp(module),
			RecordCount: i64(int64(typ) * 1000), Source: "probe", Details: details, ReportID: i64(26)}
		raw, subject := eventMail(t, lang, ev)
		checkHeaders(t, raw, subject)
	})
}
