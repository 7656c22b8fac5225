package beacon

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestTokenRoundTripsAndNamesItsUser(t *testing.T) {
	now := time.Unix(1733300000, 0)
	tok := Sign(testSecret, 5, now.Add(12*time.Hour))
	uid, err := VerifyToken(tok, testSecret, now)
	if err != nil || uid != 5 {
		t.Fatalf("VerifyToken = %d, %v", uid, err)
	}
	// The extension's PHP (Dxt_Token::issue) gives this exact text.
	if want := "v1.5.1733343200."; !strings.HasPrefix(tok, want) || len(tok) != len(want)+64 {
		t.Fatalf("token %q", tok)
	}
}

func TestTokenRefusals(t *testing.T) {
	now := time.Unix(1733300000, 0)
	good := Sign(testSecret, 5, now.Add(time.Hour))
	flip := []byte(good)
	if flip[len(flip)-1] == '0' {
		flip[len(flip)-1] = '1'
	} else {
		flip[len(flip)-1] = '0'
	}
	for _, c := range []struct {
		name, token, secret string
		want                error
	}{
		{"expired", Sign(testSecret, 5, now.Add(-time.Second)), testSecret, ErrTokenExpired},
		{"expires now", Sign(testSecret, 5, now), testSecret, ErrTokenExpired},
		{"over 12h ahead", Sign(testSecret, 5, now.Add(MaxTokenTTL+ClockSkew+time.Minute)), testSecret, ErrTokenTooLong},
		{"other secret", Sign("another secret of enough length, really!", 5, now.Add(time.Hour)), testSecret, ErrTokenForged},
		{"flipped mac", string(flip), testSecret, ErrTokenForged},
		{"other user, same mac", strings.Replace(good, "v1.5.", "v1.6.", 1), testSecret, ErrTokenForged},
		{"no secret", good, "", ErrNoSecret},
		{"empty", "", testSecret, ErrTokenMalformed},
		{"v2", "v2" + good[2:], testSecret, ErrTokenMalformed},
		{"upper hex", strings.ToUpper(good[:0]) + good[:len(good)-64] + strings.ToUpper(good[len(good)-64:]), testSecret, ErrTokenMalformed},
		{"leading zero user", strings.Replace(good, "v1.5.", "v1.05.", 1), testSecret, ErrTokenMalformed},
		{"user zero", strings.Replace(good, "v1.5.", "v1.0.", 1), testSecret, ErrTokenMalformed},
		{"negative user", strings.Replace(good, "v1.5.", "v1.-5.", 1), testSecret, ErrTokenMalformed},
		{"user beyond INT", Sign(testSecret, 1<<31, now.Add(time.Hour)), testSecret, ErrTokenMalformed},
		{"short mac", good[:len(good)-1], testSecret, ErrTokenMalformed},
		{"extra part", good + ".00", testSecret, ErrTokenMalformed},
		{"too long", good + strings.Repeat("0", 200), testSecret, ErrTokenMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			uid, err := VerifyToken(c.token, c.secret, now)
			if !errors.Is(err, c.want) || uid != 0 {
				t.Fatalf("VerifyToken(%q) = %d, %v; want %v", c.token, uid, err, c.want)
			}
		})
	}
}

// FuzzParseToken: no input panics, and whatever parses prints back to
// itself (the parser accepts exactly one spelling per token).
func FuzzParseToken(f *testing.F) {
	now := time.Unix(1733300000, 0)
	f.Add(Sign(testSecret, 5, now.Add(time.Hour)))
	f.Add("v1.1.1.")
	f.Add("v1.2147483647.999999999999." + strings.Repeat("a", 64))
	f.Add("v1..." + strings.Repeat("0", 64))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			if !errors.Is(err, ErrTokenMalformed) {
				t.Fatalf("ParseToken(%q): unexpected error %v", s, err)
			}
			return
		}
		if tok.UserID < 1 || tok.UserID > 1<<31-1 || tok.Expiry < 1 {
			t.Fatalf("ParseToken(%q) = %+v", s, tok)
		}
		back := Sign("", tok.UserID, time.Unix(tok.Expiry, 0))
		if back[:len(back)-65] != s[:len(s)-65] {
			t.Fatalf("ParseToken(%q) = %+v does not print back", s, tok)
		}
		if _, err := VerifyToken(s, testSecret, now); err == nil && s != Sign(testSecret, tok.UserID, time.Unix(tok.Expiry, 0)) {
			t.Fatalf("VerifyToken accepted a token it did not sign: %q", s)
		}
	})
}
