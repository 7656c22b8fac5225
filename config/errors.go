package config

import (
	"errors"
	"slices"
	"strings"
)

// ExitConfig is the exit status for a configuration error (EX_CONFIG from
// sysexits.h). The systemd unit lists it in RestartPreventExitStatus=, so a
// daemon that cannot start because of its configuration is not restarted in
// a loop.
const ExitConfig = 78

// Error is one configuration problem: the key it concerns, what is wrong and
// an example of a good setting. Load returns several of them joined with
// errors.Join; errors.As finds the first.
type Error struct {
	Key     string // file key (server_id), or "config" / "flags" for the file and the command line
	Problem string // what is wrong; never contains a secret value
	Example string // how a good setting looks, e.g. `server_id = 4242 in the file, or DXT_SERVER_ID=4242`; may be empty
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Example != "" {
		b.WriteString(" (example: ")
		b.WriteString(e.Example)
		b.WriteString(")")
	}
	return b.String()
}

// problems collects Errors in the order they were found.
type problems []*Error

func (p *problems) add(key, problem, example string) {
	*p = append(*p, &Error{Key: key, Problem: problem, Example: example})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	errs := make([]error, len(p))
	for i, e := range p {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// nearest returns up to n names from candidates closest to name by edit
// distance, ignoring case and treating '-' like '_', closest first.
func nearest(name string, candidates []string, n int) []string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	type scored struct {
		name string
		d    int
	}
	want := norm(name)
	all := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		all = append(all, scored{c, editDistance(want, norm(c))})
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.name, b.name)
	})
	out := make([]string, 0, n)
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
