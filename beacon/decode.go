package beacon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBody is the largest beacon body accepted (CONTRACTS §6); larger ones
// are answered 413.
const MaxBody = 128 << 10

// Kinds of beacon tracker.js sends.
const (
	KindCopy        = "copy"
	KindCut         = "cut"
	KindContextMenu = "contextmenu"
)

// Longest page fields kept, in characters (longer ones are cut, as the
// relay does): they end up in dxt_intake columns and details.
const (
	maxURL    = 2048
	maxModule = 100
	maxView   = 100
	maxRecord = 64
)

// maxCount is the largest chars/rows/ts accepted: what a JavaScript number
// holds exactly.
const maxCount = 1<<53 - 1

// Beacon is a decoded, validated beacon body. Absent or null page fields
// are "", absent counts are nil. Text is valid UTF-8 (invalid input was
// replaced by U+FFFD while decoding).
type Beacon struct {
	Token  string
	Kind   string
	URL    string
	Module string
	View   string
	Record string
	Chars  *int64
	Rows   *int64
	Text   string
	TS     *int64 // the browser's clock, milliseconds since 1970
}

// DecodeError is a body that is not a valid beacon; its message is the
// reason given to the client with 400.
type DecodeError struct{ msg string }

func (e *DecodeError) Error() string { return e.msg }

func decodeErr(format string, args ...any) error {
	return &DecodeError{msg: fmt.Sprintf(format, args...)}
}

// wire is the JSON shape: exactly the contract's fields.
type wire struct {
	Token  *string         `json:"token"`
	Kind   *string         `json:"kind"`
	URL    *string         `json:"url"`
	Module *string         `json:"module"`
	View   *string         `json:"view"`
	Record json.RawMessage `json:"record"`
	Chars  json.RawMessage `json:"chars"`
	Rows   json.RawMessage `json:"rows"`
	Text   *string         `json:"text"`
	TS     json.RawMessage `json:"ts"`
}

const fieldList = "token, kind, url, module, view, record, chars, rows, text, ts"

// DecodeBeacon parses a beacon body strictly: one JSON object with only the
// contract's fields (token, kind, url, module, view, record, chars, rows,
// text, ts), each of its type, and nothing after it. Errors are
// *DecodeError and say what is wrong; they never quote the body.
func DecodeBeacon(body []byte) (Beacon, error) {
	var b Beacon
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return b, decodeErr("empty body: want a JSON object with the fields %s", fieldList)
	}
	if trimmed[0] != '{' {
		return b, decodeErr("body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var w wire
	if err := dec.Decode(&w); err != nil {
		return b, describeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return b, decodeErr("trailing data after the JSON object")
	}

	if w.Token != nil {
		b.Token = *w.Token
	}
	if w.Kind == nil {
		return b, decodeErr("kind: missing; want \"copy\", \"cut\" or \"contextmenu\"")
	}
	switch *w.Kind {
	case KindCopy, KindCut, KindContextMenu:
		b.Kind = *w.Kind
	default:
		return b, decodeErr("kind: want \"copy\", \"cut\" or \"contextmenu\", got %s", quoteShort(*w.Kind))
	}
	b.URL = clipChars(deref(w.URL), maxURL)
	b.Module = clipChars(deref(w.Module), maxModule)
	b.View = clipChars(deref(w.View), maxView)
	rec, err := recordValue(w.Record)
	if err != nil {
		return b, err
	}
	b.Record = clipChars(rec, maxRecord)
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  **int64
	}{{"chars", w.Chars, &b.Chars}, {"rows", w.Rows, &b.Rows}, {"ts", w.TS, &b.TS}} {
		n, err := count(f.name, f.raw)
		if err != nil {
			return b, err
		}
		*f.dst = n
	}
	b.Text = deref(w.Text)
	return b, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// recordValue accepts a string or a whole number (a record id) or null.
func recordValue(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", decodeErr("record: want a string")
		}
		return s, nil
	}
	n, ok := wholeNumber(raw)
	if !ok {
		return "", decodeErr("record: want a string or a whole number")
	}
	return strconv.FormatInt(n, 10), nil
}

// count reads an optional whole number from 0 to 2^53-1. A float with no
// fraction (17.0, from a client that does float maths) counts as whole.
func count(name string, raw json.RawMessage) (*int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	n, ok := wholeNumber(raw)
	if !ok || n < 0 {
		return nil, decodeErr("%s: want a whole number, 0 or more", name)
	}
	return &n, nil
}

func wholeNumber(raw json.RawMessage) (int64, bool) {
	s := string(raw)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n >= -maxCount && n <= maxCount
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) || math.Abs(f) > maxCount {
		return 0, false
	}
	return int64(f), true
}

// describeJSONError turns a decoder error into a reason for the client.
func describeJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return decodeErr("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return decodeErr("body is not a JSON object")
		}
		want := "a string"
		switch field {
		case "record":
			want = "a string or a whole number"
		case "chars", "rows", "ts":
			want = "a whole number"
		}
		return decodeErr("%s: want %s, got a JSON %s", field, want, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return decodeErr("truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return decodeErr("unknown field %s: a beacon has only %s", clipChars(f, 40), fieldList)
	}
	return decodeErr("malformed JSON")
}

func quoteShort(s string) string {
	return strconv.Quote(clipChars(s, 32))
}

// clipChars cuts s to at most n characters (runes).
func clipChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, c := 0, 0
	for i < len(s) && c < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		c++
	}
	return s[:i]
}
