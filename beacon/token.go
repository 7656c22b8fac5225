package beacon

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Token format (CONTRACTS §6): v1.<user_id>.<expiry_unix_seconds>.<hex>,
// <hex> the lowercase hex HMAC-SHA256 of "v1.<user_id>.<expiry>" under
// dxt_config.beacon_secret exactly as stored.
const (
	tokenVersion = "v1"
	// MaxTokenTTL is the longest a token may live: the extension issues
	// tokens for at most 12 hours.
	MaxTokenTTL = 12 * time.Hour
	// ClockSkew is how far the issuing PHP host's clock may run ahead of the
	// daemon's before a token's expiry counts as "too far in the future".
	ClockSkew = 2 * time.Minute
	// maxTokenLen bounds the work spent on a token: "v1." + 10 digits + "."
	// + 12 digits + "." + 64 hex digits is 91 bytes.
	maxTokenLen = 128
	macHexLen   = 2 * sha256.Size
)

// Errors of VerifyToken. All of them are answered 401; the distinction is
// for metrics and tests, never for the client.
var (
	ErrTokenMalformed = errors.New("beacon token malformed")
	ErrTokenForged    = errors.New("beacon token signature does not match")
	ErrTokenExpired   = errors.New("beacon token expired")
	ErrTokenTooLong   = errors.New("beacon token expiry lies more than 12 hours ahead")
	ErrNoSecret       = errors.New("beacon_secret is not set")
)

// Token is a parsed, not yet verified, beacon token.
type Token struct {
	UserID int64
	Expiry int64 // unix seconds
	// signed is the text the MAC covers: "v1.<user_id>.<expiry>".
	signed string
	mac    [sha256.Size]byte
}

// ParseToken checks the shape of a token: version v1, a user id of 1 to 10
// digits without leading zero that fits vtiger_users.id (INT), an expiry of 1
// to 12 digits without leading zero and 64 lowercase hex digits. It checks
// nothing cryptographic.
func ParseToken(s string) (Token, error) {
	var t Token
	if len(s) > maxTokenLen || len(s) < len(tokenVersion)+1 || s[:len(tokenVersion)+1] != tokenVersion+"." {
		return t, ErrTokenMalformed
	}
	rest := s[len(tokenVersion)+1:]
	uid, rest, ok := digits(rest, 10)
	if !ok {
		return t, ErrTokenMalformed
	}
	exp, rest, ok := digits(rest, 12)
	if !ok {
		return t, ErrTokenMalformed
	}
	// What is left is the MAC: exactly 64 lowercase hex digits, no dot.
	if len(rest) != macHexLen {
		return t, ErrTokenMalformed
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return t, ErrTokenMalformed
		}
	}
	if _, err := hex.Decode(t.mac[:], []byte(rest)); err != nil {
		return t, ErrTokenMalformed
	}
	u, err := strconv.ParseInt(uid, 10, 64)
	if err != nil || u > 1<<31-1 {
		return t, ErrTokenMalformed
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return t, ErrTokenMalformed
	}
	t.UserID, t.Expiry = u, e
	t.signed = s[:len(s)-macHexLen-1]
	return t, nil
}

// digits takes a run of 1..max decimal digits without a leading zero,
// followed by a dot, from the front of s.
func digits(s string, max int) (num, rest string, ok bool) {
	i := 0
	for i < len(s) && i <= max && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i > max || i >= len(s) || s[i] != '.' || s[0] == '0' {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// Sign returns the token for userID valid until expiry under secret, as
// the extension issues it. The daemon never issues tokens; tests and the
// benchmark do.
func Sign(secret string, userID int64, expiry time.Time) string {
	signed := tokenVersion + "." + strconv.FormatInt(userID, 10) + "." + strconv.FormatInt(expiry.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signed))
	return signed + "." + hex.EncodeToString(m.Sum(nil))
}

// VerifyToken parses s and checks it against secret at time now: the MAC
// first, in constant time, then the expiry (not past, and at most
// MaxTokenTTL plus ClockSkew ahead). It returns the user id.
func VerifyToken(s, secret string, now time.Time) (int64, error) {
	if secret == "" {
		return 0, ErrNoSecret
	}
	t, err := ParseToken(s)
	if err != nil {
		return 0, err
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t.signed))
	var sum [sha256.Size]byte
	if !hmac.Equal(m.Sum(sum[:0]), t.mac[:]) {
		return 0, ErrTokenForged
	}
	n := now.Unix()
	switch {
	case t.Expiry <= n:
		return 0, ErrTokenExpired
	case t.Expiry-n > int64((MaxTokenTTL + ClockSkew).Seconds()):
		return 0, ErrTokenTooLong
	}
	return t.UserID, nil
}
