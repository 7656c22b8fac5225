package vtiger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	osexec "os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

// phpJSONCases are texts on which json_decode's and encoding/json's ideas
// of JSON differ or nearly do.
var phpJSONCases = []string{
	`["USER::1"]`, `"a@b.c"`, `null`, ``, ` `, `0`, `-0`, `1e999`, `[1,]`, `{"a":1,"a":2}`, `{"":1}`,
	`"\ud800"`, `"\udc00"`, `"\ud800\udc00"`, `"\ud800\u0041"`, `"\ud800"x`, `"\\ud800"`, `"\\\ud800"`, `["\uDBFF\uDFFF"]`,
	`"\u0000"`, "\"\xff\"", "\xef\xbb\xbf[]", `[1] `, `[1] [2]`, `{"a" 1}`, `tru`, `NaN`, `[Infinity]`, `"\/"`, `"\x"`,
	strings.Repeat("[", 510) + strings.Repeat("]", 510),
	strings.Repeat("[", 511) + strings.Repeat("]", 511),
	strings.Repeat("[", 512) + strings.Repeat("]", 512),
	strings.Repeat("[", 511) + "1" + strings.Repeat("]", 511),
	strings.Repeat("[", 512) + "1" + strings.Repeat("]", 512),
	strings.Repeat(`{"a":`, 511) + "1" + strings.Repeat("}", 511),
	strings.Repeat(`{"a":`, 512) + "1" + strings.Repeat("}", 512),
}

// TestDecodePHPJSONAgreesWithPHP asks the real json_decode (php-cli) which
// of phpJSONCases it rejects: decodePHPJSON must reject exactly those, since
// Vtiger's cron mails nobody for a column json_decode cannot read.
func TestDecodePHPJSONAgreesWithPHP(t *testing.T) {
	php, err := osexec.LookPath("php")
	if err != nil {
		t.Skip("php not installed")
	}
	var in bytes.Buffer
	for _, c := range phpJSONCases {
		in.WriteString(base64.StdEncoding.EncodeToString([]byte(c)) + "\n")
	}
	cmd := osexec.Command(php, "-r", `while (($l = fgets(STDIN)) !== false) { $s = base64_decode(trim($l)); json_decode($s, true); echo json_last_error() === JSON_ERROR_NONE ? "ok\n" : "error\n"; }`)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php: %v", err)
	}
	answers := strings.Fields(string(out))
	if len(answers) != len(phpJSONCases) {
		t.Fatalf("php answered %d lines for %d cases", len(answers), len(phpJSONCases))
	}
	for i, c := range phpJSONCases {
		_, err := decodePHPJSON(c)
		if (err == nil) != (answers[i] == "ok") {
			t.Errorf("%.60q: json_decode %s, decodePHPJSON error %v", c, answers[i], err)
		}
	}
}

// jsonNesting is the deepest nesting of lists and objects in a valid JSON
// text.
func jsonNesting(s string) int {
	dec := json.NewDecoder(strings.NewReader(s))
	depth, max := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return max
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
				max = maxInt(max, depth)
			} else {
				depth--
			}
		}
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// FuzzDecodePHPJSON checks the decoder behind the recipients and
// specificemails columns against encoding/json and PHP's limits: it never
// panics, accepts only valid JSON in valid UTF-8, and accepts every valid
// JSON text that json_decode reads (nesting under 512, no lone surrogate
// escapes).
func FuzzDecodePHPJSON(f *testing.F) {
	for _, c := range phpJSONCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodePHPJSON(s)
		valid := json.Valid([]byte(s)) && utf8.ValidString(s)
		if err == nil {
			if !valid {
				t.Fatalf("%q accepted but is not valid JSON", s)
			}
			if v.kind != jsonArray && v.kind != jsonObject && len(v.elems) != 0 {
				t.Fatalf("%q: scalar with elements", s)
			}
			return
		}
		if valid && jsonNesting(s) < maxJSONDepth && checkSurrogates(s) == nil {
			t.Fatalf("%q refused (%v) but json_decode reads it", s, err)
		}
	})
}
