package vtiger

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Session is one row of vtiger_loginhistory: a sign-in and, once the user
// signed off, its end.
type Session struct {
	LoginID    int64      `json:"login_id"`
	IP         string     `json:"ip"`
	LoginTime  *time.Time `json:"login_time"`
	LogoutTime *time.Time `json:"logout_time"` // set when the user signed off
	Status     string     `json:"status"`
}

// LoginSessions reads the user's login history rows with a login in
// [from, to), newest first, at most limit, plus the newest login before
// from (the session the earliest take-outs of the range belong to, and
// whose logout may lie in the range). more is true when the range held more.
//
// vtiger_loginhistory: login_time is when the user signed in; status is
// 'Signed in' until Vtiger's logout sets 'Signed off' and logout_time.
func (d *Directory) LoginSessions(ctx context.Context, user string, from, to *time.Time, limit int) ([]Session, bool, error) {
	if !storableName(user) {
		return nil, false, nil // vtiger_loginhistory cannot hold that name
	}
	lo, hi := time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if from != nil {
		lo = *from
	}
	if to != nil {
		hi = *to
	}
	out, err := d.querySessions(ctx, `WHERE user_name = ? AND login_time >= ? AND login_time < ?
ORDER BY login_time DESC, login_id DESC LIMIT ?`, user, lo, hi, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if from != nil {
		before, err := d.querySessions(ctx, `WHERE user_name = ? AND login_time < ?
ORDER BY login_time DESC, login_id DESC LIMIT 1`, user, lo)
		if err != nil {
			return nil, false, err
		}
		out = append(out, before...)
	}
	return out, more, nil
}

func (d *Directory) querySessions(ctx context.Context, where string, args ...any) ([]Session, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT login_id, COALESCE(user_ip, ''), login_time, logout_time, COALESCE(status, '')
FROM vtiger_loginhistory `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("vtiger: read login history: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var login, logout sql.NullTime
		if err := rows.Scan(&ss.LoginID, &ss.IP, &login, &logout, &ss.Status); err != nil {
			return nil, fmt.Errorf("vtiger: read login history: %w", err)
		}
		if login.Valid && !login.Time.IsZero() {
			t := login.Time.UTC()
			ss.LoginTime = &t
		}
		// Vtiger writes logout_time at login too; only a sign-off sets it
		// for real.
		if logout.Valid && !logout.Time.IsZero() && strings.EqualFold(ss.Status, "Signed off") {
			t := logout.Time.UTC()
			ss.LogoutTime = &t
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}
