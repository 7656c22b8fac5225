package vtigerinstall

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dxtracker/dxtracker/tracker"
)

// vtigerRoot is what inspectRoot learned about a Vtiger installation.
type vtigerRoot struct {
	Dir     string
	Version string // $vtiger_current_version, e.g. "8.0.0"
	DBName  string // $dbconfig['db_name'] in config.inc.php; "" when unreadable
	DBErr   string // why DBName is "", for the message
}

// What a folder must hold to be taken for a Vtiger 7/8 installation.
var (
	rootFiles = []string{"vtigerversion.php", "config.inc.php", "index.php"}
	rootDirs  = []string{"modules", "layouts/v7"}
)

var (
	versionRe = regexp.MustCompile(`\$vtiger_current_version\s*=\s*(['"])([^'"]*)(['"])\s*;`)
	dbNameRe  = regexp.MustCompile(`\$dbconfig\s*\[\s*(['"])db_name(['"])\s*\]\s*=\s*(.*?)\s*;`)
	quotedRe  = regexp.MustCompile(`^(?:'([^'\\]*)'|"([^"\\$]*)")$`)
)

// inspectRoot checks that root is a Vtiger installation and reads its
// version and database name. It returns nil and the problems when root is
// not one; a non-nil result may still come with problems (unreadable
// version or database name).
func inspectRoot(root string) (*vtigerRoot, []string) {
	fi, err := os.Stat(root)
	switch {
	case err != nil:
		return nil, []string{fmt.Sprintf("--root %s: %v", root, unwrapPath(err))}
	case !fi.IsDir():
		return nil, []string{fmt.Sprintf("--root %s is not a folder; point it at the Vtiger folder that holds index.php, config.inc.php and vtigerversion.php", root)}
	}
	var missing []string
	for _, f := range rootFiles {
		if fi, err := os.Stat(filepath.Join(root, f)); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, f)
		}
	}
	for _, d := range rootDirs {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(d))); err != nil || !fi.IsDir() {
			missing = append(missing, d+"/")
		}
	}
	if len(missing) > 0 {
		return nil, []string{fmt.Sprintf("%s is not a Vtiger 7/8 installation: %s missing; point --root at the Vtiger folder that holds index.php, config.inc.php and vtigerversion.php",
			root, strings.Join(missing, ", "))}
	}

	vt := &vtigerRoot{Dir: root}
	var probs []string
	b, err := os.ReadFile(filepath.Join(root, "vtigerversion.php"))
	if err != nil {
		probs = append(probs, fmt.Sprintf("cannot read vtigerversion.php: %v", unwrapPath(err)))
	} else if m := versionRe.FindSubmatch(stripComments(b)); m == nil || string(m[1]) != string(m[3]) || len(m[2]) == 0 {
		probs = append(probs, "vtigerversion.php does not set $vtiger_current_version = '<version>'; is this a Vtiger installation?")
	} else {
		vt.Version = string(m[2])
	}
	b, err = os.ReadFile(filepath.Join(root, "config.inc.php"))
	if err != nil {
		vt.DBErr = fmt.Sprintf("cannot read config.inc.php: %v", unwrapPath(err))
	} else {
		vt.DBName, vt.DBErr = parseDBName(b)
	}
	return vt, probs
}

// parseDBName finds the last $dbconfig['db_name'] = '...'; assignment
// outside comments (PHP's last assignment wins).
func parseDBName(src []byte) (string, string) {
	ms := dbNameRe.FindAllSubmatch(stripComments(src), -1)
	if len(ms) == 0 {
		return "", "config.inc.php has no $dbconfig['db_name'] = '...'; line"
	}
	m := ms[len(ms)-1]
	if string(m[1]) != string(m[2]) {
		return "", "config.inc.php has a malformed $dbconfig['db_name'] line"
	}
	lit := quotedRe.FindSubmatch(m[3])
	if lit == nil {
		return "", fmt.Sprintf("config.inc.php sets $dbconfig['db_name'] to %s, not to a plain quoted name", string(m[3]))
	}
	name := string(lit[1]) + string(lit[2])
	if name == "" {
		return "", "config.inc.php sets $dbconfig['db_name'] to an empty name"
	}
	return name, ""
}

// stripComments blanks out PHP comments (//, #, /* */) outside string
// literals, keeping line structure, so commented-out settings are ignored.
func stripComments(src []byte) []byte {
	out := make([]byte, 0, len(src))
	const (
		code = iota
		single
		double
		line
		block
	)
	state := code
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch state {
		case code:
			switch {
			case c == '\'':
				state = single
			case c == '"':
				state = double
			case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
				state = line
				continue
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				state = block
				i++
				continue
			}
			out = append(out, c)
		case single, double:
			out = append(out, c)
			if c == '\\' && i+1 < len(src) {
				i++
				out = append(out, src[i])
			} else if (state == single && c == '\'') || (state == double && c == '"') {
				state = code
			}
		case line:
			if c == '\n' {
				state = code
				out = append(out, c)
			}
		case block:
			if c == '*' && i+1 < len(src) && src[i+1] == '/' {
				state = code
				i++
			} else if c == '\n' {
				out = append(out, c)
			}
		}
	}
	return out
}

