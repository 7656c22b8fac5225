package tracker

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// API tokens look like dxt_ followed by 40 lowercase hex digits (160 random
// bits). Only the SHA-256 of the whole string is stored: a leaked table does
// not hand out working tokens, and the random part is far too long to guess,
// so no slow hash is needed.
const (
	TokenPrefix    = "dxt_"
	tokenRandBytes = 20
	tokenLen       = len(TokenPrefix) + 2*tokenRandBytes
	tokenNameMax   = 100
	// A token's last_used_at is refreshed at most this often, so a busy
	// client does not turn every read into a write.
	tokenTouchInterval = time.Minute
)

var (
	// ErrTokenUnknown means no token has this value (or it is malformed).
	ErrTokenUnknown = errors.New("unknown API token")
	// ErrTokenRevoked means the token existed but was revoked.
	ErrTokenRevoked = errors.New("API token revoked")
	// ErrTokenExpired means the token's expiry time has passed.
	ErrTokenExpired = errors.New("API token expired")
)

// TokenInfo is a stored token without its secret.
type TokenInfo struct {
	ID         uint64     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"` // nil: never
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Revoked reports whether the token was revoked.
func (t TokenInfo) Revoked() bool { return t.RevokedAt != nil }

// HashToken is the stored form of a token: lowercase hex SHA-256.
func HashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether s has the shape of a token.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	for _, c := range s[len(TokenPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CreateToken makes a new token called name and returns its plaintext, which
// is never stored and cannot be shown again.
func CreateToken(ctx context.Context, q Querier, name string) (plaintext string, id uint64, err error) {
	return CreateExpiringToken(ctx, q, name, nil)
}

// CreateExpiringToken is CreateToken for a token refused from expires on
// (nil: never).
func CreateExpiringToken(ctx context.Context, q Querier, name string, expires *time.Time) (plaintext string, id uint64, err error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > tokenNameMax || !utf8.ValidString(name) {
		return "", 0, fmt.Errorf("create token: name must be 1 to %d characters", tokenNameMax)
	}
	b := make([]byte, tokenRandBytes)
	if _, err := rand.Read(b); err != nil {
		return "", 0, fmt.Errorf("create token: %w", err)
	}
	plaintext = TokenPrefix + hex.EncodeToString(b)
	var exp any
	if expires != nil {
		exp = expires.UTC()
	}
	res, err := q.ExecContext(ctx, `INSERT INTO dxt_api_token (name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		name, HashToken(plaintext), time.Now().UTC(), exp)
	if err != nil {
		return "", 0, fmt.Errorf("create token %q: %w", name, err)
	}
	lid, err := res.LastInsertId()
	if err != nil {
		return "", 0, fmt.Errorf("create token %q: read id: %w", name, err)
	}
	return plaintext, uint64(lid), nil
}

const tokenColumns = `id, name, created_at, expires_at, last_used_at, revoked_at`

func scanToken(r rowScanner) (TokenInfo, error) {
	var (
		t                      TokenInfo
		expires, used, revoked sql.NullTime
	)
	if err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &expires, &used, &revoked); err != nil {
		return TokenInfo{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt = nullTime(expires)
	t.LastUsedAt = nullTime(used)
	t.RevokedAt = nullTime(revoked)
	return t, nil
}

func nullTime(v sql.NullTime) *time.Time {
	if !v.Valid {
		return nil
	}
	t := v.Time.UTC()
	return &t
}

// ListTokens returns every token, revoked ones included, oldest first.
func ListTokens(ctx context.Context, q Querier) ([]TokenInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM dxt_api_token ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes token id at once; revoking twice is not an error.
// It returns ErrNotFound if there is no such token.
func RevokeToken(ctx context.Context, q Querier, id uint64) error {
	res, err := q.ExecContext(ctx, `UPDATE dxt_api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, time.Now().UTC(), id)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM dxt_api_token WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}

// VerifyToken looks the plaintext token up and returns it, or
// ErrTokenUnknown / ErrTokenRevoked (wrapped; test with errors.Is). A good
// token's last_used_at is refreshed at most once a minute.
func VerifyToken(ctx context.Context, q Querier, plaintext string) (TokenInfo, error) {
	if !wellFormedToken(plaintext) {
		return TokenInfo{}, ErrTokenUnknown
	}
	// The lookup is by hash, so its timing says nothing about the secret.
	t, err := scanToken(q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM dxt_api_token WHERE token_hash = ?`, HashToken(plaintext)))
	if errors.Is(err, sql.ErrNoRows) {
		return TokenInfo{}, ErrTokenUnknown
	}
	if err != nil {
		return TokenInfo{}, fmt.Errorf("verify token: %w", err)
	}
	if t.Revoked() {
		return t, fmt.Errorf("token %d (%s): %w", t.ID, t.Name, ErrTokenRevoked)
	}
	now := time.Now().UTC()
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return t, fmt.Errorf("token %d (%s) expired at %s: %w", t.ID, t.Name, t.ExpiresAt.Format(time.RFC3339), ErrTokenExpired)
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenTouchInterval {
		// The condition repeats in SQL so concurrent requests write once.
		if _, err := q.ExecContext(ctx, `UPDATE dxt_api_token SET last_used_at = ?
WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`, now, t.ID, now.Add(-tokenTouchInterval)); err != nil {
			return TokenInfo{}, fmt.Errorf("verify token %d: record use: %w", t.ID, err)
		}
		t.LastUsedAt = &now
	}
	return t, nil
}
