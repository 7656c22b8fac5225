package doctor

import (
	"strings"
)

// grant is one privilege line of SHOW GRANTS on a database object.
type grant struct {
	privs map[string]bool // upper case, single spaces, column lists removed
	db    string          // "*" for *.*; else the database name pattern (LIKE wildcards, \ escapes)
	table string          // "*" or a table name
}

// parseGrant reads a line of SHOW GRANTS, as MariaDB and MySQL print it:
//
//	GRANT SELECT, INSERT ON `vtiger`.* TO `dx`@`%`
//	GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `dx`@`%` IDENTIFIED BY PASSWORD '*…'
//	GRANT SELECT (id, name) ON `vtiger`.`vtiger_users` TO 'dx'@'%'
//
// ok is false for lines that grant no privileges on a table or database:
// role grants (GRANT `r` TO u), PROXY, routines.
func parseGrant(line string) (g grant, ok bool) {
	s := strings.TrimSpace(line)
	if len(s) < 6 || !strings.EqualFold(s[:6], "GRANT ") {
		return g, false
	}
	s = s[6:]
	on := indexKeyword(s, " ON ")
	if on < 0 {
		return g, false // a role grant
	}
	privPart, rest := s[:on], s[on+len(" ON "):]
	to := indexKeyword(rest, " TO ")
	if to < 0 {
		return g, false
	}
	obj := strings.TrimSpace(rest[:to])
	upper := strings.ToUpper(obj)
	for _, p := range []string{"PROCEDURE ", "FUNCTION ", "PACKAGE BODY ", "PACKAGE "} {
		if strings.HasPrefix(upper, p) {
			return g, false
		}
	}
	if strings.HasPrefix(upper, "TABLE ") {
		obj = strings.TrimSpace(obj[len("TABLE "):])
	}
	db, tail, ok := readIdent(obj)
	if !ok || !strings.HasPrefix(tail, ".") {
		return g, false // PROXY ON ''@'%', or unknown
	}
	table, tail, ok := readIdent(tail[1:])
	if !ok || strings.TrimSpace(tail) != "" {
		return g, false
	}
	g = grant{privs: map[string]bool{}, db: db, table: table}
	for _, p := range splitTopLevel(privPart) {
		if i := strings.IndexByte(p, '('); i >= 0 { // SELECT (col1, col2)
			p = p[:i]
		}
		p = strings.Join(strings.Fields(strings.ToUpper(p)), " ")
		if p == "ALL" {
			p = "ALL PRIVILEGES"
		}
		if p != "" {
			g.privs[p] = true
		}
	}
	return g, true
}

// indexKeyword finds kw (like " ON ") outside quotes and parentheses,
// ignoring case.
func indexKeyword(s, kw string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '`' || c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+len(kw) <= len(s) && strings.EqualFold(s[i:i+len(kw)], kw):
			return i
		}
	}
	return -1
}

// splitTopLevel splits a privilege list at commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// readIdent reads `quoted`, "quoted", * or a bare identifier from the start
// of s, returning it unquoted and the rest of s.
func readIdent(s string) (ident, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	switch q := s[0]; q {
	case '*':
		return "*", s[1:], true
	case '`', '"':
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == q {
				if i+1 < len(s) && s[i+1] == q { // doubled quote
					b.WriteByte(q)
					i++
					continue
				}
				return b.String(), s[i+1:], true
			}
			b.WriteByte(s[i])
		}
		return "", "", false
	case '\'':
		return "", "", false // an account ('' @ '%'), not a database
	}
	i := 0
	for i < len(s) && (isIdentByte(s[i])) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// matchDB reports whether a database name pattern of a grant covers name:
// % matches any run, _ one character, \ escapes the next one. A grant on
// *.* is matched by the caller.
func matchDB(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	switch c := pattern[0]; c {
	case '%':
		for i := 0; i <= len(name); i++ {
			if matchDB(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	case '_':
		return name != "" && matchDB(pattern[1:], name[1:])
	case '\\':
		if len(pattern) > 1 {
			return name != "" && name[0] == pattern[1] && matchDB(pattern[2:], name[1:])
		}
	}
	return name != "" && name[0] == pattern[0] && matchDB(pattern[1:], name[1:])
}

// privileges sums up what a list of SHOW GRANTS lines allows.
type privileges struct {
	global map[string]bool // on *.*
	dbs    []grant         // database-level grants (table "*")
	tables []grant         // table-level grants
}

func newPrivileges(lines []string) privileges {
	p := privileges{global: map[string]bool{}}
	for _, l := range lines {
		g, ok := parseGrant(l)
		if !ok {
			continue
		}
		switch {
		case g.db == "*" && g.table == "*":
			for k := range g.privs {
				p.global[k] = true
			}
		case g.table == "*":
			p.dbs = append(p.dbs, g)
		default:
			p.tables = append(p.tables, g)
		}
	}
	return p
}

// hasGlobal reports whether any of names is granted on *.*.
func (p privileges) hasGlobal(names ...string) bool {
	if p.global["ALL PRIVILEGES"] {
		return true
	}
	for _, n := range names {
		if p.global[n] {
			return true
		}
	}
	return false
}

// onDatabase reports whether priv is granted on every table of db, through
// *.* or a database-level grant.
func (p privileges) onDatabase(db, priv string) bool {
	if p.hasGlobal(priv) {
		return true
	}
	for _, g := range p.dbs {
		if (g.privs[priv] || g.privs["ALL PRIVILEGES"]) && matchDB(g.db, db) {
			return true
		}
	}
	return false
}

// onTable reports whether priv is granted on table of db, through *.*, the
// database or a table-level grant (whose database name is literal, as
// MySQL matches it).
func (p privileges) onTable(db, table, priv string) bool {
	if p.onDatabase(db, priv) {
		return true
	}
	for _, g := range p.tables {
		if (g.privs[priv] || g.privs["ALL PRIVILEGES"]) && g.db == db && g.table == table {
			return true
		}
	}
	return false
}

// account is a MySQL account name, 'user'@'host'.
type account struct{ user, host string }

// parseAccount reads CURRENT_USER() output (user@host) or an operator's
// spelling: user, user@host, 'user'@'host', `user`@`host`. A missing host
// is '%'.
func parseAccount(s string) account {
	s = strings.TrimSpace(s)
	at := -1
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '\'' || c == '`' || c == '"') && (strings.TrimSpace(s[:i]) == "" || strings.HasSuffix(strings.TrimSpace(s[:i]), "@")):
			quote = c // a quote opens a part only at its start: o'neil@host is a bare name
		case c == '@':
			at = i // the last unquoted @ separates the host
		}
	}
	user, host := s, "%"
	if at >= 0 {
		user, host = s[:at], s[at+1:]
	}
	return account{user: unquote(user), host: unquote(host)}
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '`' || s[0] == '"') && s[len(s)-1] == s[0] {
		q := string(s[0])
		return strings.ReplaceAll(s[1:len(s)-1], q+q, q)
	}
	return s
}

// String is the account in SQL, 'user'@'host'.
func (a account) String() string { return quoteString(a.user) + "@" + quoteString(a.host) }

// quoteString makes a single-quoted SQL string literal.
func quoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent makes a backtick-quoted SQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
