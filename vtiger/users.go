package vtiger

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Errors of AuthenticateAdmin. The API answers 401 and 403.
var (
	ErrBadCredentials = errors.New("vtiger: unknown user, wrong access key, or user not active")
	ErrNotAdmin       = errors.New("vtiger: user is not an administrator")
)

// User is a row of vtiger_users. Text columns that are NULL read as "".
type User struct {
	ID                  int64
	UserName            string
	FirstName, LastName string
	Email               string // email1, the address Vtiger mails to (getUserEmail)
	IsAdmin             bool   // is_admin = 'on'
	Active              bool   // status = 'Active'
	Deleted             bool   // deleted = 1
	TimeZone            string // time_zone, e.g. "UTC", "Europe/Berlin"

	accessKey string
	inactive  bool // status = 'Inactive': with Deleted, Vtiger_Util_Helper::isUserDeleted
}

// FullName is the user's name as Vtiger shows it (getUserFullName: first and
// last name), trimmed; the user name when both are empty.
func (u User) FullName() string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.UserName
}

// recordLabel is Vtiger_Functions::getUserRecordLabel: first_name and
// last_name joined by a space, untrimmed (vtiger_entityname for Users).
func (u User) recordLabel() string { return u.FirstName + " " + u.LastName }

// skippedByVtiger is Vtiger_Util_Helper::isUserDeleted: deleted = 1 or
// status = 'Inactive'.
func (u User) skippedByVtiger() bool { return u.Deleted || u.inactive }

// userColumns are scanned by scanUser. The comparisons run in MySQL so they
// follow the column's collation as Vtiger's own queries do.
const userColumns = `id, COALESCE(user_name, ''), COALESCE(first_name, ''), COALESCE(last_name, ''),
	COALESCE(email1, ''), COALESCE(is_admin = 'on', 0), COALESCE(status = 'Active', 0),
	COALESCE(status = 'Inactive', 0), deleted = 1, COALESCE(time_zone, ''), COALESCE(accesskey, '')`

func scanUser(rows *sql.Rows) (User, error) {
	var u User
	err := rows.Scan(&u.ID, &u.UserName, &u.FirstName, &u.LastName, &u.Email, &u.IsAdmin,
		&u.Active, &u.inactive, &u.Deleted, &u.TimeZone, &u.accessKey)
	return u, err
}

type userSnapshot struct {
	byID map[int64]User
	ids  []int64 // ascending
}

func (d *Directory) loadUsers(ctx context.Context) (*userSnapshot, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM vtiger_users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_users: %w", err)
	}
	defer rows.Close()
	s := &userSnapshot{byID: map[int64]User{}}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("vtiger: read vtiger_users: %w", err)
		}
		s.byID[u.ID] = u
		s.ids = append(s.ids, u.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vtiger: read vtiger_users: %w", err)
	}
	d.log.Debug().Int("users", len(s.ids)).Msg("user cache loaded")
	return s, nil
}

func (d *Directory) userSnapshot(ctx context.Context) (*userSnapshot, error) {
	return d.users.get(ctx, d.now, d.ttl)
}

// User returns the user with that id, including inactive and deleted users
// (the caller decides what they mean). Unknown ids reload the cache at most
// once per miss-reload interval.
func (d *Directory) User(ctx context.Context, id int64) (User, bool, error) {
	s, err := d.userSnapshot(ctx)
	if err != nil {
		return User{}, false, err
	}
	if u, ok := s.byID[id]; ok {
		return u, true, nil
	}
	s, reloaded, err := d.users.refresh(ctx, d.now, d.missReload)
	if err != nil || !reloaded {
		return User{}, false, err
	}
	u, ok := s.byID[id]
	return u, ok, nil
}

