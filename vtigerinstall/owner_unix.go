//go:build unix

package vtigerinstall

import (
	"io/fs"
	"os"
	"syscall"
)

// owner is a file's user and group; ok is false when unknown.
type owner struct {
	uid, gid int
	ok       bool
}

func ownerOf(fi fs.FileInfo) owner {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return owner{uid: int(st.Uid), gid: int(st.Gid), ok: true}
	}
	return owner{}
}

// chown gives path the owner own when that differs from the running user.
// Only root may give files away; for anyone else the file simply stays
// theirs, which is what they could have done by hand, so errors are ignored.
func chown(path string, own owner) {
	if !own.ok || (own.uid == os.Geteuid() && own.gid == os.Getegid()) {
		return
	}
	os.Lchown(path, own.uid, own.gid) //nolint:errcheck // see above
}
