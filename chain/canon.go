package chain

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Link operations (dxt_chain.op).
const (
	OpInsert = "insert" // the processor inserted the event
	OpAdopt  = "adopt"  // the event existed before the chain (schema version 5) and was linked once
	OpUpdate = "update" // a legitimate change: a merge, a rule match, the content cap
	OpPurge  = "purge"  // retention deleted the event (fields: {"purge_id":N})
)

// GenesisHash is the prev_hash of the first link ever.
var GenesisHash = strings.Repeat("0", 64)

// dateFormat is how DATETIME(6) values enter the encoding: the server
// formats them (DATE_FORMAT), so no driver or time zone setting can change
// the text.
const dateFormat = `'%Y-%m-%d %H:%i:%s.%f'`

// goDateFormat is the same format in Go, for the link time the writer sets.
const goDateFormat = "2006-01-02 15:04:05.000000"

// Fields is what a link attests of an event: every column but content_id
// (the content enters by what it is, not where it is stored), notify_state
// and notified_at (delivery bookkeeping, changed by the outbox worker long
// after the event), and chain_seq/chain_hash (the link itself). details
// enters by the SHA-256 of its canonical JSON, rule matches included.
type Fields struct {
	ID            uint64   `json:"id"`
	OccurredAt    string   `json:"occurred_at"`
	Type          string   `json:"type"`
	UserID        *int64   `json:"user_id"`
	UserName      *string  `json:"user_name"`
	Module        *string  `json:"module"`
	RecordCount   *int64   `json:"record_count"`
	IP            *string  `json:"ip"`
	UserAgent     *string  `json:"user_agent"`
	Source        string   `json:"source"`
	ReportID      *int64   `json:"report_id"`
	DedupeKey     string   `json:"dedupe_key"`
	CreatedAt     string   `json:"created_at"`
	DetailsSHA256 string   `json:"details_sha256"`
	Content       *Content `json:"content"`
}

// Content is the captured content as a link attests it. Missing is set
// when the event points to a content row that does not exist.
type Content struct {
	SHA256    string  `json:"sha256,omitempty"`
	Size      int64   `json:"size,omitempty"`
	Name      *string `json:"name,omitempty"`
	MediaType *string `json:"media_type,omitempty"`
	Truncated bool    `json:"truncated,omitempty"`
	Missing   bool    `json:"missing,omitempty"`
}

// eventColumns reads an event as the encoding needs it; scanEvent scans it.
const eventColumns = `e.id, DATE_FORMAT(e.occurred_at, ` + dateFormat + `), e.type, e.user_id, e.user_name, e.module, e.record_count,
  e.ip, e.user_agent, e.source, e.details, e.report_id, e.dedupe_key, DATE_FORMAT(e.created_at, ` + dateFormat + `),
  e.content_id, c.sha256, c.size, c.name, c.media_type, c.truncated, e.chain_seq, e.chain_hash`

const eventFrom = ` FROM dxt_event e LEFT JOIN dxt_content c ON c.id = e.content_id`

// eventRow is one event as read, before encoding.
type eventRow struct {
	f         Fields
	details   string
	contentID sql.NullInt64
	cSHA      sql.NullString
	cSize     sql.NullInt64
	cName     sql.NullString
	cType     sql.NullString
	cTrunc    sql.NullBool
	chainSeq  sql.NullInt64
	chainHash sql.NullString
}

type scanner interface{ Scan(dest ...any) error }

