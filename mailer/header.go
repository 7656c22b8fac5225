package mailer

import (
	"encoding/base64"
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Header values come from the database (user names, module labels, report
// names). Nothing in them may start a new header line: every control
// character (CR, LF, TAB, NUL, C1, U+2028/2029...) becomes a space before
// the value is encoded and folded by this file's functions.

const (
	foldWidth    = 78  // preferred line length (RFC 5322 2.1.1)
	maxWordBytes = 900 // an ASCII word longer than this cannot be folded under 998
	encChunk     = 39  // raw bytes per encoded word: base64 is 52 chars, the word 64, "Subject: " + word < 78
)

// sanitizeHeaderText replaces control and line-separator characters by a
// space, collapses runs of spaces and trims the ends.
func sanitizeHeaderText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncateRunes shortens s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// truncateBytes shortens s to at most n bytes without cutting a rune.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// unstructuredField formats "Name: value" for an unstructured header
// (Subject, extra headers): sanitised, RFC 2047 encoded when it is not
// plain ASCII, folded, without the final CRLF.
func unstructuredField(name, value string) string {
	value = sanitizeHeaderText(value)
	if needsEncoding(value) {
		return name + ":" + encodeWords(value)
	}
	return fold(name + ": " + value)
}

// needsEncoding is true for non-ASCII text, text that a reader would take
// for an encoded word, and words too long to fold.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	if strings.Contains(s, "=?") {
		return true
	}
	for _, w := range strings.Split(s, " ") {
		if len(w) > maxWordBytes {
			return true
		}
	}
	return false
}

// encodeWords encodes s as RFC 2047 "B" encoded words of UTF-8, each on its
// own folded line (" =?UTF-8?B?...?=" joined by CRLF). Splits never cut a
// UTF-8 sequence.
func encodeWords(s string) string {
	var b strings.Builder
	first := true
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > encChunk {
				break
			}
			n += size
		}
		if !first {
			b.WriteString("\r\n")
		}
		first = false
		b.WriteString(" =?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	if first {
		b.WriteByte(' ')
	}
	return b.String()
}

// fold breaks a header line at spaces so that lines stay within foldWidth
// where the words allow it (each break is CRLF before an existing space).
func fold(line string) string {
	if len(line) <= foldWidth {
		return line
	}
	var b strings.Builder
	lineLen := 0
	for i, w := range strings.Split(line, " ") {
		if i > 0 {
			if lineLen+1+len(w) > foldWidth && lineLen > 0 {
				b.WriteString("\r\n")
				lineLen = 0
			}
			b.WriteByte(' ')
			lineLen++
		}
		b.WriteString(w)
		lineLen += len(w)
	}
	return b.String()
}

// addressField formats "Name: a, b" with one address per folded line.
func addressField(name string, addrs []*mail.Address) string {
	parts := make([]string, len(addrs))
	for i, a := range addrs {
		parts[i] = fold(a.String())
	}
	return name + ": " + strings.Join(parts, ",\r\n ")
}

var (
	errAddrControl  = errors.New("contains a control character (CR, LF...)")
	errAddrNotASCII = errors.New("has non-ASCII characters in the address itself (SMTPUTF8 is not supported)")
	errAddrSyntax   = errors.New("is not a plain local@domain address")
)

// parseAddress parses one RFC 5322 address ("Name <a@b>" or "a@b") and
// checks that the address itself is safe to put in an SMTP command.
func parseAddress(s string) (*mail.Address, error) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return nil, errAddrControl
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(a.Address); i++ {
		c := a.Address[i]
		if c >= utf8.RuneSelf {
			return nil, errAddrNotASCII
		}
		if c <= ' ' || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',' {
			return nil, errAddrSyntax
		}
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 || len(a.Address) > 254 {
		return nil, errAddrSyntax
	}
	a.Name = truncateRunes(sanitizeHeaderText(a.Name), 200)
	return a, nil
}

// validHeaderName checks an extra header's field name (RFC 5322 ftext).
func validHeaderName(k string) bool {
	if k == "" || len(k) > 76 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 33 || k[i] > 126 || k[i] == ':' {
			return false
		}
	}
	return true
}

// reservedHeaders are written by Bytes and may not be set through
// Message.Headers.
var reservedHeaders = map[string]bool{
	"Date": true, "From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true,
	"Message-Id": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Content-Disposition": true, "Sender": true,
}
