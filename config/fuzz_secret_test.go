package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
)

// secretMark is part of every secret the fuzz target writes; no message,
// example or key name of this package contains it.
const secretMark = "Qz7Xk"

// FuzzConfigNeverEchoesSecrets writes a secret (the DSN's password,
// smtp_password or webhook_secret) into an arbitrary configuration file,
// quoted or bare, well-formed or broken, around arbitrary other lines.
// Load must not panic, every error must be a *Error, and neither an error
// message nor the printed configuration may show the secret.
func FuzzConfigNeverEchoesSecrets(f *testing.F) {
	for _, s := range []struct {
		head, pre, post string
		which           uint8
		quoted          bool
	}{
		{"server_id = 1", "hunter", "2", 0, true},
		{"server_id = 1", "falsehood", "", 1, false},
		{"server_id = 1", "truffle", "42", 1, false},
		{"server_id = 1", `abc\uZZ`, "", 1, true},
		{"server_id = 1", `abc\U0011FFFF`, "", 2, true},
		{"server_id = 1", "1.5e", "", 2, false},
		{"server_id = 1", "a\"b", "c", 1, true},
		{"server_id = 1", "'''", "\nmore", 2, false},
		{"server_id = 1", "p@ss", "/x?y=%zz", 0, true},
		{"server_id = 1", "p", ")(tcp", 0, true},
		{"server_id = 1\nsmtp_user = \"u\"\nsmtp_addr = \"h:25\"", "", "", 1, true},
		{"server_id = \"x\"", "", "", 2, true},
		{"[smtp]", "x", "", 1, true},
		{"", "\"\"\"", "\n\"\"\"", 1, false},
	} {
		f.Add(s.head, s.pre, s.post, s.which, s.quoted)
	}
	f.Fuzz(func(t *testing.T, head, pre, post string, which uint8, quoted bool) {
		if strings.Contains(head, secretMark) {
			return
		}
		secret := pre + secretMark + post
		var line string
		key := []string{"mysql_dsn", "smtp_password", "webhook_secret"}[int(which)%3]
		value := secret
		if key == "mysql_dsn" {
			value = "dxtracker:" + secret + "@tcp(127.0.0.1:3306)/vtiger"
		}
		if quoted {
			line = key + ` = "` + value + `"`
		} else {
			line = key + " = " + value
		}
		file := head + "\n" + line + "\n"
		if key != "mysql_dsn" {
			file += "mysql_dsn = \"u:p@tcp(h:3306)/vtiger\"\n"
		}
		l := loader{readFile: func(p string, limit int64) ([]byte, error) {
			if p == "/fuzz/dxtracker.toml" {
				return []byte(file), nil
			}
			return nil, fs.ErrNotExist
		}}
		fset := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fset.SetOutput(io.Discard)
		c, _, err := l.load(fset, []string{"--config", "/fuzz/dxtracker.toml"}, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if strings.Contains(err.Error(), secretMark) {
				t.Fatalf("error shows the secret of %s:\nfile:\n%s\nerror: %v", key, file, err)
			}
			return
		}
		for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), fmt.Sprint(c.Redacted())} {
			if strings.Contains(shown, secretMark) {
				t.Fatalf("printed configuration shows the secret of %s: %s", key, shown)
			}
		}
		if _, err := c.MySQL(); err != nil && strings.Contains(err.Error(), secretMark) {
			t.Fatalf("MySQL() error shows the DSN password: %v", err)
		}
	})
}
