package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"path"
	"sort"
	"strings"
	"time"
)

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string // file name shown to the reader (any UTF-8; RFC 2231 encoded)
	ContentType string // e.g. "text/csv"; "" = guessed from Name, else application/octet-stream
	Data        []byte
}

// Message is one e-mail. Every text field may hold any UTF-8 from the
// database: control characters in headers never start a new header.
type Message struct {
	To          []string // "a@example.com" or "Name <a@example.com>"; envelope recipients too
	Subject     string
	Text        string // text/plain part
	HTML        string // text/html part, optional
	Attachments []Attachment
	MessageID   string            // "<id@domain>"; "" = generated "<random@from-domain>"
	Date        time.Time         // zero = now
	Headers     map[string]string // extra headers, e.g. "X-DXT-Event-ID"
}

// Bytes renders the full RFC 5322 message with CRLF line endings and lines
// of at most 998 octets, from is the header sender ("Name <a@b>" or "a@b").
// Errors are about the message itself (bad address, bad header name) and
// will not go away by retrying.
func (m *Message) Bytes(from string) ([]byte, error) {
	sender, err := parseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("sender %q: %w", from, err)
	}
	to, err := m.recipients()
	if err != nil {
		return nil, err
	}
	msgID, err := m.messageID(sender.Address)
	if err != nil {
		return nil, err
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}

	var h strings.Builder
	line := func(s string) { h.WriteString(s); h.WriteString("\r\n") }
	line("Date: " + date.Format(time.RFC1123Z))
	line(addressField("From", []*mail.Address{sender}))
	line(addressField("To", to))
	line(unstructuredField("Subject", m.Subject))
	line("Message-ID: " + msgID)
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("header name %q is not a valid field name", sanitizeHeaderText(k))
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			return nil, fmt.Errorf("header %q is set by the mailer and cannot be overridden", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line(unstructuredField(k, m.Headers[k]))
	}
	line("MIME-Version: 1.0")

	var body bytes.Buffer
	ctype, err := m.writeBody(&body)
	if err != nil {
		return nil, err
	}
	line("Content-Type: " + ctype)
	if !strings.HasPrefix(ctype, "multipart/") {
		line("Content-Transfer-Encoding: quoted-printable")
	}
	line("")
	return append([]byte(h.String()), body.Bytes()...), nil
}

// recipients parses To; at least one is required.
func (m *Message) recipients() ([]*mail.Address, error) {
	if len(m.To) == 0 {
		return nil, errors.New("message has no recipient")
	}
	out := make([]*mail.Address, len(m.To))
	for i, s := range m.To {
		a, err := parseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %q: %w", sanitizeHeaderText(s), err)
		}
		out[i] = a
	}
	return out, nil
}

// messageID returns m.MessageID after checking it, or a random one.
func (m *Message) messageID(fromAddr string) (string, error) {
	if m.MessageID == "" {
		var b [16]byte
		rand.Read(b[:])
		domain := fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
		return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">", nil
	}
	id := m.MessageID
	ok := len(id) > 4 && len(id) <= 250 && id[0] == '<' && id[len(id)-1] == '>' &&
		strings.Count(id, "@") == 1 && !strings.HasPrefix(id, "<@") && !strings.HasSuffix(id, "@>")
	for i := 1; ok && i < len(id)-1; i++ {
		c := id[i]
		ok = c > 32 && c < 127 && c != '<' && c != '>' && c != '"' && c != '\\' && c != '(' && c != ')' && c != ','
	}
	if !ok {
		return "", fmt.Errorf("Message-ID %q is not of the form <left@right>", sanitizeHeaderText(id))
	}
	return id, nil
}

// writeBody writes the MIME body and returns the top-level Content-Type:
// text/plain (or text/html) alone, multipart/alternative for both, inside
// multipart/mixed when there are attachments.
func (m *Message) writeBody(w *bytes.Buffer) (string, error) {
	if len(m.Attachments) == 0 {
		return writeTextBodyTo(w, m.Text, m.HTML), nil
	}
	mw := multipart.NewWriter(w)
	inner := textproto.MIMEHeader{}
	var innerBody bytes.Buffer
	ctype := writeTextBodyTo(&innerBody, m.Text, m.HTML)
	inner.Set("Content-Type", ctype)
	if !strings.HasPrefix(ctype, "multipart/") {
		inner.Set("Content-Transfer-Encoding", "quoted-printable")
	}
	pw, err := mw.CreatePart(inner)
	if err != nil {
		return "", err
	}
	pw.Write(innerBody.Bytes())
	for _, a := range m.Attachments {
		if err := writeAttachment(mw, a); err != nil {
			return "", err
		}
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	return mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}), nil
}

// writeTextBodyTo writes the text and/or HTML parts and returns their
// Content-Type. Writes into a bytes.Buffer cannot fail.
func writeTextBodyTo(w *bytes.Buffer, text, html string) string {
	const plain, htm = "text/plain; charset=utf-8", "text/html; charset=utf-8"
	switch {
	case html == "":
		writeQP(w, text)
		return plain
	case text == "":
		writeQP(w, html)
		return htm
	}
	mw := multipart.NewWriter(w)
	for _, p := range []struct{ ctype, body string }{{plain, text}, {htm, html}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", p.ctype)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, _ := mw.CreatePart(h)
		var b bytes.Buffer
		writeQP(&b, p.body)
		pw.Write(b.Bytes())
	}
	mw.Close()
	return mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})
}

// writeQP writes s quoted-printable with CRLF line breaks (any of CRLF, LF
// or CR in s is a line break), ending with CRLF.
func writeQP(w *bytes.Buffer, s string) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	qp := quotedprintable.NewWriter(w)
	qp.Write([]byte(s))
	qp.Close()
	if w.Len() > 0 && !bytes.HasSuffix(w.Bytes(), []byte("\r\n")) {
		w.WriteString("\r\n")
	}
}

// writeAttachment adds one base64 part with a safe file name.
func writeAttachment(mw *multipart.Writer, a Attachment) error {
	name := sanitizeHeaderText(a.Name)
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	name = truncateBytes(name, 250) // RFC 2231 %-encoding triples it; the line must stay under 998
	if name == "" {
		name = "attachment"
	}
	ctype := a.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(path.Ext(name))
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt, params = "application/octet-stream", nil
	}
	if params == nil {
		params = map[string]string{}
	}
	params["name"] = name
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", formatMediaType(mt, params))
	h.Set("Content-Disposition", formatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Transfer-Encoding", "base64")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(a.Data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	_, err = pw.Write([]byte(b.String()))
	return err
}

// formatMediaType is mime.FormatMediaType with a fallback for values it
// refuses, folded between parameters.
func formatMediaType(t string, params map[string]string) string {
	s := mime.FormatMediaType(t, params)
	if s == "" {
		s = t
	}
	return strings.ReplaceAll(s, "; ", ";\r\n ")
}
