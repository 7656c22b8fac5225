package vtigerinstall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The rows Install writes, and the Vtiger code whose effect they reproduce
// (paths in a Vtiger 8 source tree):
//
//   - vtiger_tab: one row as Vtiger_ModuleBasic::__create
//     (vtlib/Vtiger/ModuleBasic.php) writes it for an extension that
//     Vtiger_PackageImport::import_Module (vtlib/Vtiger/PackageImport.php)
//     imports: tabid MAX(tabid)+1 (__getUniqueId), presence 0, tabsequence
//     -1, customized 1, ownedby 0, isentitytype 0 (type extension), version
//     from manifest.xml. parent is NULL although the manifest says Settings:
//     Vtiger_Menu_Model::getAll (modules/Vtiger/models/Menu.php) lists every
//     module whose parent is not empty in the app menus, which is why
//     Vtiger's own 7.0 migration sets the parent of ExtensionStore, the
//     stock extension under Settings, to NULL
//     (modules/Migration/schema/660_to_700.php); a real Vtiger 8 database
//     (the fixture) has ExtensionStore with parent NULL and the rows below.
//     The extension's vtlib_handler does the same after a Module Manager
//     import, so both ways of installing end in the same rows.
//   - vtiger_tab_info: vtiger_min_version / vtiger_max_version (__create).
//   - vtiger_profile2tab: (profile, tabid, 0) for every profile
//     (Vtiger_Profile::initForModule, vtlib/Vtiger/Profile.php; no
//     vtiger_profile2standardpermissions rows for a non-entity module).
//   - vtiger_parenttabrel: the module under its parent menu
//     (Vtiger_Menu::addModule, vtlib/Vtiger/Menu.php; import_Module adds it
//     a second time, which is a Vtiger bug not reproduced here).
//   - vtiger_app2tab: (tabid, upper-case parent, next sequence)
//     (Settings_MenuEditor_Module_Model::addModuleToApp,
//     modules/Settings/MenuEditor/models/Module.php).
//   - vtiger_settings_field: the CRM Settings menu entry, as
//     vtlib_addSettingsLink (include/utils/VtlibUtils.php) makes it: looked
//     up by name, fieldid from vtiger_settings_field_seq, iconpath '',
//     description = name, active 0, pinned 0. The block is LBL_EXTENSIONS
//     (shown as "Extensions"; Vtiger 7/8 create it in
//     modules/Migration/schema/660_to_700.php) or else LBL_OTHER_SETTINGS
//     ("Other Settings", vtlib_addSettingsLink's default, created through
//     vtiger_settings_blocks_seq when missing). The sequence is the block's
//     MAX(sequence)+1: vtlib_addSettingsLink post-increments and so reuses
//     the last sequence, which is a Vtiger bug.
//   - vtiger_links: the HEADERSCRIPT link (Vtiger_Link::addLink,
//     vtlib/Vtiger/Link.php; linkid from vtiger_links_seq as
//     PearDatabase::getUniqueID does). Its tabid is 0, not the module's:
//     Vtiger_Link::getAllByType(IGNORE_MODULE, ...) shows a non-admin user
//     only links whose tabid is 0 or in getPermittedModuleIdList()
//     (include/utils/UserInfoUtil.php), which comes from tabdata.php and
//     the per-user user_privileges files; those files do not learn about a
//     new module until each user's privileges are regenerated, so a
//     module-tabid link would not load tracker.js for ordinary users. Stock
//     Vtiger does the same for PBXManager's header script (tabid 0).
//
// Id sequences: Vtiger's *_seq tables hold the last id handed out; the next
// id here is one more than the larger of that and the table's MAX(id), so
// a sequence that fell behind cannot cause a duplicate key.

// registration is what register found or made.
type registration struct {
	TabID        int64
	BlockID      int64
	BlockLabel   string
	BlockCreated bool
	FieldID      int64
	LinkID       int64
}

// Settings block labels, in order of preference.
const (
	blockExtensions = "LBL_EXTENSIONS"
	blockOther      = "LBL_OTHER_SETTINGS"
)

// register makes the rows of the extension in tx, idempotently.
func register(ctx context.Context, tx *sql.Tx, man Manifest, rep *Report) (registration, error) {
	var reg registration
	have, err := tableSet(ctx, tx)
	if err != nil {
		return reg, err
	}
	if err := registerTab(ctx, tx, man, have, &reg, rep); err != nil {
		return reg, fmt.Errorf("vtiger: register the module: %w", err)
	}
	if err := registerSettingsField(ctx, tx, have, &reg, rep); err != nil {
		return reg, fmt.Errorf("vtiger: register the Settings menu entry: %w", err)
	}
	if err := registerLink(ctx, tx, &reg, rep); err != nil {
		return reg, fmt.Errorf("vtiger: register tracker.js: %w", err)
	}
	return reg, nil
}

