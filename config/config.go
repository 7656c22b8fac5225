// Package config loads the daemon's configuration: one TOML file, every key
// overridable by an environment variable DXT_<KEY> and by a flag --<key>,
// with secrets optionally read from files.
//
// Precedence, highest first: flag, environment, file, default. A key's
// _file variant (DXT_<KEY>_FILE, <key>_file, --<key>-file) counts at the
// level it is given at; giving both forms at one level is an error. The
// _file forms exist for mysql_dsn and smtp_password; tls_key names a key
// file already and has none. There is no --smtp-password flag and
// --mysql-dsn refuses a password: flags are visible to every user in ps.
//
// An empty environment variable counts as unset. Unknown keys in the file
// are errors; unknown DXT_* variables only warnings (Config.Warnings).
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultPath is the configuration file read when neither --config nor
// DXT_CONFIG names one. It may be absent.
const DefaultPath = "/etc/dxtracker/dxtracker.toml"

// Size limits for files Load reads: a secret named by mistake as /dev/zero
// or a log file must not eat the memory.
const (
	maxConfigFile = 1 << 20
	maxSecretFile = 64 << 10
)

// Config is the daemon's configuration, validated. Zero-valued optional
// fields mean "not set".
type Config struct {
	MySQLDSN string // go-sql-driver DSN of the Vtiger database; holds a password, see Redacted
	ServerID uint32 // replica server id of the binlog connection, never 0

	Listen       string // API and beacons, host:port
	BeaconListen string // optional second listener for beacons only
	TLSCert      string // PEM files; both or neither
	TLSKey       string

	SMTPAddr     string // host:port; "" = no mail
	SMTPUser     string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string // starttls | tls | none
	SMTPTimeout  time.Duration
	// NotifyRetryBase is the first wait after a failed delivery; it
	// doubles up to an hour, for up to 24 hours.
	NotifyRetryBase time.Duration

	// WebhookSecret signs webhook notifications (HMAC-SHA256).
	WebhookSecret string

	// Beacon abuse limits. A rate below 0 means off.
	BeaconUserRate  float64
	BeaconUserBurst int
	BeaconIPRate    float64
	BeaconIPBurst   int
	BeaconQueue     int
	BeaconMemoryMB  int
	BeaconWriters   int

	LogLevel  string // debug | info | warn | error
	LogFormat string // auto | json | console
	Flavor    string // auto | mariadb | mysql

	TrustedProxies []netip.Prefix // single addresses become /32 or /128
	AllowedOrigins []string       // lower-case scheme://host[:port]
	VtigerURL      string         // without trailing slash

	Heartbeat           time.Duration
	ScheduleMergeWindow time.Duration
	ShutdownTimeout     time.Duration

	// Path is the configuration file that was read, "" when none was.
	Path string
	// Warnings are harmless oddities worth logging once, such as an
	// environment variable DXT_SEVER_ID that is no setting.
	Warnings []string
}

