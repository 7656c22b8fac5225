package vtiger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// orgChart is what recipient resolution needs of roles and groups, read in
// one consistent snapshot.
type orgChart struct {
	userRoles []userRole // vtiger_user2role rows of existing users, by user id
	roles     []roleRow  // vtiger_role
	members   map[int64][]int64
	roles2    map[int64][]string // vtiger_group2role
	rs        map[int64][]string // vtiger_group2rs
	subgroups map[int64][]int64  // vtiger_group2grouprel
}

type userRole struct {
	userID     int64
	roleID     string
	roleFound  bool   // the role exists in vtiger_role
	parentRole string // of the user's role
	parentNull bool
}

type roleRow struct {
	id         string
	parentRole string
	parentNull bool
}

// roleUsers is getRoleUsers: users whose vtiger_user2role.roleid = roleID.
func (o *orgChart) roleUsers(roleID string) []int64 {
	var out []int64
	for _, ur := range o.userRoles {
		if sqlEqualCI(ur.roleID, roleID) {
			out = append(out, ur.userID)
		}
	}
	return out
}

// roleAndSubordinateUsers is getRoleAndSubordinateUsers: users whose role's
// parentrole is LIKE the parentrole of roleID followed by '%'. A missing
// role (or NULL parentrole) makes the pattern '%': every user with a role.
func (o *orgChart) roleAndSubordinateUsers(roleID string) []int64 {
	prefix := ""
	for _, r := range o.roles {
		if sqlEqualCI(r.id, roleID) {
			prefix = r.parentRole
			break
		}
	}
	pattern := prefix + "%"
	var out []int64
	for _, ur := range o.userRoles {
		if ur.roleFound && !ur.parentNull && sqlLike(ur.parentRole, pattern) {
			out = append(out, ur.userID)
		}
	}
	return out
}

// groupUsers is GetGroupUsers::getAllUsersInGroup: direct members, users of
// the group's roles, of its roles and subordinates, then of its subgroups,
// depth first. Each group is expanded once, so cycles end (Vtiger's own
// recursion does not).
func (o *orgChart) groupUsers(groupID int64) []int64 {
	var out []int64
	seenUser := map[int64]bool{}
	seenGroup := map[int64]bool{}
	add := func(ids []int64) {
		for _, id := range ids {
			if !seenUser[id] {
				seenUser[id] = true
				out = append(out, id)
			}
		}
	}
	var walk func(g int64)
	walk = func(g int64) {
		seenGroup[g] = true
		add(o.members[g])
		for _, r := range o.roles2[g] {
			add(o.roleUsers(r))
		}
		for _, r := range o.rs[g] {
			add(o.roleAndSubordinateUsers(r))
		}
		for _, sub := range o.subgroups[g] {
			if !seenGroup[sub] {
				walk(sub)
			}
		}
	}
	walk(groupID)
	return out
}

func (d *Directory) loadOrgChart(ctx context.Context) (o *orgChart, err error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read roles and groups: %w", err)
	}
	defer func() {
		if rbErr := tx.Rollback(); err == nil && rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = fmt.Errorf("read roles and groups: %w", rbErr)
		}
	}()
	o = &orgChart{
		members:   map[int64][]int64{},
		roles2:    map[int64][]string{},
		rs:        map[int64][]string{},
		subgroups: map[int64][]int64{},
	}
	err = queryEach(ctx, tx, `SELECT ur.userid, ur.roleid, r.roleid IS NOT NULL, COALESCE(r.parentrole, ''), r.parentrole IS NULL
		FROM vtiger_user2role ur
		JOIN vtiger_users u ON u.id = ur.userid
		LEFT JOIN vtiger_role r ON r.roleid = ur.roleid
		ORDER BY ur.userid`, func(rows *sql.Rows) error {
		var ur userRole
		if err := rows.Scan(&ur.userID, &ur.roleID, &ur.roleFound, &ur.parentRole, &ur.parentNull); err != nil {
			return err
		}
		o.userRoles = append(o.userRoles, ur)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = queryEach(ctx, tx, `SELECT roleid, COALESCE(parentrole, ''), parentrole IS NULL FROM vtiger_role ORDER BY roleid`,
		func(rows *sql.Rows) error {
			var r roleRow
			if err := rows.Scan(&r.id, &r.parentRole, &r.parentNull); err != nil {
				return err
			}
			o.roles = append(o.roles, r)
			return nil
		})
	if err != nil {
		return nil, err
	}
	intPairs := []struct {
		query string
		dst   map[int64][]int64
	}{
		{`SELECT groupid, userid FROM vtiger_users2group ORDER BY groupid, userid`, o.members},
		{`SELECT groupid, containsgroupid FROM vtiger_group2grouprel ORDER BY groupid, containsgroupid`, o.subgroups},
	}
	for _, p := range intPairs {
		err = queryEach(ctx, tx, p.query, func(rows *sql.Rows) error {
			var g, v int64
			if err := rows.Scan(&g, &v); err != nil {
				return err
			}
			p.dst[g] = append(p.dst[g], v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	strPairs := []struct {
		query string
		dst   map[int64][]string
	}{
		{`SELECT groupid, roleid FROM vtiger_group2role ORDER BY groupid, roleid`, o.roles2},
		{`SELECT groupid, roleandsubid FROM vtiger_group2rs ORDER BY groupid, roleandsubid`, o.rs},
	}
	for _, p := range strPairs {
		err = queryEach(ctx, tx, p.query, func(rows *sql.Rows) error {
			var g int64
			var v string
			if err := rows.Scan(&g, &v); err != nil {
				return err
			}
			p.dst[g] = append(p.dst[g], v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func queryEach(ctx context.Context, tx *sql.Tx, query string, each func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("read roles and groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return fmt.Errorf("read roles and groups: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read roles and groups: %w", err)
	}
	return nil
}
