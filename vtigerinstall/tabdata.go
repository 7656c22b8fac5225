package vtigerinstall

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Vtiger caches vtiger_tab and vtiger_parenttab in two generated PHP files
// in its root, tabdata.php and parent_tabdata.php, and reads module ids and
// their presence from them (vtlib_isModuleActive, getPermittedModuleIdList).
// vtlib rewrites them after every module change (create_tab_data_file and
// create_parenttab_data_file in include/utils/CommonUtils.php, implemented
// by Vtiger_Deprecated::createModuleMetaFile / createModuleGroupMetaFile in
// vtlib/Vtiger/Deprecated.php). Their content is a pure function of the
// tables, so the installer writes the same bytes from Go, without PHP: the
// same statements, the same order, the same array syntax. Like vtlib, it
// only rewrites files that exist; names that would need escaping in a PHP
// string make it leave the file alone and say how to refresh it instead.

// refreshCaches rewrites tabdata.php and parent_tabdata.php from the
// tables as tx sees them, when their content changes.
func refreshCaches(ctx context.Context, tx *sql.Tx, j *journal, root string, rep *Report) error {
	have, err := tableSet(ctx, tx)
	if err != nil {
		return err
	}
	type cache struct {
		file   string
		tables []string
		render func(context.Context, *sql.Tx) ([]byte, error)
	}
	for _, c := range []cache{
		{"tabdata.php", []string{"vtiger_tab", "vtiger_actionmapping"}, renderTabdata},
		{"parent_tabdata.php", []string{"vtiger_tab", "vtiger_parenttab", "vtiger_parenttabrel"}, renderParentTabdata},
	} {
		target := filepath.Join(root, c.file)
		old, err := os.ReadFile(target)
		if errors.Is(err, fs.ErrNotExist) {
			rep.warn("%s is missing from the Vtiger folder; Vtiger normally has it. Vtiger writes it again when a module is enabled or disabled in Settings > Module Manager", c.file)
			continue
		}
		if err != nil {
			return fmt.Errorf("vtiger: read %s: %w", c.file, unwrapPath(err))
		}
		if miss := missingTables(have, c.tables); len(miss) > 0 {
			rep.warn("cannot refresh %s without the tables %s; enable or disable any module in Settings > Module Manager to make Vtiger rewrite it", c.file, strings.Join(miss, ", "))
			continue
		}
		out, err := c.render(ctx, tx)
		var bad unsafeValueError
		if errors.As(err, &bad) {
			rep.warn("did not refresh %s: %v; enable or disable any module in Settings > Module Manager to make Vtiger rewrite it", c.file, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("vtiger: refresh %s: %w", c.file, err)
		}
		if bytes.Equal(old, out) {
			continue
		}
		if err := j.writeFile(target, out, 0); err != nil {
			return fmt.Errorf("vtiger: write %s: %w", c.file, unwrapPath(err))
		}
		rep.change("refreshed Vtiger's module cache %s", c.file)
	}
	return nil
}

// unsafeValueError: a value cannot be written into the PHP source as Vtiger
// writes it (Vtiger does not escape).
type unsafeValueError struct{ what, value string }

func (e unsafeValueError) Error() string {
	return fmt.Sprintf("%s %q cannot be written as Vtiger writes it", e.what, e.value)
}

var (
	phpNameRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	phpIntRe  = regexp.MustCompile(`^-?[0-9]+$`)
)

// orderedMap is a PHP array with string keys: insertion order, the first
// position kept when a key is assigned again.
type orderedMap struct {
	keys []string
	vals map[string]string
}

func newOrderedMap() *orderedMap { return &orderedMap{vals: map[string]string{}} }

func (m *orderedMap) set(k, v string) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// The array notations of Vtiger's generator (constructArray and friends in
// modules/Users/CreateUserPrivilegeFile.php), by what they quote and
// whether every element carries a trailing comma.
func phpArray(m *orderedMap, quoteKey, quoteVal, trailingComma bool) string {
	var b strings.Builder
	b.WriteString("array(")
	for i, k := range m.keys {
		if quoteKey {
			b.WriteString("'" + k + "'")
		} else {
			b.WriteString(k)
		}
		b.WriteString("=>")
		if quoteVal {
			b.WriteString("'" + m.vals[k] + "'")
		} else {
			b.WriteString(m.vals[k])
		}
		if trailingComma || i < len(m.keys)-1 {
			b.WriteString(",")
		}
	}
	b.WriteString(")")
	return b.String()
}

const cacheHeader = "<?php\n\n\n//This file contains the commonly used variables \n\n"

// renderTabdata is tabdata.php for the current tables.
func renderTabdata(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	names, presence, ownedby := newOrderedMap(), newOrderedMap(), newOrderedMap()
	rows, err := tx.QueryContext(ctx, `SELECT tabid, name, presence, ownedby FROM vtiger_tab ORDER BY tabid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		var pres, own sql.NullString
		if err := rows.Scan(&id, &name, &pres, &own); err != nil {
			return nil, err
		}
		if !phpNameRe.MatchString(name) {
			return nil, unsafeValueError{"module name", name}
		}
		if !phpIntRe.MatchString(pres.String) {
			return nil, unsafeValueError{"presence of module " + name, pres.String}
		}
		if !phpIntRe.MatchString(own.String) {
			return nil, unsafeValueError{"ownedby of module " + name, own.String}
		}
		names.set(name, id)
		presence.set(id, pres.String)
		ownedby.set(id, own.String)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

	actionIDs, actionNames := newOrderedMap(), newOrderedMap()
	if err := scanActions(ctx, tx, `SELECT actionid, actionname FROM vtiger_actionmapping ORDER BY actionid, actionname`, func(id, name string) {
		actionIDs.set(name, id)
	}); err != nil {
		return nil, err
	}
	if err := scanActions(ctx, tx, `SELECT actionid, actionname FROM vtiger_actionmapping WHERE securitycheck = 0 ORDER BY actionid, actionname`, func(id, name string) {
		actionNames.set(id, name)
	}); err != nil {
		return nil, err
	}

	var b strings.Builder
	b.WriteString(cacheHeader)
	b.WriteString("$tab_info_array=" + phpArray(names, true, false, true) + ";\n\n")
	b.WriteString("$tab_seq_array=" + phpArray(presence, true, false, true) + ";\n\n")
	b.WriteString("$tab_ownedby_array=" + phpArray(ownedby, true, false, true) + ";\n\n")
	b.WriteString("$action_id_array=" + phpArray(actionIDs, true, false, false) + ";\n\n")
	b.WriteString("$action_name_array=" + phpArray(actionNames, false, true, false) + ";\n")
	b.WriteString("?>")
	return []byte(b.String()), nil
}

func scanActions(ctx context.Context, tx *sql.Tx, query string, fn func(id, name string)) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		if !phpNameRe.MatchString(name) {
			return unsafeValueError{"action name", name}
		}
		fn(id, name)
	}
	return rows.Err()
}

// renderParentTabdata is parent_tabdata.php for the current tables.
func renderParentTabdata(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	parents := newOrderedMap()
	rows, err := tx.QueryContext(ctx, `SELECT parenttabid, parenttab_label FROM vtiger_parenttab WHERE visible = 0 ORDER BY sequence`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, label string
		if err := rows.Scan(&id, &label); err != nil {
			return nil, err
		}
		if strings.ContainsAny(label, `'\`) {
			return nil, unsafeValueError{"menu label", label}
		}
		parents.set(id, label)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

	var children strings.Builder
	children.WriteString("array(")
	for _, pid := range parents.keys {
		children.WriteString(pid + "=>array(")
		id, _ := strconv.ParseInt(pid, 10, 64)
		crow, err := tx.QueryContext(ctx, `SELECT tabid FROM vtiger_parenttabrel WHERE parenttabid = ?
  AND tabid IN (SELECT tabid FROM vtiger_tab WHERE presence IN (0, 2)) ORDER BY sequence`, id)
		if err != nil {
			return nil, err
		}
		for crow.Next() {
			var tabid string
			if err := crow.Scan(&tabid); err != nil {
				crow.Close()
				return nil, err
			}
			children.WriteString(tabid + ",")
		}
		crow.Close()
		if err := crow.Err(); err != nil {
			return nil, err
		}
		children.WriteString("),")
	}
	children.WriteString(")")

	var b strings.Builder
	b.WriteString(cacheHeader)
	b.WriteString("$parent_tab_info_array=" + phpArray(parents, false, true, false) + ";\n\n")
	b.WriteString("\n$parent_child_tab_rel_array=" + children.String() + ";\n\n\n\n?>")
	return []byte(b.String()), nil
}
