package vtigerinstall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// record is modules/DataExportTracker/.installed.json: what Install put
// into the tree, so Uninstall removes exactly that.
type record struct {
	Product string       `json:"product"`
	Module  string       `json:"module"`
	Version string       `json:"version"`
	Files   []recordFile `json:"files"`
	// Dirs are the folders Install created, removed again when empty.
	Dirs []string `json:"dirs"`
	// ConfigOverrideCreated: config_override.php did not exist before.
	ConfigOverrideCreated bool `json:"config_override_created,omitempty"`
	// SettingsBlockCreated: Vtiger had neither an Extensions nor an Other
	// Settings block, so Install made an LBL_OTHER_SETTINGS block.
	SettingsBlockCreated bool `json:"settings_block_created,omitempty"`
}

type recordFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// readRecord reads the install record; nil without error when there is none.
func readRecord(root string) (*record, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(RecordPath)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", RecordPath, unwrapPath(err))
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); move it away and run install again, which then treats every file as new", RecordPath, err)
	}
	for _, f := range r.Files {
		if !ownedPath(f.Path) || len(f.SHA256) != 64 {
			return nil, fmt.Errorf("%s lists %q, which is not a file of the extension; move the record away and run install again", RecordPath, f.Path)
		}
	}
	for _, d := range r.Dirs {
		if !fs.ValidPath(d) || d == "." || !ownedDir(d) {
			return nil, fmt.Errorf("%s lists the folder %q, which the extension does not own; move the record away and run install again", RecordPath, d)
		}
	}
	return &r, nil
}

// ownedDir reports whether d may have been created for the extension: an
// ancestor folder of an owned file location.
func ownedDir(d string) bool {
	if ownedPath(d + "/x") {
		return true
	}
	for _, anc := range []string{"modules/Settings", "layouts", "layouts/v7", "layouts/v7/modules", "layouts/v7/modules/Settings", "languages"} {
		if d == anc {
			return true
		}
	}
	return langDirRe.MatchString(d)
}

var langDirRe = regexp.MustCompile(`^languages/[A-Za-z]{2,3}_[A-Za-z]{2,3}(/Settings)?$`)

// filePlan is the file side of a run, computed before anything changes.
type filePlan struct {
	root string
	prev *record // the record found, nil if none
	rec  *record // the record to write (install)

	writes  []plannedWrite
	removes []string // recorded files unchanged since install (slash paths)
	kept    []string // recorded files changed since install: left in place
	mkdirs  []string // to create, parents first
	rmdirs  []string // created by install, to remove when empty, deepest first

	probeDirs  map[string]bool // existing folders that must be writable
	probeFiles map[string]bool // existing files that must be writable
	notDirs    []string        // path components that exist but are not folders
}

type plannedWrite struct {
	src      srcFile
	existed  bool
	modified bool // the file on disk is not what a previous install wrote
}

func (p *filePlan) abs(rel string) string { return filepath.Join(p.root, filepath.FromSlash(rel)) }

// planInstall compares the extension files with the tree.
func planInstall(root string, src []srcFile, prev *record, man Manifest) (*filePlan, error) {
	p := &filePlan{root: root, prev: prev, probeDirs: map[string]bool{}, probeFiles: map[string]bool{}}
	p.rec = &record{Product: "dxtracker", Module: ModuleName, Version: man.Version}
	prevSum := map[string]string{}
	dirs := map[string]bool{}
	if prev != nil {
		for _, f := range prev.Files {
			prevSum[f.Path] = f.SHA256
		}
		for _, d := range prev.Dirs {
			dirs[d] = true
		}
		p.rec.ConfigOverrideCreated = prev.ConfigOverrideCreated
		p.rec.SettingsBlockCreated = prev.SettingsBlockCreated
	}
	willMake := map[string]bool{}
	current := map[string]bool{}
	for _, f := range src {
		current[f.Path] = true
		p.rec.Files = append(p.rec.Files, recordFile{Path: f.Path, SHA256: f.Sum})
		missing, blocked := p.missingDirs(path.Dir(f.Path))
		if blocked {
			continue // reported by checkWritable
		}
		for _, d := range missing {
			if !willMake[d] {
				willMake[d] = true
				p.mkdirs = append(p.mkdirs, d)
				dirs[d] = true
			}
		}
		target := p.abs(f.Path)
		fi, err := os.Lstat(target)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.writes = append(p.writes, plannedWrite{src: f})
			continue
		case err != nil:
			return nil, fmt.Errorf("cannot inspect %s: %v", f.Path, unwrapPath(err))
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s exists and is not a regular file (a folder or a symbolic link?); move it away", f.Path)
		}
		disk, err := fileSum(target)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %v", f.Path, unwrapPath(err))
		}
		if disk == f.Sum {
			continue
		}
		p.writes = append(p.writes, plannedWrite{src: f, existed: true, modified: prevSum[f.Path] != disk})
		p.probeFiles[target] = true
	}
	// Files an earlier version installed that this one no longer has.
	if prev != nil {
		for _, f := range prev.Files {
			if !current[f.Path] {
				p.planRemove(f)
			}
		}
	}
	// Folders an earlier version created that no current file needs go
	// when they end up empty.
	needed := map[string]bool{}
	for _, f := range src {
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			needed[d] = true
		}
	}
	for d := range dirs {
		if needed[d] {
			p.rec.Dirs = append(p.rec.Dirs, d)
		} else {
			p.rmdirs = append(p.rmdirs, d)
		}
	}
	sort.Strings(p.rec.Dirs)
	sort.Strings(p.mkdirs) // parents sort before their children
	p.sortRmdirs()
	p.probeRoot()
	return p, nil
}

