package binlog

import (
	"strings"
	"unicode"
)

// ddlKeywords start statements that can change a table's columns.
var ddlKeywords = map[string]bool{"alter": true, "create": true, "drop": true, "rename": true}

// ddlMentions reports whether query is DDL (ALTER, CREATE, DROP, RENAME)
// that names one of tables. It errs on the side of yes: a false yes costs
// one information_schema query, a false no wrong column names.
func ddlMentions(query string, tables map[string]bool) bool {
	words := identifiers(query)
	if len(words) == 0 || !ddlKeywords[words[0]] {
		return false
	}
	for _, w := range words[1:] {
		if tables[w] {
			return true
		}
	}
	return false
}

// identifiers splits query into lower-cased identifier-like words, skipping
// ordinary comments but keeping the content of executable comments
// (/*!50100 ... */, /*M!100100 ... */).
func identifiers(query string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, strings.ToLower(b.String()))
			b.Reset()
		}
	}
	for i := 0; i < len(query); {
		switch {
		case strings.HasPrefix(query[i:], "/*!") || strings.HasPrefix(query[i:], "/*M!"):
			flush()
			i += strings.IndexByte(query[i:], '!') + 1
			for i < len(query) && query[i] >= '0' && query[i] <= '9' {
				i++
			}
		case strings.HasPrefix(query[i:], "/*"):
			flush()
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return words
			}
			i += 2 + end + 2
		case strings.HasPrefix(query[i:], "*/"):
			flush()
			i += 2
		default:
			r := rune(query[i])
			if r >= 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$' {
				b.WriteByte(query[i])
			} else {
				flush()
			}
			i++
		}
	}
	flush()
	return words
}
