package vtigerinstall

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
)

// journal performs file changes and remembers how to undo them, so that a
// failure later in a run (a database error, a full disk) leaves the Vtiger
// tree as it was. Every file is replaced atomically (temp file + rename in
// the same folder); owners and modes are kept, and new files and folders
// take the owner of the folder they are made in (the web server user,
// usually), so Vtiger can still rewrite them.
type journal struct {
	log     zerolog.Logger
	entries []jentry
}

type jkind int

const (
	jWrite jkind = iota
	jRemove
	jMkdir
	jRmdir
)

type jentry struct {
	kind    jkind
	path    string
	existed bool // jWrite: the file was there before
	old     []byte
	mode    fs.FileMode
	own     owner
}

func (j *journal) len() int { return len(j.entries) }

// done forgets the entries: the changes are final.
func (j *journal) done() { j.entries = nil }

// writeFile replaces (or creates) path with data. mode 0 keeps the mode of
// an existing file (new files get 0644).
func (j *journal) writeFile(path string, data []byte, mode fs.FileMode) error {
	e := jentry{kind: jWrite, path: path}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", path)
		}
		if e.old, err = os.ReadFile(path); err != nil {
			return err
		}
		e.existed, e.mode, e.own = true, fi.Mode().Perm(), ownerOf(fi)
		if mode == 0 {
			mode = e.mode
		}
	case errors.Is(err, fs.ErrNotExist):
		if mode == 0 {
			mode = 0o644
		}
	default:
		return err
	}
	own := e.own
	if !e.existed {
		if own, err = dirOwner(filepath.Dir(path)); err != nil {
			return err
		}
	}
	if err := writeAtomic(path, data, mode, own); err != nil {
		return err
	}
	j.entries = append(j.entries, e)
	j.log.Debug().Str("file", path).Bool("replaced", e.existed).Msg("wrote file")
	return nil
}

// removeFile removes path, remembering its content.
func (j *journal) removeFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	j.entries = append(j.entries, jentry{kind: jRemove, path: path, old: old, mode: fi.Mode().Perm(), own: ownerOf(fi)})
	j.log.Debug().Str("file", path).Msg("removed file")
	return nil
}

// mkdir creates one folder (mode 0755, owner of its parent).
func (j *journal) mkdir(path string) error {
	own, err := dirOwner(filepath.Dir(path))
	if err != nil {
		return err
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		return err
	}
	j.entries = append(j.entries, jentry{kind: jMkdir, path: path})
	if err := os.Chmod(path, 0o755); err != nil { // the umask may have narrowed it
		return err
	}
	chown(path, own)
	j.log.Debug().Str("dir", path).Msg("created folder")
	return nil
}

// rmdir removes an empty folder.
func (j *journal) rmdir(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	j.entries = append(j.entries, jentry{kind: jRmdir, path: path, mode: fi.Mode().Perm(), own: ownerOf(fi)})
	j.log.Debug().Str("dir", path).Msg("removed folder")
	return nil
}

// undo reverts every change, newest first, and reports the first failure.
func (j *journal) undo() error {
	var first error
	for i := len(j.entries) - 1; i >= 0; i-- {
		e := j.entries[i]
		var err error
		switch e.kind {
		case jWrite:
			if e.existed {
				err = writeAtomic(e.path, e.old, e.mode, e.own)
			} else {
				err = os.Remove(e.path)
			}
		case jRemove:
			err = writeAtomic(e.path, e.old, e.mode, e.own)
		case jMkdir:
			err = os.Remove(e.path)
		case jRmdir:
			if err = os.Mkdir(e.path, e.mode); err == nil {
				err = os.Chmod(e.path, e.mode)
				chown(e.path, e.own)
			}
		}
		if err != nil && first == nil {
			first = err
		}
		if err != nil {
			j.log.Error().Err(err).Str("path", e.path).Msg("undo failed")
		}
	}
	j.entries = nil
	return first
}

// writeAtomic writes data to a temp file next to path and renames it over
// path, so readers (PHP includes) see the old or the new file, never half.
func writeAtomic(path string, data []byte, mode fs.FileMode, own owner) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".dxtracker-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	chown(tmp, own)
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort: the rename is done either way
		d.Close()
	}
}

// dirOwner is the owner of the folder dir.
func dirOwner(dir string) (owner, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return owner{}, err
	}
	return ownerOf(fi), nil
}