func registerTab(ctx context.Context, tx *sql.Tx, man Manifest, have map[string]bool, reg *registration, rep *Report) error {
	var presence, entity int64
	var version, parent sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT tabid, presence, version, isentitytype, parent FROM vtiger_tab WHERE name = ? FOR UPDATE`, ModuleName).
		Scan(&reg.TabID, &presence, &version, &entity, &parent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(tabid), 0) + 1 FROM vtiger_tab FOR UPDATE`).Scan(&reg.TabID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_tab
  (tabid, name, presence, tabsequence, tablabel, modifiedby, modifiedtime, customized, ownedby, isentitytype, version, parent)
  VALUES (?, ?, 0, -1, ?, NULL, NULL, 1, 0, 0, ?, NULL)`,
			reg.TabID, ModuleName, man.Label, man.Version); err != nil {
			return err
		}
		rep.change("registered module %s %s in vtiger_tab (tabid %d)", ModuleName, man.Version, reg.TabID)
	case err != nil:
		return err
	default:
		if entity != 0 {
			return fmt.Errorf("vtiger_tab already has an entity module named %s (tabid %d), which is not this extension; remove that module first", ModuleName, reg.TabID)
		}
		if version.String != man.Version {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_tab SET version = ? WHERE tabid = ?`, man.Version, reg.TabID); err != nil {
				return err
			}
			rep.change("updated module %s from version %q to %s", ModuleName, version.String, man.Version)
		}
		if parent.String != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_tab SET parent = NULL WHERE tabid = ?`, reg.TabID); err != nil {
				return err
			}
			rep.change("cleared the app menu parent %q of module %s, as Vtiger does for ExtensionStore", parent.String, ModuleName)
		}
		if presence != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_tab SET presence = 0 WHERE tabid = ?`, reg.TabID); err != nil {
				return err
			}
			rep.change("enabled module %s (it was disabled in Module Manager)", ModuleName)
		}
	}

	if have["vtiger_tab_info"] {
		for _, p := range []struct{ name, value string }{
			{"vtiger_min_version", man.Dependencies.VtigerVersion},
			{"vtiger_max_version", man.Dependencies.VtigerMaxVersion},
		} {
			if p.value == "" {
				continue
			}
			var cur sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT prefvalue FROM vtiger_tab_info WHERE tabid = ? AND prefname = ? LIMIT 1`, reg.TabID, p.name).Scan(&cur)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_tab_info (tabid, prefname, prefvalue) VALUES (?, ?, ?)`, reg.TabID, p.name, p.value); err != nil {
					return err
				}
				rep.change("set %s %s in vtiger_tab_info", p.name, p.value)
			case err != nil:
				return err
			case cur.String != p.value:
				if _, err := tx.ExecContext(ctx, `UPDATE vtiger_tab_info SET prefvalue = ? WHERE tabid = ? AND prefname = ?`, p.value, reg.TabID, p.name); err != nil {
					return err
				}
				rep.change("set %s %s in vtiger_tab_info", p.name, p.value)
			}
		}
	}

	if have["vtiger_profile"] && have["vtiger_profile2tab"] {
		res, err := tx.ExecContext(ctx, `INSERT INTO vtiger_profile2tab (profileid, tabid, permissions)
  SELECT p.profileid, ?, 0 FROM vtiger_profile p
  WHERE NOT EXISTS (SELECT 1 FROM vtiger_profile2tab x WHERE x.profileid = p.profileid AND x.tabid = ?)
  ORDER BY p.profileid`, reg.TabID, reg.TabID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			rep.change("permitted the module to %d profiles (vtiger_profile2tab)", n)
		}
	}

	if man.Parent == "" {
		return nil
	}
	if have["vtiger_parenttab"] && have["vtiger_parenttabrel"] {
		var parentID int64
		err := tx.QueryRowContext(ctx, `SELECT parenttabid FROM vtiger_parenttab WHERE parenttab_label = ? ORDER BY parenttabid LIMIT 1`, man.Parent).Scan(&parentID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Vtiger_Menu::getInstance finds no menu: vtlib adds nothing either.
		case err != nil:
			return err
		default:
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM vtiger_parenttabrel WHERE parenttabid = ? AND tabid = ? LIMIT 1`, parentID, reg.TabID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_parenttabrel (parenttabid, tabid, sequence)
  SELECT ?, ?, COALESCE(MAX(sequence), 0) + 1 FROM vtiger_parenttabrel WHERE parenttabid = ?`, parentID, reg.TabID, parentID); err != nil {
					return err
				}
				rep.change("put the module under the %s menu (vtiger_parenttabrel)", man.Parent)
			} else if err != nil {
				return err
			}
		}
	}
	if have["vtiger_app2tab"] {
		app := strings.ToUpper(man.Parent)
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM vtiger_app2tab WHERE tabid = ? AND appname = ? LIMIT 1`, reg.TabID, app).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_app2tab (tabid, appname, sequence)
  SELECT ?, ?, COALESCE(MAX(sequence), 0) + 1 FROM vtiger_app2tab WHERE appname = ?`, reg.TabID, app, app); err != nil {
				return err
			}
			rep.change("added the module to app %s (vtiger_app2tab)", app)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func registerSettingsField(ctx context.Context, tx *sql.Tx, have map[string]bool, reg *registration, rep *Report) error {
	var linkto sql.NullString
	var active sql.NullInt64
	var blockID sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT fieldid, blockid, linkto, active FROM vtiger_settings_field WHERE name = ? ORDER BY fieldid LIMIT 1 FOR UPDATE`, SettingsFieldName).
		Scan(&reg.FieldID, &blockID, &linkto, &active)
	switch {
	case err == nil:
		reg.BlockID = blockID.Int64
		if linkto.String != SettingsLinkTo {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_settings_field SET linkto = ? WHERE fieldid = ?`, SettingsLinkTo, reg.FieldID); err != nil {
				return err
			}
			rep.change("pointed the CRM Settings menu entry %q at %s", SettingsFieldName, SettingsLinkTo)
		}
		if active.Int64 != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_settings_field SET active = 0 WHERE fieldid = ?`, reg.FieldID); err != nil {
				return err
			}
			rep.change("showed the CRM Settings menu entry %q again (active = 0)", SettingsFieldName)
		}
		var label sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT label FROM vtiger_settings_blocks WHERE blockid = ?`, reg.BlockID).Scan(&label); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		reg.BlockLabel = label.String
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}

	var label string
	err = tx.QueryRowContext(ctx, `SELECT blockid, label FROM vtiger_settings_blocks WHERE label IN (?, ?)
ORDER BY label = ? DESC, blockid LIMIT 1 FOR UPDATE`, blockExtensions, blockOther, blockExtensions).Scan(&reg.BlockID, &label)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if !have["vtiger_settings_blocks_seq"] {
			return fmt.Errorf("vtiger_settings_blocks has neither %s nor %s and vtiger_settings_blocks_seq is missing, so no block can be made", blockExtensions, blockOther)
		}
		if reg.BlockID, err = nextID(ctx, tx, "vtiger_settings_blocks", "blockid"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_settings_blocks (blockid, label, sequence)
  SELECT ?, ?, COALESCE(MAX(sequence), 0) + 1 FROM vtiger_settings_blocks`, reg.BlockID, blockOther); err != nil {
			return err
		}
		label, reg.BlockCreated = blockOther, true
		rep.change("created the CRM Settings block %s (blockid %d), as Vtiger had neither Extensions nor Other Settings", blockOther, reg.BlockID)
	case err != nil:
		return err
	}
	reg.BlockLabel = label

	if reg.FieldID, err = nextID(ctx, tx, "vtiger_settings_field", "fieldid"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_settings_field
  (fieldid, blockid, name, iconpath, description, linkto, sequence, active, pinned)
  SELECT ?, ?, ?, '', ?, ?, COALESCE(MAX(sequence), 0) + 1, 0, 0 FROM vtiger_settings_field WHERE blockid = ?`,
		reg.FieldID, reg.BlockID, SettingsFieldName, SettingsFieldName, SettingsLinkTo, reg.BlockID); err != nil {
		return err
	}
	rep.change("added the CRM Settings menu entry %q under %s (fieldid %d)", SettingsFieldName, label, reg.FieldID)
	return nil
}