// sortRmdirs orders rmdirs deepest first, so children go before parents,
// and marks their parents for the write probe.
func (p *filePlan) sortRmdirs() {
	sort.Slice(p.rmdirs, func(i, j int) bool {
		ci, cj := strings.Count(p.rmdirs[i], "/"), strings.Count(p.rmdirs[j], "/")
		if ci != cj {
			return ci > cj
		}
		return p.rmdirs[i] > p.rmdirs[j]
	})
	for _, d := range p.rmdirs {
		if fi, err := os.Stat(p.abs(path.Dir(d))); err == nil && fi.IsDir() {
			p.probeDirs[p.abs(path.Dir(d))] = true
		}
	}
}

// planUninstall plans the removal of the recorded files and folders.
func planUninstall(root string, prev *record) *filePlan {
	p := &filePlan{root: root, prev: prev, probeDirs: map[string]bool{}, probeFiles: map[string]bool{}}
	if prev != nil {
		for _, f := range prev.Files {
			p.planRemove(f)
		}
		p.rmdirs = append(p.rmdirs, prev.Dirs...)
		p.sortRmdirs()
		rec := p.abs(RecordPath)
		p.probeFiles[rec] = true
		p.probeDirs[filepath.Dir(rec)] = true
	}
	p.probeRoot()
	return p
}

func (p *filePlan) planRemove(f recordFile) {
	target := p.abs(f.Path)
	fi, err := os.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return // already gone (or replaced by something that is not ours)
	}
	if disk, err := fileSum(target); err != nil || disk != f.SHA256 {
		p.kept = append(p.kept, f.Path)
		return
	}
	p.removes = append(p.removes, f.Path)
	p.probeFiles[target] = true
	p.probeDirs[filepath.Dir(target)] = true
}

// probeRoot adds the Vtiger files a run may rewrite: config_override.php
// and the tabdata caches, all replaced by rename in the root folder.
func (p *filePlan) probeRoot() {
	p.probeDirs[p.root] = true
	for _, f := range []string{"config_override.php", "tabdata.php", "parent_tabdata.php"} {
		if fi, err := os.Lstat(filepath.Join(p.root, f)); err == nil && fi.Mode().IsRegular() {
			p.probeFiles[filepath.Join(p.root, f)] = true
		}
	}
}

// missingDirs returns the folders from rel up to the root that do not exist
// yet, parents first, and marks the nearest existing one for probing;
// blocked is true when that one is not a folder (recorded in notDirs).
func (p *filePlan) missingDirs(rel string) (missing []string, blocked bool) {
	for d := rel; d != "." && d != "/"; d = path.Dir(d) {
		fi, err := os.Stat(p.abs(d))
		if err == nil {
			if !fi.IsDir() {
				p.notDirs = append(p.notDirs, d)
				return nil, true
			}
			p.probeDirs[p.abs(d)] = true
			return missing, false
		}
		missing = append([]string{d}, missing...)
	}
	p.probeDirs[p.root] = true
	return missing, false
}

// checkWritable tries what the run will need, without changing anything
// that stays changed: a temp file is made and removed in every folder the
// run writes to, and every file it replaces must be open for writing and
// carry a write permission bit. The permission bits count even for root:
// a config_override.php set to 0444 is an administrator's "hands off".
func (p *filePlan) checkWritable() []string {
	var probs []string
	seen := map[string]bool{}
	for _, d := range dedupe(p.notDirs) {
		probs = append(probs, fmt.Sprintf("%s exists but is not a folder; the extension needs a folder there", d))
	}
	for _, d := range sortedKeys(p.probeDirs) {
		if err := probeDir(d); err != nil {
			probs = append(probs, fmt.Sprintf("cannot write in %s: %v; run the installer as a user that may write the Vtiger files (root or the web server user) on a writable file system", p.rel(d), err))
			seen[d] = true
		}
	}
	for _, f := range sortedKeys(p.probeFiles) {
		if seen[filepath.Dir(f)] {
			continue
		}
		if err := probeFile(f); err != nil {
			probs = append(probs, fmt.Sprintf("%s is read-only (%v); make it writable (chmod u+w) or leave it and install by hand", p.rel(f), err))
		}
	}
	return probs
}