// checkSupported returns a problem when version is outside the range the
// manifest declares (vtiger_version .. vtiger_max_version).
func checkSupported(version string, man Manifest) string {
	lo, hi := man.Dependencies.VtigerVersion, man.Dependencies.VtigerMaxVersion
	if !versionAtLeast(version, lo) || (hi != "" && !versionAtMost(version, hi)) {
		rng := lo + " or later"
		if hi != "" {
			rng = "from " + lo + " to " + hi
		}
		return fmt.Sprintf("Vtiger %s is not supported: %s %s works with Vtiger %s (7.x and 8.x)", version, man.Name, man.Version, rng)
	}
	return ""
}

// versionParts turns "8.0.0", "7.5.0RC" or "8.*" into numbers; a "*"
// becomes -1 and ends the list, trailing letters of a part are ignored.
func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(strings.TrimSpace(v), ".") {
		if p == "*" {
			return append(out, -1)
		}
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			n = 0
		}
		out = append(out, n)
	}
	return out
}

func versionAtLeast(v, min string) bool {
	a, b := versionParts(v), versionParts(min)
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := at(a, i), at(b, i)
		if y == -1 {
			return true
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// versionAtMost compares with a maximum that may end in ".*": 8.* admits
// every 8.x.
func versionAtMost(v, maxV string) bool {
	a, b := versionParts(v), versionParts(maxV)
	for i := 0; i < max(len(a), len(b)); i++ {
		x, y := at(a, i), at(b, i)
		if y == -1 {
			return true
		}
		if x != y {
			return x < y
		}
	}
	return true
}

func at(p []int, i int) int {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// Tables Install and Uninstall need, and the ones they use when present.
var (
	requiredTables = []string{"vtiger_tab", "vtiger_settings_blocks", "vtiger_settings_field", "vtiger_settings_field_seq", "vtiger_links", "vtiger_links_seq"}
	trackerTables  = []string{"dxt_schema_version", "dxt_config", "dxt_intake", "dxt_intake_chunk", "dxt_event", "dxt_content", "dxt_content_chunk", "dxt_access_log"}
)

// checkDatabase checks that db is the database of vt and holds what the
// extension needs.
func checkDatabase(ctx context.Context, db *sql.DB, vt *vtigerRoot, install bool) []string {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT DATABASE()`).Scan(&current); err != nil {
		return []string{fmt.Sprintf("cannot query the database: %v", err)}
	}
	if !current.Valid || current.String == "" {
		return []string{"mysql_dsn names no database; it must end in /<the Vtiger database>, the db_name in config.inc.php"}
	}
	switch {
	case vt.DBName == "":
		return []string{fmt.Sprintf("%s; cannot tell whether mysql_dsn (database %q) is this Vtiger's database", vt.DBErr, current.String)}
	case vt.DBName != current.String:
		return []string{fmt.Sprintf("mysql_dsn points at database %q, but %s uses database %q (config.inc.php, $dbconfig['db_name']): that is another Vtiger's database; fix mysql_dsn or --root",
			current.String, vt.Dir, vt.DBName)}
	}
	have, err := tableSet(ctx, db)
	if err != nil {
		return []string{err.Error()}
	}
	var probs []string
	if miss := missingTables(have, requiredTables); len(miss) > 0 {
		probs = append(probs, fmt.Sprintf("database %q lacks the Vtiger tables %s; is it a Vtiger 7/8 database?", current.String, strings.Join(miss, ", ")))
	}
	if !install {
		return probs
	}
	if miss := missingTables(have, trackerTables); len(miss) > 0 {
		probs = append(probs, fmt.Sprintf("the tracker tables are not in database %q (missing %s): run `dxtracker migrate` with the same configuration first", current.String, strings.Join(miss, ", ")))
		return probs
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM dxt_schema_version`).Scan(&v); err != nil {
		return append(probs, fmt.Sprintf("cannot read the tracker schema version: %v", err))
	}
	if want := tracker.LatestSchemaVersion(); !v.Valid || int(v.Int64) < want {
		probs = append(probs, fmt.Sprintf("the tracker tables are at schema version %d but this dxtracker needs %d: run `dxtracker migrate` first", v.Int64, want))
	}
	return probs
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableSet lists the tables of the current database whose names start with
// vtiger_ or dxt_.
func tableSet(ctx context.Context, q queryer) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND (TABLE_NAME LIKE 'vtiger\_%' OR TABLE_NAME LIKE 'dxt\_%')`)
	if err != nil {
		return nil, fmt.Errorf("cannot list the tables: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("cannot list the tables: %w", err)
		}
		have[strings.ToLower(n)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the tables: %w", err)
	}
	return have, nil
}

func missingTables(have map[string]bool, want []string) []string {
	var miss []string
	for _, t := range want {
		if !have[t] {
			miss = append(miss, t)
		}
	}
	sort.Strings(miss)
	return miss
}

// unwrapPath drops the *PathError wrapper when the path is already in the
// message.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
