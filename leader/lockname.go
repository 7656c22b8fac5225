package leader

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// MaxLockNameLen is the longest lock name MySQL 5.7+ accepts (characters;
// longer names are an error there). MariaDB accepts longer names, but a
// name must work on both.
const MaxLockNameLen = 64

// lockPrefix starts every lock name this package makes.
const lockPrefix = "dxtracker:"

// LockName is the named lock of the daemons tracking the database schema:
// "dxtracker:<schema>". Named locks are server-wide, not per database, so
// the schema is part of the name: daemons of two Vtiger databases on one
// server do not exclude each other. When the name would be longer than
// MaxLockNameLen, it becomes the prefix, the start of the schema name and
// a hash of the whole schema name, so it stays unique and recognisable.
//
// The manuals say lock names are case-insensitive, but MariaDB 10.11
// compares them case-sensitively (TestGetLockBehaviourTheElectorReliesOn logs it):
// the name keeps the schema's case, so it is the same string on every
// daemon that uses the same DSN.
func LockName(schema string) string {
	name := lockPrefix + schema
	if utf8.RuneCountInString(name) <= MaxLockNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	hash := hex.EncodeToString(sum[:])[:16]
	keep := MaxLockNameLen - utf8.RuneCountInString(lockPrefix) - 1 - len(hash)
	head := []rune(schema)[:keep]
	return lockPrefix + string(head) + "~" + hash
}