func registerLink(ctx context.Context, tx *sql.Tx, reg *registration, rep *Report) error {
	var tabid sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT linkid, tabid FROM vtiger_links WHERE linktype = ? AND linklabel = ? AND linkurl = ? ORDER BY linkid LIMIT 1 FOR UPDATE`,
		LinkType, LinkLabel, LinkURL).Scan(&reg.LinkID, &tabid)
	switch {
	case err == nil:
		if !tabid.Valid || tabid.Int64 != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE vtiger_links SET tabid = 0 WHERE linkid = ?`, reg.LinkID); err != nil {
				return err
			}
			rep.change("made the %s link %s load for every user (tabid 0)", LinkType, LinkLabel)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if reg.LinkID, err = nextID(ctx, tx, "vtiger_links", "linkid"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO vtiger_links (linkid, tabid, linktype, linklabel, linkurl, linkicon, sequence)
  VALUES (?, 0, ?, ?, ?, '', 0)`, reg.LinkID, LinkType, LinkLabel, LinkURL); err != nil {
		return err
	}
	rep.change("registered tracker.js as %s link %s (linkid %d)", LinkType, LinkLabel, reg.LinkID)
	return nil
}

// nextID hands out the next id of table the way PearDatabase::getUniqueID
// does through <table>_seq, never below MAX(idcol)+1. table and idcol are
// constants of this package.
func nextID(ctx context.Context, tx *sql.Tx, table, idcol string) (int64, error) {
	seq := table + "_seq"
	var cur sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM `+seq+` FOR UPDATE`).Scan(&cur); err != nil {
		return 0, err
	}
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(`+idcol+`), 0) FROM `+table+` FOR UPDATE`).Scan(&maxID); err != nil {
		return 0, err
	}
	next := max(cur.Int64, maxID) + 1
	var err error
	if cur.Valid {
		_, err = tx.ExecContext(ctx, `UPDATE `+seq+` SET id = ?`, next)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO `+seq+` (id) VALUES (?)`, next)
	}
	return next, err
}

