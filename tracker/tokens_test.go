package tracker

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokenLifecycle(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()

	plain, id, err := CreateToken(ctx, db, "  siem export  ")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^dxt_[0-9a-f]{40}$`).MatchString(plain) {
		t.Errorf("token %q does not look like dxt_ + 40 hex", plain)
	}
	var stored string
	if err := db.QueryRow(`SELECT token_hash FROM dxt_api_token WHERE id = ?`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != HashToken(plain) || strings.Contains(stored, plain[4:]) {
		t.Errorf("stored %q, want only the SHA-256 of the token", stored)
	}

	info, err := VerifyToken(ctx, db, plain)
	if err != nil || info.ID != id || info.Name != "siem export" || info.LastUsedAt == nil {
		t.Fatalf("VerifyToken = %+v, %v", info, err)
	}
	// A second use within the minute does not write last_used_at again.
	var first time.Time
	db.QueryRow(`SELECT last_used_at FROM dxt_api_token WHERE id = ?`, id).Scan(&first)
	if _, err := VerifyToken(ctx, db, plain); err != nil {
		t.Fatal(err)
	}
	var second time.Time
	db.QueryRow(`SELECT last_used_at FROM dxt_api_token WHERE id = ?`, id).Scan(&second)
	if !first.Equal(second) {
		t.Errorf("last_used_at rewritten within a minute: %v then %v", first, second)
	}
	// An hour later it is refreshed.
	db.Exec(`UPDATE dxt_api_token SET last_used_at = last_used_at - INTERVAL 1 HOUR WHERE id = ?`, id)
	if _, err := VerifyToken(ctx, db, plain); err != nil {
		t.Fatal(err)
	}
	var third time.Time
	db.QueryRow(`SELECT last_used_at FROM dxt_api_token WHERE id = ?`, id).Scan(&third)
	if time.Since(third) > time.Minute {
		t.Errorf("last_used_at not refreshed after an hour: %v", third)
	}

	for _, bad := range []string{"", "dxt_", plain[:len(plain)-1], strings.ToUpper(plain), "dxt_" + strings.Repeat("0", 40), plain + "0"} {
		if _, err := VerifyToken(ctx, db, bad); !errors.Is(err, ErrTokenUnknown) {
			t.Errorf("VerifyToken(%q) = %v, want ErrTokenUnknown", bad, err)
		}
	}

	other, otherID, err := CreateToken(ctx, db, "other")
	if err != nil || other == plain {
		t.Fatal(err)
	}
	if err := RevokeToken(ctx, db, id); err != nil {
		t.Fatal(err)
	}
	if err := RevokeToken(ctx, db, id); err != nil {
		t.Errorf("second revoke: %v", err)
	}
	if _, err := VerifyToken(ctx, db, plain); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked token: %v, want ErrTokenRevoked", err)
	}
	if _, err := VerifyToken(ctx, db, other); err != nil {
		t.Errorf("other token after revoking the first: %v", err)
	}
	if err := RevokeToken(ctx, db, 424242); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke missing: %v, want ErrNotFound", err)
	}

	list, err := ListTokens(ctx, db)
	if err != nil || len(list) != 2 || list[0].ID != id || !list[0].Revoked() || list[1].ID != otherID || list[1].Revoked() {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
	for _, name := range []string{"", "   ", strings.Repeat("x", 101)} {
		if _, _, err := CreateToken(ctx, db, name); err == nil {
			t.Errorf("CreateToken(%q) accepted", name)
		}
	}
}

func TestExpiredTokenIsRefusedAndAFutureOneAccepted(t *testing.T) {
	db := migratedDB(t)
	ctx := context.Background()
	past, future := time.Now().UTC().Add(-time.Second), time.Now().UTC().Add(time.Hour)
	old, _, err := CreateExpiringToken(ctx, db, "old", &past)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := CreateExpiringToken(ctx, db, "fresh", &future)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(ctx, db, old); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("expired token: %v, want ErrTokenExpired", err)
	}
	info, err := VerifyToken(ctx, db, fresh)
	if err != nil || info.ExpiresAt == nil || !info.ExpiresAt.Equal(future.Truncate(time.Microsecond)) {
		t.Fatalf("token valid for an hour: %+v %v", info, err)
	}
}
