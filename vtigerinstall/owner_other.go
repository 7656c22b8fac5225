//go:build !unix

package vtigerinstall

import "io/fs"

type owner struct{ ok bool }

func ownerOf(fs.FileInfo) owner { return owner{} }

func chown(string, owner) {}