// unregister removes the rows register made.
func unregister(ctx context.Context, tx *sql.Tx, blockCreated bool, rep *Report) error {
	have, err := tableSet(ctx, tx)
	if err != nil {
		return err
	}
	var tabid int64
	err = tx.QueryRowContext(ctx, `SELECT tabid FROM vtiger_tab WHERE name = ? FOR UPDATE`, ModuleName).Scan(&tabid)
	hasTab := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("vtiger: find the module: %w", err)
	}

	// The Settings menu entry, and its block if install made that block.
	rows, err := tx.QueryContext(ctx, `SELECT fieldid, blockid, linkto FROM vtiger_settings_field WHERE name = ? FOR UPDATE`, SettingsFieldName)
	if err != nil {
		return fmt.Errorf("vtiger: find the Settings menu entry: %w", err)
	}
	type field struct {
		id, block int64
		ours      bool
	}
	var fields []field
	for rows.Next() {
		var f field
		var block sql.NullInt64
		var linkto sql.NullString
		if err := rows.Scan(&f.id, &block, &linkto); err != nil {
			rows.Close()
			return err
		}
		f.block, f.ours = block.Int64, linkto.String == SettingsLinkTo
		fields = append(fields, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range fields {
		if !f.ours {
			rep.warn("vtiger_settings_field %d is named %q but does not link to %s; left in place", f.id, SettingsFieldName, SettingsLinkTo)
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vtiger_settings_field WHERE fieldid = ?`, f.id); err != nil {
			return fmt.Errorf("vtiger: remove the Settings menu entry: %w", err)
		}
		rep.change("removed the CRM Settings menu entry %q (fieldid %d)", SettingsFieldName, f.id)
		if blockCreated {
			res, err := tx.ExecContext(ctx, `DELETE FROM vtiger_settings_blocks WHERE blockid = ? AND label = ?
  AND NOT EXISTS (SELECT 1 FROM vtiger_settings_field WHERE blockid = ?)`, f.block, blockOther, f.block)
			if err != nil {
				return fmt.Errorf("vtiger: remove the Settings block install made: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				rep.change("removed the CRM Settings block %s (blockid %d) that install had made", blockOther, f.block)
			}
		}
	}

	// The header script, wherever its tabid points, and any other link of
	// the module (Vtiger_Link::deleteAll).
	res, err := tx.ExecContext(ctx, `DELETE FROM vtiger_links WHERE linktype = ? AND linklabel = ? AND linkurl = ?`, LinkType, LinkLabel, LinkURL)
	if err != nil {
		return fmt.Errorf("vtiger: remove the %s link: %w", LinkType, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		rep.change("removed the %s link %s", LinkType, LinkLabel)
	}
	if !hasTab {
		return nil
	}
	if res, err = tx.ExecContext(ctx, `DELETE FROM vtiger_links WHERE tabid = ?`, tabid); err != nil {
		return fmt.Errorf("vtiger: remove the module's links: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		rep.change("removed %d other links of the module", n)
	}

	// The module row and the rows hanging on it (ModuleBasic::delete,
	// Profile::deleteForModule, Menu::detachModule; tab_info and app2tab,
	// which Vtiger leaves behind, go too).
	for _, t := range []string{"vtiger_profile2tab", "vtiger_profile2standardpermissions", "vtiger_tab_info", "vtiger_parenttabrel", "vtiger_app2tab"} {
		if !have[t] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE tabid = ?`, tabid); err != nil {
			return fmt.Errorf("vtiger: remove the module's rows in %s: %w", t, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM vtiger_tab WHERE tabid = ?`, tabid); err != nil {
		return fmt.Errorf("vtiger: unregister the module: %w", err)
	}
	rep.change("unregistered module %s (tabid %d) and its rows in vtiger_tab_info, vtiger_profile2tab, vtiger_parenttabrel, vtiger_app2tab", ModuleName, tabid)
	return nil
}
