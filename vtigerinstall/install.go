// Package vtigerinstall puts the DataExportTracker extension into a Vtiger
// 7.x/8.x installation and takes it out again, and builds the Module
// Manager zip of the same files.
//
// Install registers the extension the way Vtiger's vtlib does when the
// Module Manager imports an extension package (see register.go for the
// rows and the Vtiger functions they mirror), copies the files, adds one
// guarded include line to config_override.php and refreshes Vtiger's
// tabdata.php / parent_tabdata.php caches. Every check runs before anything
// changes; the changes are journaled and undone if a later step fails, and
// the database rows are written in one transaction that commits last.
// Install is idempotent: a second run changes nothing and says so.
// Uninstall reverses exactly what Install did, leaving files an
// administrator changed since (with a warning).
package vtigerinstall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
)

// Names other parts of the product (the PHP extension, the docs) rely on.
const (
	ModuleName = "DataExportTracker"

	// SettingsFieldName is vtiger_settings_field.name: the label key of the
	// CRM Settings menu entry (untranslated keys show as they are).
	SettingsFieldName = "Data Export Tracker"
	SettingsLinkTo    = "index.php?module=DataExportTracker&parent=Settings&view=Index"

	// The HEADERSCRIPT link that loads tracker.js on every page.
	LinkType  = "HEADERSCRIPT"
	LinkLabel = "DataExportTrackerJS"
	LinkURL   = "layouts/v7/modules/DataExportTracker/resources/tracker.js"

	// ProbeLine is the one line Install adds to config_override.php.
	ProbeLine = `if (is_file(__DIR__ . '/modules/DataExportTracker/probe/bootstrap.php')) { include_once __DIR__ . '/modules/DataExportTracker/probe/bootstrap.php'; } // dxtracker-probe`
	// ProbeMarker ends ProbeLine; lines carrying it are recognised as ours.
	ProbeMarker = "// dxtracker-probe"

	// RecordPath is the install record (files with SHA-256, created
	// folders), relative to the Vtiger root.
	RecordPath = "modules/DataExportTracker/.installed.json"
)

// Report says what a run did, for the operator.
type Report struct {
	Root          string
	VtigerVersion string

	// Changes lists what this run changed, in order; empty when the run
	// found everything already in place (Install) or already gone
	// (Uninstall).
	Changes []string
	// Warnings are things the operator should look at; the run still
	// succeeded.
	Warnings []string

	// Registration, as found or made (zero after Uninstall).
	TabID           int64
	SettingsBlockID int64
	SettingsBlock   string // vtiger_settings_blocks.label, e.g. LBL_EXTENSIONS
	SettingsFieldID int64
	LinkID          int64
}

// Changed reports whether the run altered anything.
func (r Report) Changed() bool { return len(r.Changes) > 0 }

func (r *Report) change(format string, args ...any) {
	r.Changes = append(r.Changes, fmt.Sprintf(format, args...))
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// CheckError is a failed pre-flight check: nothing was changed. Problems
// holds one sentence per problem, each saying what to do.
type CheckError struct {
	Root     string
	Action   string // "install" or "uninstall"
	Problems []string
}

func (e *CheckError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("cannot %s the Vtiger extension in %s; nothing was changed: %s", e.Action, e.Root, e.Problems[0])
	}
	return fmt.Sprintf("cannot %s the Vtiger extension in %s; nothing was changed:\n  - %s", e.Action, e.Root, strings.Join(e.Problems, "\n  - "))
}