// Load reads the configuration from the command line args (without the
// program and command name), the environment env (as from os.Environ; nil
// means none) and the file named by --config or DXT_CONFIG, or DefaultPath.
// It returns the arguments left after the flags.
//
// Errors are *Error values, several joined with errors.Join; errors.Is(err,
// flag.ErrHelp) when -h was given (print Usage, exit 0).
func Load(args, env []string) (Config, []string, error) {
	fset := flag.NewFlagSet("dxtracker", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	return LoadFlagSet(fset, args, env)
}

// LoadFlagSet is Load on a caller's flag set, for commands that define flags
// of their own: it adds the configuration flags to fset, parses args with it
// and loads. fset should use flag.ContinueOnError.
func LoadFlagSet(fset *flag.FlagSet, args, env []string) (Config, []string, error) {
	l := loader{readFile: readFileLimited}
	return l.load(fset, args, env)
}

type loader struct {
	readFile func(path string, limit int64) ([]byte, error)
}

// layer is one source of settings: the flags, the environment or the file.
type layer struct {
	values map[string]value // by key name
	files  map[string]value // by key name; text is the path of the secret file
}

func newLayer() layer {
	return layer{values: map[string]value{}, files: map[string]value{}}
}

func (l loader) load(fset *flag.FlagSet, args, env []string) (Config, []string, error) {
	var c Config
	var probs problems

	flags, configFlag := registerFlags(fset)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, nil, flag.ErrHelp
		}
		probs.add("flags", err.Error(), "dxtracker run --config /etc/dxtracker/dxtracker.toml")
		return c, nil, probs.err()
	}
	flagLayer := flags.layer(&probs)

	envLayer, envConfig, warnings := envLayer(env)
	c.Warnings = warnings

	// The file: --config, else DXT_CONFIG, else the default (may be absent).
	path, explicit, origin := DefaultPath, false, ""
	switch {
	case configFlag.set:
		path, explicit, origin = configFlag.last(), true, "--config"
	case envConfig != nil:
		path, explicit, origin = *envConfig, true, "DXT_CONFIG"
	}
	fileLayer := newLayer()
	if path != "" {
		data, err := l.readFile(path, maxConfigFile)
		switch {
		case err == nil:
			c.Path = path
			var fatal bool
			fileLayer, fatal = parseFile(data, path, &probs)
			if fatal {
				return Config{}, nil, probs.err()
			}
		case errors.Is(err, fs.ErrNotExist) && !explicit:
			// No file at the default place: environment and flags only.
		default:
			probs.add("config", fmt.Sprintf("cannot read the configuration file named by %s: %v", orDefault(origin), err),
				"--config /etc/dxtracker/dxtracker.toml, or DXT_CONFIG=/etc/dxtracker/dxtracker.toml")
			return Config{}, nil, probs.err()
		}
	}

	layers := []layer{flagLayer, envLayer, fileLayer}
	for _, k := range keys {
		v, ok := l.resolve(k, layers, &probs)
		if !ok {
			switch {
			case k.def != "":
				v = value{text: k.def}
			case k.required:
				probs.add(k.name, "is required"+requiredWhy[k.name], k.exampleText())
				continue
			default:
				continue
			}
		}
		if p := k.apply(&c, v); p != "" {
			probs.add(k.name, p, k.exampleText())
		}
	}
	if len(probs) == 0 {
		crossCheck(&c, &probs)
	}
	if err := probs.err(); err != nil {
		return Config{}, nil, err
	}
	return c, fset.Args(), nil
}

var requiredWhy = map[string]string{
	"mysql_dsn": ": the go-sql-driver DSN of the Vtiger database",
	"server_id": ": the replica server id of dxtracker's binlog connection, a number from 1 to 4294967295 that no server or other replica uses",
}

func orDefault(origin string) string {
	if origin == "" {
		return "default " + DefaultPath
	}
	return origin
}

// resolve finds the highest-precedence setting of k. ok is false when no
// layer sets it (or the setting was bad, then probs has the reason).
func (l loader) resolve(k *key, layers []layer, probs *problems) (value, bool) {
	for _, ly := range layers {
		v, hasV := ly.values[k.name]
		f, hasF := ly.files[k.name]
		switch {
		case hasV && hasF:
			probs.add(k.name, fmt.Sprintf("both %s and %s are set; keep one", v.origin, f.origin), k.exampleText())
			return value{}, false
		case hasF:
			data, err := l.readFile(f.text, maxSecretFile)
			if err != nil {
				probs.add(k.name, fmt.Sprintf("cannot read the file named by %s: %v", f.origin, err), k.exampleText())
				return value{}, false
			}
			text := strings.TrimRight(string(data), "\r\n")
			if text == "" {
				probs.add(k.name, fmt.Sprintf("the file %s named by %s is empty", f.text, f.origin), k.exampleText())
				return value{}, false
			}
			return value{text: text, origin: fmt.Sprintf("file %s (named by %s)", f.text, f.origin)}, true
		case hasV:
			return v, true
		}
	}
	return value{}, false
}

// crossCheck validates keys that depend on each other.
func crossCheck(c *Config, probs *problems) {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		missing, other := "tls_key", "tls_cert"
		if c.TLSCert == "" {
			missing, other = other, missing
		}
		probs.add(missing, "must be set together with "+other+" (both or neither)", keyByName[missing].exampleText())
	}
	if c.BeaconListen != "" && c.BeaconListen == c.Listen {
		probs.add("beacon_listen", "must differ from listen (leave it empty to serve beacons on listen)", keyByName["beacon_listen"].exampleText())
	}
	if c.SMTPAddr != "" && c.SMTPFrom == "" {
		probs.add("smtp_from", "is required when smtp_addr is set: the sender of notifications", keyByName["smtp_from"].exampleText())
	}
	if c.SMTPPassword != "" && c.SMTPUser == "" {
		probs.add("smtp_user", "is required when smtp_password is set", keyByName["smtp_user"].exampleText())
	}
	if c.SMTPUser != "" && c.SMTPPassword == "" {
		probs.add("smtp_password", "is required when smtp_user is set", keyByName["smtp_password"].exampleText())
	}
}