// scanEvent scans eventColumns, then the columns that follow into extra.
func scanEvent(s scanner, extra ...any) (eventRow, error) {
	var r eventRow
	var uid, rc, rid sql.NullInt64
	var uname, mod, ip, ua sql.NullString
	dest := append([]any{&r.f.ID, &r.f.OccurredAt, &r.f.Type, &uid, &uname, &mod, &rc, &ip, &ua, &r.f.Source, &r.details,
		&rid, &r.f.DedupeKey, &r.f.CreatedAt, &r.contentID, &r.cSHA, &r.cSize, &r.cName, &r.cType, &r.cTrunc, &r.chainSeq, &r.chainHash}, extra...)
	err := s.Scan(dest...)
	if err != nil {
		return r, err
	}
	r.f.UserID, r.f.RecordCount, r.f.ReportID = nullInt(uid), nullInt(rc), nullInt(rid)
	r.f.UserName, r.f.Module, r.f.IP, r.f.UserAgent = nullStr(uname), nullStr(mod), nullStr(ip), nullStr(ua)
	return r, nil
}

// encode completes the fields (details digest, content) and returns their
// canonical JSON.
func (r *eventRow) encode() (string, error) {
	r.f.DetailsSHA256 = DetailsDigest(r.details)
	r.f.Content = nil
	switch {
	case r.cSHA.Valid:
		r.f.Content = &Content{SHA256: strings.ToLower(r.cSHA.String), Size: r.cSize.Int64, Name: nullStr(r.cName),
			MediaType: nullStr(r.cType), Truncated: r.cTrunc.Bool}
	case r.contentID.Valid:
		r.f.Content = &Content{Missing: true}
	}
	b, err := json.Marshal(r.f)
	if err != nil {
		return "", fmt.Errorf("encode event %d: %w", r.f.ID, err)
	}
	return string(b), nil
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func nullStr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// DetailsDigest is the hex SHA-256 of the canonical form of a details
// text: the JSON value with object keys sorted, insignificant white space
// dropped, strings as Go encodes them and numbers normalised (1.0, 1e0 and
// 1 are one number), so MariaDB's or MySQL's JSON_SET rewriting the text
// changes nothing. A text that is not JSON is hashed as it is, marked so.
func DetailsDigest(details string) string {
	h := sha256.New()
	if c, ok := canonicalJSON(details); ok {
		h.Write([]byte("json:"))
		h.Write(c)
	} else {
		h.Write([]byte("text:"))
		h.Write([]byte(details))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func canonicalJSON(s string) ([]byte, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // trailing data: not one JSON value
	}
	var buf bytes.Buffer
	if err := writeCanonical(&buf, v); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if err := writeCanonical(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(canonicalNumber(string(x)))
	default:
		e, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(e)
	}
	return nil
}

// canonicalNumber writes integers as integers (any size, "-0" as "0") and
// other numbers in Go's shortest float form, integral ones as integers.
func canonicalNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// LinkHash is the hash of one link: SHA-256 over a versioned, line-based
// encoding of the previous link's hash and every column of the link. The
// fields JSON has no raw line break (JSON escapes them), so the encoding
// is unambiguous.
func LinkHash(prevHash string, seq, eventID uint64, version uint32, op, at, fields string) string {
	h := sha256.New()
	fmt.Fprintf(h, "dxt-chain-v1\n%s\n%d\n%d\n%d\n%s\n%s\n", prevHash, seq, eventID, version, op, at)
	h.Write([]byte(fields))
	return hex.EncodeToString(h.Sum(nil))
}

// purgeFields is the fields text of a purge link.
func purgeFields(purgeID uint64) string { return fmt.Sprintf(`{"purge_id":%d}`, purgeID) }

// diffFields names the top-level fields that differ between two fields
// texts, with old and new values ("record_count: 3 -> 999").
func diffFields(was, now string) string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal([]byte(was), &a) != nil || json.Unmarshal([]byte(now), &b) != nil {
		return "fields differ"
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []string
	for _, k := range names {
		x, y := string(a[k]), string(b[k])
		if x == y {
			continue
		}
		if k == "details_sha256" {
			out = append(out, "details")
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s -> %s", k, clip(orNone(x)), clip(orNone(y))))
	}
	if len(out) == 0 {
		return "fields differ"
	}
	return strings.Join(out, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
