package vtigerinstall

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var overrideCases = []struct {
	name, in, want string // want "" = error expected
}{
	{"ends with a line break", "<?php\n$a = 1;\n", "<?php\n$a = 1;\n" + ProbeLine + "\n"},
	{"ends without a line break", "<?php\n$a = 1;", "<?php\n$a = 1;\n" + ProbeLine},
	{"windows line breaks", "<?php\r\n$a = 1;\r\n", "<?php\r\n$a = 1;\r\n" + ProbeLine + "\r\n"},
	{"windows, no final break", "<?php\r\n$a = 1;", "<?php\r\n$a = 1;\r\n" + ProbeLine},
	{"only the open tag", "<?php\n", "<?php\n" + ProbeLine + "\n"},
	{"ends with a lone CR", "<?php\n$a = 1;\r", "<?php\n$a = 1;\r\r\n" + ProbeLine},
	{"closing tag on its own line", "<?php\n$a = 1;\n?>\n", "<?php\n$a = 1;\n" + ProbeLine + "\n?>\n"},
	{"closing tag after code", "<?php\n$a = 1;\n$b = 2; ?>", "<?php\n$a = 1;\n" + ProbeLine + "\n$b = 2; ?>"},
	{"closing tag then blank lines", "<?php\n$a = 1;\n?>\n\n", "<?php\n$a = 1;\n" + ProbeLine + "\n?>\n\n"},
	{"ends in a line comment", "<?php\n$a = 1; // done", "<?php\n$a = 1; // done\n" + ProbeLine},
	{"a ?> inside a string", "<?php\n$s = '?>';\n", "<?php\n$s = '?>';\n" + ProbeLine + "\n"},
	{"closing tag inside a block comment", "<?php\n/* ?> */\n$a = 1;\n", "<?php\n/* ?> */\n$a = 1;\n" + ProbeLine + "\n"},
	{"upper-case open tag, BOM", "\xef\xbb\xbf<?PHP\n$a = 1;\n", "\xef\xbb\xbf<?PHP\n$a = 1;\n" + ProbeLine + "\n"},
	{"empty file", "", "<?php\n" + ProbeLine + "\n"},
	{"unterminated block comment", "<?php\n/* open\n", ""},
	{"unterminated string", "<?php\n$a = 'open\n", ""},
	{"not PHP", "hello\n", ""},
	{"one-line file with closing tag", "<?php $a = 1; ?>\n", ""},
}

func TestProbeLineInsertAndDeleteAreExactInverses(t *testing.T) {
	for _, c := range overrideCases {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := insertProbeLine([]byte(c.in))
			if c.want == "" {
				if err == nil {
					t.Fatalf("want an error, got %q", out)
				}
				return
			}
			if err != nil || !changed {
				t.Fatalf("insert: %v changed=%v", err, changed)
			}
			if string(out) != c.want {
				t.Fatalf("insert:\n%q\nwant\n%q", out, c.want)
			}
			again, changed, err := insertProbeLine(out)
			if err != nil || changed || !bytes.Equal(again, out) {
				t.Errorf("second insert changed the file: %v %v", changed, err)
			}
			back, n := deleteProbeLine(out)
			if n != 1 {
				t.Errorf("deleted %d lines", n)
			}
			if c.in != "" && string(back) != c.in {
				t.Errorf("delete:\n%q\nwant\n%q", back, c.in)
			}
		})
	}
}

func TestDeleteProbeLineRemovesOnlyThatLine(t *testing.T) {
	in := "<?php\n// dxtracker-probe is a comment that mentions the marker\n" +
		"  " + ProbeLine + "  \n$a = 1;\n" + ProbeLine + "\n" + ProbeLine
	out, n := deleteProbeLine([]byte(in))
	if n != 3 {
		t.Errorf("removed %d", n)
	}
	if want := "<?php\n// dxtracker-probe is a comment that mentions the marker\n$a = 1;\n"; string(out) != want {
		t.Errorf("got %q want %q", out, want)
	}
	if got := strayProbeLines([]byte(in)); len(got) != 1 || got[0] != 2 {
		t.Errorf("stray lines %v", got)
	}
}

func FuzzProbeLineRoundTrip(f *testing.F) {
	for _, c := range overrideCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(in, ProbeLine) {
			return
		}
		out, changed, err := insertProbeLine([]byte(in))
		if err != nil {
			return
		}
		if !changed || !hasProbeLine(out) {
			t.Fatalf("insert did not add the line to %q", in)
		}
		back, n := deleteProbeLine(out)
		if n != 1 {
			t.Fatalf("deleted %d lines from %q", n, out)
		}
		if strings.TrimLeft(in, " \t\r\n\xef\xbb\xbf") == "" {
			return // an empty file becomes "<?php\n"
		}
		if string(back) != in {
			t.Fatalf("round trip of %q gave %q", in, back)
		}
	})
}

// The extension's vtlib_handler (PHP) edits config_override.php on Module
// Manager installs; it must make the very same edit as the Go installer,
// so either can undo the other's.
func TestPHPHandlerEditsConfigOverrideLikeTheInstaller(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php not installed: cannot compare the PHP handler with the Go installer")
	}
	_, file, _, _ := runtime.Caller(0)
	class := filepath.Join(filepath.Dir(file), "..", "deploy", "vtiger", "modules", "DataExportTracker", "DataExportTracker.php")
	if _, err := os.Stat(class); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "edit.php")
	writeFile(t, script, `<?php
require $argv[1];
$m = new ReflectionMethod('DataExportTracker', $argv[2] === 'add' ? 'insertProbeLine' : 'deleteProbeLine');
$m->setAccessible(true);
try { echo $m->invoke(null, stream_get_contents(STDIN)); } catch (RuntimeException $e) { fwrite(STDERR, $e->getMessage()); exit(3); }
`, 0o644)
	run := func(op, in string) (string, bool) {
		cmd := exec.Command(php, "-n", script, class, op)
		cmd.Stdin = strings.NewReader(in)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return errb.String(), false
		}
		return out.String(), true
	}
	inputs := []string{"<?php\n$a = 1;\n" + ProbeLine + "\n", "  " + ProbeLine + "\n<?php\n"}
	for _, c := range overrideCases {
		inputs = append(inputs, c.in)
	}
	for _, in := range inputs {
		goOut, _, goErr := insertProbeLine([]byte(in))
		phpOut, ok := run("add", in)
		switch {
		case goErr != nil && ok:
			t.Errorf("insert %q: Go refuses (%v), PHP writes %q", in, goErr, phpOut)
		case goErr == nil && !ok:
			t.Errorf("insert %q: PHP fails (%s), Go writes %q", in, phpOut, goOut)
		case goErr == nil && phpOut != string(goOut):
			t.Errorf("insert %q:\nPHP %q\nGo  %q", in, phpOut, goOut)
		}
		if goErr == nil {
			goBack, _ := deleteProbeLine(goOut)
			phpBack, ok := run("delete", string(goOut))
			if !ok || phpBack != string(goBack) {
				t.Errorf("delete %q:\nPHP %q (%v)\nGo  %q", goOut, phpBack, ok, goBack)
			}
		}
	}
}
