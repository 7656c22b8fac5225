package tracker

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeCursors feeds any text as the cursor of the events list and of
// the access log: the decoders never panic, every refusal is ErrBadCursor,
// and what they accept is a position a DATETIME(6) column and an unsigned
// id can hold, which encodes back to a cursor that decodes to the same
// position.
func FuzzDecodeCursors(f *testing.F) {
	good := encodeEventCursor(time.Date(2026, 12, 4, 19, 24, 0, 123456000, time.UTC), 42)
	for _, s := range []string{
		"", good, good + "A", good[:len(good)-1], "AAAAAAAAAAAAAAAAAAAAAA", "gAAAAAAAAAAAAAAAAAAAAQ",
		"__________________________________________", strings.Repeat("A", 65), "AAAAAAAAAAE", "AAAAAAAAAAA",
		"' OR 1=1 --", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAA AAAAAAAAAAAAAAAAAA", "\x00", "%FF",
		encodeEventCursor(time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), 1<<63),
		encodeEventCursor(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), 1),
		encodeAccessCursor(1 << 63), encodeAccessCursor(1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := decodeEventCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("event cursor %q: %v is not ErrBadCursor", s, err)
			}
		} else {
			if id == 0 || at.Location() != time.UTC || at.Year() < 1000 || at.Year() > 9999 || at.Nanosecond()%1000 != 0 {
				t.Fatalf("event cursor %q accepted as %v, %d", s, at, id)
			}
			at2, id2, err := decodeEventCursor(encodeEventCursor(at, id))
			if err != nil || !at2.Equal(at) || id2 != id {
				t.Fatalf("event cursor %q: re-encoded it decodes to %v %d %v", s, at2, id2, err)
			}
		}
		aid, err := decodeAccessCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("access cursor %q: %v is not ErrBadCursor", s, err)
			}
			return
		}
		if aid == 0 {
			t.Fatalf("access cursor %q accepted as id 0", s)
		}
		if back, err := decodeAccessCursor(encodeAccessCursor(aid)); err != nil || back != aid {
			t.Fatalf("access cursor %q: round trip %d %v", s, back, err)
		}
		// Only base64url text can be a cursor.
		if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
			t.Fatalf("access cursor %q accepted but is not base64url", s)
		}
	})
}