// envLayer reads DXT_* variables. Empty values count as unset. Unknown
// DXT_ names become warnings, not errors: the variable may be meant for
// another tool.
func envLayer(env []string) (ly layer, configPath *string, warnings []string) {
	ly = newLayer()
	known := map[string]bool{"DXT_CONFIG": true}
	var candidates []string
	for _, k := range keys {
		known[k.env()] = true
		candidates = append(candidates, k.env())
		if k.fileOK {
			known[k.fileEnv()] = true
			candidates = append(candidates, k.fileEnv())
		}
	}
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "DXT_") || val == "" {
			continue
		}
		if name == "DXT_CONFIG" {
			configPath = &val
			continue
		}
		if !known[name] {
			warnings = append(warnings, fmt.Sprintf("environment variable %s is not a dxtracker setting (nearest: %s)",
				name, strings.Join(nearest(name, candidates, 3), ", ")))
			continue
		}
		for _, k := range keys {
			switch name {
			case k.env():
				ly.values[k.name] = value{text: val, origin: name}
			case k.fileEnv():
				if k.fileOK {
					ly.files[k.name] = value{text: val, origin: name}
				}
			}
		}
	}
	slices.Sort(warnings)
	return ly, configPath, warnings
}

// flagValue records every occurrence of a flag.
type flagValue struct {
	set  bool
	vals []string
}

func (f *flagValue) String() string { return "" }
func (f *flagValue) Set(s string) error {
	f.set = true
	f.vals = append(f.vals, s)
	return nil
}
func (f *flagValue) last() string { return f.vals[len(f.vals)-1] }

type flagSet struct {
	values map[*key]*flagValue
	files  map[*key]*flagValue
}

func registerFlags(fset *flag.FlagSet) (flagSet, *flagValue) {
	fl := flagSet{values: map[*key]*flagValue{}, files: map[*key]*flagValue{}}
	config := &flagValue{}
	fset.Var(config, "config", "configuration file (default "+DefaultPath+"; empty: none)")
	for _, k := range keys {
		if !k.noFlag {
			fv := &flagValue{}
			fl.values[k] = fv
			fset.Var(fv, k.flag(), k.usage)
		}
		if k.fileOK {
			fv := &flagValue{}
			fl.files[k] = fv
			fset.Var(fv, k.fileFlag(), "read "+k.name+" from this file")
		}
	}
	return fl, config
}

// layer turns the parsed flags into settings. Repeated list flags add up;
// repeated scalar flags: the last wins.
func (fl flagSet) layer(probs *problems) layer {
	ly := newLayer()
	for _, k := range keys {
		if fv := fl.values[k]; fv != nil && fv.set {
			v := value{text: fv.last(), origin: "--" + k.flag()}
			if k.kind == kindList {
				v = value{list: []string{}, origin: v.origin}
				for _, s := range fv.vals {
					v.list = append(v.list, splitList(s)...)
				}
			}
			if k.name == "mysql_dsn" && dsnHasPassword(v.text) {
				probs.add(k.name, "--mysql-dsn must not carry a password, since every user sees flags in ps; use DXT_MYSQL_DSN, DXT_MYSQL_DSN_FILE or --mysql-dsn-file",
					k.exampleText())
				continue
			}
			ly.values[k.name] = v
		}
		if fv := fl.files[k]; fv != nil && fv.set {
			ly.files[k.name] = value{text: fv.last(), origin: "--" + k.fileFlag()}
		}
	}
	return ly
}

// Usage prints the flags and their environment variables.
func Usage(w io.Writer) {
	fmt.Fprintf(w, "Configuration (flag > environment > file %s > default):\n", DefaultPath)
	fmt.Fprintf(w, "  --config PATH\n      DXT_CONFIG; configuration file\n")
	for _, k := range keys {
		names := []string{}
		if !k.noFlag {
			names = append(names, "--"+k.flag())
		}
		if k.fileOK {
			names = append(names, "--"+k.fileFlag())
		}
		envs := k.env()
		if k.fileOK {
			envs += ", " + k.fileEnv()
		}
		def := ""
		if k.def != "" {
			def = " (default " + k.def + ")"
		}
		fmt.Fprintf(w, "  %s\n      %s; %s%s\n", strings.Join(names, ", "), envs, k.usage, def)
	}
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// resolveRelative makes a path from the file relative to the file's folder.
func resolveRelative(configPath, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(configPath), p)
}
