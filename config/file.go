package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// parseFile reads the TOML configuration file. Bad values and unknown keys
// are added to probs and parsing goes on, so one run reports them all;
// fatal is true when the file is not TOML at all.
func parseFile(data []byte, path string, probs *problems) (ly layer, fatal bool) {
	ly = newLayer()
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if k, secret := secretValueAt(data, pe.Position.Line); secret {
				// The parser quotes what it could not read ("found
				// "hunter2" instead"): for a secret that is the secret.
				msg = "the value of " + k + " cannot be read (write it in double quotes, or use " + k + "_file)"
			}
			probs.add("config", fmt.Sprintf("%s is not valid TOML: line %d, column %d: %s",
				path, pe.Position.Line, pe.Position.Col, msg), `server_id = 4242`)
		} else {
			probs.add("config", fmt.Sprintf("%s is not valid TOML: %v", path, err), `server_id = 4242`)
		}
		return ly, true
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		raw := m[name]
		origin := fmt.Sprintf("%s in %s", name, path)
		if k := keyByName[name]; k != nil {
			v, p := fromTOML(k, raw)
			if p != "" {
				probs.add(name, p+" in "+path, k.exampleText())
				continue
			}
			v.origin = origin
			ly.values[name] = v
			continue
		}
		if base, ok := strings.CutSuffix(name, "_file"); ok {
			if k := keyByName[base]; k != nil && k.fileOK {
				s, ok := raw.(string)
				if !ok || strings.TrimSpace(s) == "" {
					probs.add(name, "must be the path of a file holding "+base+" in "+path, k.exampleText())
					continue
				}
				ly.files[base] = value{text: resolveRelative(path, s), origin: origin}
				continue
			}
		}
		problem := fmt.Sprintf("unknown key in %s; the nearest valid keys: %s",
			path, strings.Join(nearest(name, fileKeyNames(), 3), ", "))
		if _, ok := raw.(map[string]any); ok {
			problem += " (the file has no [tables]: write every key at the top level)"
		}
		probs.add(name, problem, "")
	}
	return ly, false
}

// fromTOML converts a decoded TOML value to a setting, checking its type.
func fromTOML(k *key, raw any) (value, string) {
	switch k.kind {
	case kindUint32:
		switch x := raw.(type) {
		case int64:
			return value{text: strconv.FormatInt(x, 10)}, ""
		case string:
			return value{text: x}, ""
		}
		return value{}, "must be a number from 1 to 4294967295"
	case kindNumber:
		switch x := raw.(type) {
		case int64:
			return value{text: strconv.FormatInt(x, 10)}, ""
		case float64:
			return value{text: strconv.FormatFloat(x, 'g', -1, 64)}, ""
		case string:
			return value{text: x}, ""
		}
		return value{}, "must be a number"
	case kindList:
		switch x := raw.(type) {
		case string:
			return value{text: x}, ""
		case []any:
			list := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return value{}, "must be a list of quoted strings"
				}
				list = append(list, strings.TrimSpace(s))
			}
			return value{list: list}, ""
		}
		return value{}, "must be a list of quoted strings"
	case kindDuration:
		if s, ok := raw.(string); ok {
			return value{text: s}, ""
		}
		return value{}, `must be a quoted duration such as "30s" or "5m"`
	default:
		if s, ok := raw.(string); ok {
			return value{text: s}, ""
		}
		return value{}, "must be a quoted string"
	}
}

// assignment matches the start of a top-level "key = value" line.
var assignment = regexp.MustCompile(`^\s*["']?([A-Za-z0-9_-]+)["']?\s*=`)

// secretValueAt reports whether line n (1-based) of data belongs to the
// value of a secret key: the nearest line at or above it that starts an
// assignment assigns one (a multi-line string continues its key's line).
func secretValueAt(data []byte, n int) (name string, secret bool) {
	lines := strings.Split(string(data), "\n")
	for i := min(n, len(lines)) - 1; i >= 0; i-- {
		if m := assignment.FindStringSubmatch(lines[i]); m != nil {
			k := keyByName[m[1]]
			return m[1], k != nil && k.secret
		}
	}
	return "", false
}
