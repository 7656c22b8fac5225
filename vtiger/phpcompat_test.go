package vtiger

import "testing"

func TestMySQLIntIDReadsTheLeadingNumberLikeMySQL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"5", 5, true}, {"05", 5, true}, {" 5", 5, true}, {"\t5", 5, true}, {"5abc", 5, true},
		{"5.0", 5, true}, {"1e1", 10, true}, {"+7", 7, true}, {"-3", -3, true},
		{"5.5", 0, false}, {"abc", 0, false}, {"", 0, false}, {".", 0, false}, {"0x10", 0, true},
	} {
		got, ok := mysqlIntID(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("mysqlIntID(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSQLLikeMatchesPrefixPatternsCaseInsensitively(t *testing.T) {
	for _, c := range []struct {
		s, pattern string
		want       bool
	}{
		{"H1::H2::H3", "H1::H2%", true},
		{"H1::H2", "H1::H2%", true},
		{"H1::H21", "H1::H2%", true}, // Vtiger's pattern has no "::" before '%'
		{"H1::H3", "H1::H2%", false},
		{"h1::h2::h5", "H1::H2%", true},
		{"anything", "%", true},
		{"", "%", true},
		{"H1", "H_", true},
		{"H1x", "H_", false},
		{"a%b", `a\%b`, true},
		{"axb", `a\%b`, false},
		{"abcabd", "%abd", true},
		{"abc", "a%c%", true},
	} {
		if got := sqlLike(c.s, c.pattern); got != c.want {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}

func TestDecodePHPJSONRejectsWhatJSONDecodeRejects(t *testing.T) {
	for _, s := range []string{"", " ", "[1,]", "{'a':1}", "[1] [2]", "\xff", "nul", `{"a"}`, `{1:2}`} {
		if _, err := decodePHPJSON(s); err == nil {
			t.Errorf("decodePHPJSON(%q) accepted", s)
		}
	}
	for _, s := range []string{"null", " [ ] ", `{"":"x"}`, `"\u00e9"`, "1e999", "-0"} {
		if _, err := decodePHPJSON(s); err != nil {
			t.Errorf("decodePHPJSON(%q): %v", s, err)
		}
	}
}
