package binlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in the server's binary log: a file and a byte offset,
// plus the server's GTID state at that point when it is known.
//
// Its text form, from String and read by ParsePosition, is
// "binlog.000003:4567" or "binlog.000003:4567 gtid=0-1-42"; the zero
// Position is "".
type Position struct {
	File string
	Pos  uint32
	// GTID is the server's GTID state after the event at Pos, in the
	// server's own notation: a MariaDB GTID position ("0-1-42", one GTID per
	// domain, comma separated) or a MySQL GTID set ("uuid:1-42"). Empty when
	// unknown. It is informational: streaming resumes from File and Pos.
	GTID string
}

const gtidSep = " gtid="

// String returns the text form that ParsePosition reads back.
func (p Position) String() string {
	if p.IsZero() {
		return ""
	}
	s := p.File + ":" + strconv.FormatUint(uint64(p.Pos), 10)
	if p.GTID != "" {
		s += gtidSep + p.GTID
	}
	return s
}

// ParsePosition reads the form String writes. The empty string is the zero
// Position.
func ParsePosition(s string) (Position, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Position{}, nil
	}
	var p Position
	head := s
	if i := strings.Index(s, gtidSep); i >= 0 {
		head, p.GTID = s[:i], strings.TrimSpace(s[i+len(gtidSep):])
		if p.GTID == "" {
			return Position{}, fmt.Errorf("binlog position %q: empty gtid", s)
		}
	}
	i := strings.LastIndexByte(head, ':')
	if i <= 0 || i == len(head)-1 {
		return Position{}, fmt.Errorf("binlog position %q: want FILE:POS, e.g. binlog.000003:4567", s)
	}
	if strings.ContainsAny(head[:i], " \t\n") {
		return Position{}, fmt.Errorf("binlog position %q: file name has a space", s)
	}
	pos, err := strconv.ParseUint(head[i+1:], 10, 32)
	if err != nil {
		return Position{}, fmt.Errorf("binlog position %q: bad offset: %w", s, errors.Unwrap(err))
	}
	p.File, p.Pos = head[:i], uint32(pos)
	return p, nil
}

// IsZero reports whether p names no file.
func (p Position) IsZero() bool { return p.File == "" && p.Pos == 0 }

// Compare orders positions by the file's sequence number (the digits after
// the last dot, as in binlog.000003), then by offset. It returns -1, 0 or
// +1. The zero Position sorts first. GTID is ignored.
func (p Position) Compare(q Position) int {
	if c := compareFiles(p.File, q.File); c != 0 {
		return c
	}
	switch {
	case p.Pos < q.Pos:
		return -1
	case p.Pos > q.Pos:
		return 1
	}
	return 0
}

func compareFiles(a, b string) int {
	if a == b {
		return 0
	}
	sa, oka := fileSeq(a)
	sb, okb := fileSeq(b)
	switch {
	case oka && okb && sa != sb:
		if sa < sb {
			return -1
		}
		return 1
	case oka != okb: // a name without a number (such as "") sorts first
		if okb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// fileSeq is the number after the last dot of a binlog file name.
func fileSeq(name string) (uint64, bool) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return 0, false
	}
	n, err := strconv.ParseUint(name[i+1:], 10, 64)
	return n, err == nil
}