// UserByName returns the user with that user name. Like Vtiger's
// `user_name = ?` the match ignores case; an exact match wins.
func (d *Directory) UserByName(ctx context.Context, name string) (User, bool, error) {
	s, err := d.userSnapshot(ctx)
	if err != nil {
		return User{}, false, err
	}
	if u, ok := s.byName(name); ok {
		return u, true, nil
	}
	s, reloaded, err := d.users.refresh(ctx, d.now, d.missReload)
	if err != nil || !reloaded {
		return User{}, false, err
	}
	u, ok := s.byName(name)
	return u, ok, nil
}

func (s *userSnapshot) byName(name string) (User, bool) {
	var fold *User
	for _, id := range s.ids {
		u := s.byID[id]
		if u.UserName == name {
			return u, true
		}
		if fold == nil && sqlEqualCI(u.UserName, name) {
			fold = &u
		}
	}
	if fold != nil {
		return *fold, true
	}
	return User{}, false
}

// InvalidateUsers makes the next user lookup read vtiger_users again. The
// ingest calls it when the binlog shows a change of vtiger_users.
func (d *Directory) InvalidateUsers() { d.users.invalidate() }

// dummyKey keeps the work for an unknown user the same as for a known one.
const dummyKey = "0000000000000000"

// AuthenticateAdmin checks a Vtiger user name and access key
// (vtiger_users.accesskey, the webservice key) against the database, not
// the cache, so a revoked key or a deactivated user stops working at once.
// It returns ErrBadCredentials for an unknown user, a wrong or empty key, an
// inactive or deleted user, and ErrNotAdmin for valid credentials of a
// non-administrator.
func (d *Directory) AuthenticateAdmin(ctx context.Context, userName, accessKey string) (User, error) {
	if !storableName(userName) {
		// No such user can exist, and MySQL would refuse the comparison.
		subtle.ConstantTimeCompare([]byte(accessKey), []byte(dummyKey))
		return User{}, ErrBadCredentials
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM vtiger_users WHERE user_name = ? ORDER BY id`, userName)
	if err != nil {
		return User{}, fmt.Errorf("vtiger: authenticate %q: %w", userName, err)
	}
	var found []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return User{}, fmt.Errorf("vtiger: authenticate %q: %w", userName, err)
		}
		found = append(found, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return User{}, fmt.Errorf("vtiger: authenticate %q: %w", userName, err)
	}
	// user_name is case-insensitive in MySQL; prefer the exact spelling.
	sort.SliceStable(found, func(i, j int) bool {
		return found[i].UserName == userName && found[j].UserName != userName
	})
	if len(found) == 0 {
		subtle.ConstantTimeCompare([]byte(accessKey), []byte(dummyKey))
		return User{}, ErrBadCredentials
	}
	u := found[0]
	keyOK := subtle.ConstantTimeCompare([]byte(accessKey), []byte(u.accessKey)) == 1
	if !keyOK || accessKey == "" || !u.Active || u.Deleted {
		return User{}, ErrBadCredentials
	}
	if !u.IsAdmin {
		return User{}, ErrNotAdmin
	}
	return u, nil
}

// LastLoginIP returns user_ip of the user's newest vtiger_loginhistory row
// (highest login_id) whose status is 'Signed in', or of the newest row of
// any status when there is none.
func (d *Directory) LastLoginIP(ctx context.Context, userName string) (string, bool, error) {
	var ip string
	err := d.db.QueryRowContext(ctx, `SELECT user_ip FROM vtiger_loginhistory WHERE user_name = ?
		ORDER BY COALESCE(status = 'Signed in', 0) DESC, login_id DESC LIMIT 1`, userName).Scan(&ip)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("vtiger: last login of %q: %w", userName, err)
	}
	return ip, true, nil
}

// storableName reports whether s can be a value of Vtiger's utf8 (3-byte
// utf8mb3) name columns: valid UTF-8 without characters beyond U+FFFF. A
// comparison of such a column with any other text fails in MySQL ("Illegal
// mix of collations"), so lookups of other names answer "no such user"
// without asking.
func storableName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r > 0xFFFF {
			return false
		}
	}
	return true
}