func (p *filePlan) rel(abs string) string {
	if r, err := filepath.Rel(p.root, abs); err == nil {
		if r == "." {
			return p.root
		}
		return filepath.ToSlash(r)
	}
	return abs
}

func probeDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return unwrapPath(err)
	}
	if !fi.IsDir() {
		return errors.New("not a folder")
	}
	f, err := os.CreateTemp(dir, ".dxtracker-write-test-*")
	if err != nil {
		return unwrapPath(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func probeFile(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return unwrapPath(err)
	}
	if fi.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("mode %04o", fi.Mode().Perm())
	}
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return unwrapPath(err)
	}
	return f.Close()
}

// copyFiles creates the folders and writes the planned files.
func (p *filePlan) copyFiles(j *journal, rep *Report) error {
	for _, d := range p.mkdirs {
		if err := j.mkdir(p.abs(d)); err != nil {
			return fmt.Errorf("vtiger: create folder %s: %w", d, unwrapPath(err))
		}
	}
	var added, updated int
	for _, w := range p.writes {
		target := p.abs(w.src.Path)
		if w.modified {
			backup := target + ".dxtracker-backup"
			old, err := os.ReadFile(target)
			if err != nil {
				return fmt.Errorf("vtiger: read %s: %w", w.src.Path, unwrapPath(err))
			}
			if err := j.writeFile(backup, old, 0o644); err != nil {
				return fmt.Errorf("vtiger: back up %s: %w", w.src.Path, unwrapPath(err))
			}
			rep.warn("%s differed from what dxtracker installs (changed by hand or by another installer); replaced it, the old file is %s", w.src.Path, w.src.Path+".dxtracker-backup")
		}
		if err := j.writeFile(target, w.src.Data, 0o644); err != nil {
			return fmt.Errorf("vtiger: write %s: %w", w.src.Path, unwrapPath(err))
		}
		if w.existed {
			updated++
		} else {
			added++
		}
	}
	if added > 0 {
		rep.change("added %d extension files", added)
	}
	if updated > 0 {
		rep.change("updated %d extension files", updated)
	}
	if err := p.removeRecorded(j, rep, "removed %d files an earlier version installed"); err != nil {
		return err
	}
	kept, err := p.removeDirs(j, rep)
	if err != nil {
		return err
	}
	// A folder that stays (it holds someone else's files) stays recorded,
	// so that uninstall tries again.
	p.rec.Dirs = append(p.rec.Dirs, kept...)
	sort.Strings(p.rec.Dirs)
	return nil
}

// removeFiles removes the recorded files unchanged since install, and the
// record itself.
func (p *filePlan) removeFiles(j *journal, rep *Report) error {
	if err := p.removeRecorded(j, rep, "removed %d extension files"); err != nil {
		return err
	}
	if p.prev != nil {
		if err := j.removeFile(p.abs(RecordPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("vtiger: remove %s: %w", RecordPath, unwrapPath(err))
		}
	}
	return nil
}

func (p *filePlan) removeRecorded(j *journal, rep *Report, msg string) error {
	for _, f := range p.removes {
		if err := j.removeFile(p.abs(f)); err != nil {
			return fmt.Errorf("vtiger: remove %s: %w", f, unwrapPath(err))
		}
	}
	if len(p.removes) > 0 {
		rep.change(msg, len(p.removes))
	}
	for _, f := range p.kept {
		rep.warn("%s was changed since dxtracker installed it; left in place, remove it by hand if it is not needed", f)
	}
	return nil
}

// removeDirs removes the folders in rmdirs that are empty and returns the
// ones left in place.
func (p *filePlan) removeDirs(j *journal, rep *Report) (kept []string, err error) {
	n := 0
	for _, d := range p.rmdirs {
		abs := p.abs(d)
		entries, err := os.ReadDir(abs)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("vtiger: read folder %s: %w", d, unwrapPath(err))
		}
		if len(entries) > 0 {
			rep.warn("folder %s still holds files dxtracker did not install; left in place", d)
			kept = append(kept, d)
			continue
		}
		if err := j.rmdir(abs); err != nil {
			return nil, fmt.Errorf("vtiger: remove folder %s: %w", d, unwrapPath(err))
		}
		n++
	}
	if n > 0 {
		rep.change("removed %d folders", n)
	}
	return kept, nil
}

// writeRecord writes the install record when it differs from the one on
// disk.
func (p *filePlan) writeRecord(j *journal, rep *Report) error {
	b, err := json.MarshalIndent(p.rec, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	target := p.abs(RecordPath)
	if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := j.writeFile(target, b, 0o644); err != nil {
		return fmt.Errorf("vtiger: write %s: %w", RecordPath, unwrapPath(err))
	}
	rep.change("recorded the installed files in %s", RecordPath)
	return nil
}

func fileSum(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return sum(b), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
