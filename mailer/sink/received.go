package sink

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Received is one message the sink accepted.
type Received struct {
	From      string   // envelope sender (MAIL FROM)
	To        []string // envelope recipients (RCPT TO)
	Data      []byte   // the message as received, CRLF line endings, dots unstuffed
	Subject   string   // decoded Subject header ("" when the message does not parse)
	MessageID string   // Message-ID header, with its angle brackets
	Header    mail.Header
	User      string // AUTH user, "" when none
	AuthMech  string // "PLAIN" or "LOGIN" when authenticated
	TLS       bool   // received over TLS (implicit or STARTTLS)
	At        time.Time
	ParseErr  error // why Data did not parse as an RFC 5322 message, if it did not
}

func newReceived(from string, to []string, data []byte) Received {
	r := Received{From: from, To: to, Data: data}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		r.ParseErr = err
		return r
	}
	r.Header = m.Header
	r.MessageID = m.Header.Get("Message-Id")
	r.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		r.ParseErr = err
	}
	return r
}

// Part is one leaf of a received MIME message, transfer encoding removed.
type Part struct {
	ContentType string // media type without parameters, e.g. "text/plain"
	Charset     string
	Filename    string // decoded, for attachments
	Body        []byte
}

// Parts walks the MIME tree of the message and returns its leaves in order.
func (r Received) Parts() ([]Part, error) {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return nil, err
	}
	var out []Part
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Header.Get("Content-Disposition"), m.Body, &out)
	return out, err
}

// Text returns the first text/plain and text/html bodies.
func (r Received) Text() (text, html string, err error) {
	parts, err := r.Parts()
	if err != nil {
		return "", "", err
	}
	var seenText, seenHTML bool
	for _, p := range parts {
		switch {
		case p.ContentType == "text/plain" && p.Filename == "" && !seenText:
			text, seenText = string(p.Body), true
		case p.ContentType == "text/html" && p.Filename == "" && !seenHTML:
			html, seenHTML = string(p.Body), true
		}
	}
	return text, html, nil
}

func walk(ctype, cte, disp string, body io.Reader, out *[]Part) error {
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			h := p.Header
			if err := walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), h.Get("Content-Disposition"), p, out); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // ignores CR and LF
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, err)
	}
	p := Part{ContentType: mt, Charset: params["charset"], Body: data}
	if _, dp, err := mime.ParseMediaType(disp); err == nil {
		p.Filename = dp["filename"]
	}
	if p.Filename == "" && params["name"] != "" && disp != "" {
		p.Filename = params["name"]
	}
	*out = append(*out, p)
	return nil
}
