package config

import (
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfigFile feeds arbitrary bytes as the configuration file: Load
// must not panic, every error must be a *Error, and a success must be a
// usable configuration.
func FuzzLoadConfigFile(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("..", "deploy", "dxtracker.example.toml")); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"server_id = 1\nmysql_dsn = \"u:p@tcp(h:3306)/vtiger\"\n",
		"server_id = \"4242\"\nmysql_dsn_file = \"dsn\"\n",
		"sever_id = 1\n[smtp]\naddr = 1\n",
		"trusted_proxies = [\"10.0.0.0/8\", 1]\nallowed_origins = \"https://a, http://b:1\"\n",
		"heartbeat = 5\nlisten = \"\"\nserver_id = -1\n",
		"a = [[1]]\nb = {c = 2}\n[[d]]\n",
		"server_id = 1\nserver_id = 2\n",
		"mysql_dsn = \"u:p@tcp(h:3306)/vtiger\"\nserver_id = 1\ntls_cert = \"c\"\nsmtp_user = \"u\"\n",
	} {
		f.Add([]byte(s))
	}
	const path = "/fuzz/dxtracker.toml"
	f.Fuzz(func(t *testing.T, data []byte) {
		l := loader{readFile: func(p string, limit int64) ([]byte, error) {
			switch p {
			case path:
				return data, nil
			case "/fuzz/dsn":
				return []byte("u:p@tcp(h:3306)/vtiger\n"), nil
			}
			return nil, fs.ErrNotExist
		}}
		fset := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		fset.SetOutput(io.Discard)
		c, _, err := l.load(fset, []string{"--config", path}, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					if _, ok := e.(*Error); !ok {
						t.Fatalf("joined error %T is not a *Error: %v", e, e)
					}
				}
			}
			return
		}
		if c.ServerID == 0 || c.Listen == "" || c.Heartbeat <= 0 {
			t.Fatalf("accepted an unusable configuration: %v", c)
		}
		if _, err := c.MySQL(); err != nil {
			t.Fatalf("accepted a DSN that MySQL() refuses: %v", err)
		}
		_ = c.Redacted()
		_ = c.String()
	})
}