// Install copies the extension in files (the layout of deploy/vtiger:
// manifest.xml, modules/, layouts/, languages/) into the Vtiger installation
// at root and registers it in db, which must be that installation's
// database with the dxt_ tables already migrated.
func Install(ctx context.Context, root string, db *sql.DB, files fs.FS, log zerolog.Logger) (Report, error) {
	log = log.With().Str("component", "vtigerinstall").Logger()
	rep := Report{Root: root}

	man, src, err := loadSource(files)
	if err != nil {
		return rep, err
	}
	vt, probs := inspectRoot(root)
	if vt != nil && vt.Version != "" {
		rep.VtigerVersion = vt.Version
		if p := checkSupported(vt.Version, man); p != "" {
			probs = append(probs, p)
		}
	}
	if len(probs) == 0 {
		probs = append(probs, checkDatabase(ctx, db, vt, true)...)
	}
	var plan *filePlan
	if len(probs) == 0 {
		var prev *record
		prev, err = readRecord(root)
		if err != nil {
			probs = append(probs, err.Error())
		} else {
			plan, err = planInstall(root, src, prev, man)
			if err != nil {
				probs = append(probs, err.Error())
			} else {
				probs = append(probs, plan.checkWritable()...)
			}
		}
	}
	if len(probs) > 0 {
		return rep, &CheckError{Root: root, Action: "install", Problems: probs}
	}

	j := &journal{log: log}
	err = apply(ctx, db, j, func(tx *sql.Tx) error {
		reg, err := register(ctx, tx, man, &rep)
		if err != nil {
			return err
		}
		rep.TabID, rep.SettingsBlockID, rep.SettingsBlock, rep.SettingsFieldID, rep.LinkID =
			reg.TabID, reg.BlockID, reg.BlockLabel, reg.FieldID, reg.LinkID
		plan.rec.SettingsBlockCreated = plan.rec.SettingsBlockCreated || reg.BlockCreated
		if err := plan.copyFiles(j, &rep); err != nil {
			return err
		}
		created, err := addProbeLine(j, root, &rep)
		if err != nil {
			return err
		}
		plan.rec.ConfigOverrideCreated = plan.rec.ConfigOverrideCreated || created
		if err := plan.writeRecord(j, &rep); err != nil {
			return err
		}
		return refreshCaches(ctx, tx, j, root, &rep)
	})
	if err != nil {
		return rep, err
	}
	log.Debug().Int("changes", len(rep.Changes)).Int("warnings", len(rep.Warnings)).Int64("tabid", rep.TabID).Str("settings_block", rep.SettingsBlock).Msg("vtiger extension installed")
	return rep, nil
}

// Uninstall removes what Install put into the Vtiger installation at root:
// the rows, the config_override.php line and the recorded files that are
// unchanged since. Vtiger's id sequences (vtiger_links_seq and the like)
// stay where they are, as Vtiger itself never reuses ids.
func Uninstall(ctx context.Context, root string, db *sql.DB, log zerolog.Logger) (Report, error) {
	log = log.With().Str("component", "vtigerinstall").Logger()
	rep := Report{Root: root}

	vt, probs := inspectRoot(root)
	if vt != nil {
		rep.VtigerVersion = vt.Version
	}
	if len(probs) == 0 {
		probs = append(probs, checkDatabase(ctx, db, vt, false)...)
	}
	var plan *filePlan
	if len(probs) == 0 {
		prev, err := readRecord(root)
		if err != nil {
			probs = append(probs, err.Error())
		} else {
			plan = planUninstall(root, prev)
			probs = append(probs, plan.checkWritable()...)
		}
	}
	if len(probs) > 0 {
		return rep, &CheckError{Root: root, Action: "uninstall", Problems: probs}
	}
	if plan.prev == nil && exists(filepath.Join(root, "modules", ModuleName)) {
		rep.warn("%s is missing, so dxtracker does not know which files it installed (a Module Manager install?); no files were removed. Remove by hand: modules/%[2]s, modules/Settings/%[2]s, layouts/v7/modules/%[2]s, layouts/v7/modules/Settings/%[2]s, languages/*/%[2]s.php, languages/*/Settings/%[2]s.php", RecordPath, ModuleName)
	}

	j := &journal{log: log}
	err := apply(ctx, db, j, func(tx *sql.Tx) error {
		blockCreated := plan.prev != nil && plan.prev.SettingsBlockCreated
		if err := unregister(ctx, tx, blockCreated, &rep); err != nil {
			return err
		}
		if err := plan.removeFiles(j, &rep); err != nil {
			return err
		}
		createdOverride := plan.prev != nil && plan.prev.ConfigOverrideCreated
		if err := removeProbeLine(j, root, createdOverride, &rep); err != nil {
			return err
		}
		if _, err := plan.removeDirs(j, &rep); err != nil {
			return err
		}
		return refreshCaches(ctx, tx, j, root, &rep)
	})
	if err != nil {
		return rep, err
	}
	log.Debug().Int("changes", len(rep.Changes)).Int("warnings", len(rep.Warnings)).Msg("vtiger extension uninstalled")
	return rep, nil
}

// apply runs step inside a database transaction with a file journal. The
// transaction commits after every file change succeeded; any error before
// that rolls the transaction back and undoes the file changes.
func apply(ctx context.Context, db *sql.DB, j *journal, step func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vtiger: begin transaction: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		rbErr := tx.Rollback()
		if rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = fmt.Errorf("%w (and the rollback failed: %v)", err, rbErr)
		}
		n := j.len()
		if uerr := j.undo(); uerr != nil {
			err = fmt.Errorf("%w; undoing the file changes failed too, check the files by hand: %v", err, uerr)
		} else if n > 0 {
			err = fmt.Errorf("%w; the file changes were undone, nothing was changed", err)
		}
	}()
	if err = step(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("vtiger: commit: %w", err)
	}
	j.done()
	return nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
