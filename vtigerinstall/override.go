package vtigerinstall

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// config_override.php is included by Vtiger's config.php on every web,
// webservice and cron request, after config.inc.php. Install adds
// ProbeLine to it; Uninstall removes exactly that line. The edit is
// reversible byte for byte: the line goes at the end (after a line break of
// the file's own style when the file ends without one), or, when the file
// ends with a closing ?> tag, on its own line just before the line that
// holds that tag.

// addProbeLine adds ProbeLine to root/config_override.php, creating the
// file when absent; created reports the latter.
func addProbeLine(j *journal, root string, rep *Report) (created bool, err error) {
	target := filepath.Join(root, "config_override.php")
	old, err := os.ReadFile(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := j.writeFile(target, []byte("<?php\n"+ProbeLine+"\n"), 0o644); err != nil {
			return false, fmt.Errorf("vtiger: create config_override.php: %w", unwrapPath(err))
		}
		rep.change("created config_override.php with the probe line")
		return true, nil
	case err != nil:
		return false, fmt.Errorf("vtiger: read config_override.php: %w", unwrapPath(err))
	}
	for _, n := range strayProbeLines(old) {
		rep.warn("config_override.php line %d carries %s but is not the line dxtracker writes; left as it is", n, ProbeMarker)
	}
	out, changed, err := insertProbeLine(old)
	if err != nil {
		return false, fmt.Errorf("vtiger: config_override.php: %w", err)
	}
	if !changed {
		return false, nil
	}
	if err := j.writeFile(target, out, 0); err != nil {
		return false, fmt.Errorf("vtiger: write config_override.php: %w", unwrapPath(err))
	}
	rep.change("added the probe line to config_override.php")
	return false, nil
}

// removeProbeLine removes ProbeLine from root/config_override.php, and the
// file itself when install created it and nothing else was added since.
func removeProbeLine(j *journal, root string, created bool, rep *Report) error {
	target := filepath.Join(root, "config_override.php")
	old, err := os.ReadFile(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("vtiger: read config_override.php: %w", unwrapPath(err))
	}
	for _, n := range strayProbeLines(old) {
		rep.warn("config_override.php line %d carries %s but is not the line dxtracker writes; left as it is, remove it by hand", n, ProbeMarker)
	}
	out, n := deleteProbeLine(old)
	if n == 0 {
		return nil
	}
	if created && (string(out) == "<?php\n" || string(out) == "<?php\r\n") {
		if err := j.removeFile(target); err != nil {
			return fmt.Errorf("vtiger: remove config_override.php: %w", unwrapPath(err))
		}
		rep.change("removed config_override.php, which install had created")
		return nil
	}
	if err := j.writeFile(target, out, 0); err != nil {
		return fmt.Errorf("vtiger: write config_override.php: %w", unwrapPath(err))
	}
	rep.change("removed the probe line from config_override.php")
	return nil
}

// lineSpan is one line of a file: content [start,end), terminator after.
type lineSpan struct {
	start, end int
	term       int // length of the line break: 0 (last line), 1 or 2
}

func splitLines(b []byte) []lineSpan {
	var out []lineSpan
	for start := 0; start < len(b); {
		i := bytes.IndexByte(b[start:], '\n')
		if i < 0 {
			out = append(out, lineSpan{start: start, end: len(b)})
			break
		}
		end, term := start+i, 1
		if end > start && b[end-1] == '\r' {
			end, term = end-1, 2
		}
		out = append(out, lineSpan{start: start, end: end, term: term})
		start = end + term
	}
	return out
}

func isProbeLine(b []byte) bool { return string(bytes.TrimSpace(b)) == ProbeLine }

// hasProbeLine reports whether some line of b is ProbeLine (surrounding
// blanks ignored).
func hasProbeLine(b []byte) bool {
	for _, l := range splitLines(b) {
		if isProbeLine(b[l.start:l.end]) {
			return true
		}
	}
	return false
}

// strayProbeLines are the 1-based numbers of lines that carry ProbeMarker
// but are not ProbeLine.
func strayProbeLines(b []byte) []int {
	var out []int
	for i, l := range splitLines(b) {
		line := b[l.start:l.end]
		if bytes.Contains(line, []byte(ProbeMarker)) && !isProbeLine(line) {
			out = append(out, i+1)
		}
	}
	return out
}

// insertProbeLine returns b with ProbeLine added; changed is false when
// the line is already there.
func insertProbeLine(b []byte) (out []byte, changed bool, err error) {
	if hasProbeLine(b) {
		return b, false, nil
	}
	nl := "\n"
	if bytes.Contains(b, []byte("\r\n")) {
		nl = "\r\n"
	}
	body := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(body) == 0 {
		return []byte("<?php" + nl + ProbeLine + nl), true, nil
	}
	if len(body) < 5 || !strings.EqualFold(string(body[:5]), "<?php") {
		return nil, false, fmt.Errorf("the file does not begin with <?php; add this line to it by hand: %s", ProbeLine)
	}
	switch phpModeAt(b, len(b)) {
	case modeCode, modeLineComment:
		var buf bytes.Buffer
		buf.Write(b)
		switch {
		case bytes.HasSuffix(b, []byte("\n")):
			buf.WriteString(ProbeLine + nl)
		case bytes.HasSuffix(b, []byte("\r")):
			// A lone CR would pair with a LF into one line break, which
			// deleteProbeLine would then remove whole.
			buf.WriteString("\r\n" + ProbeLine)
		default:
			buf.WriteString(nl + ProbeLine)
		}
		return buf.Bytes(), true, nil
	case modeHTML:
		// Ends with ?>: put the line before the line holding that tag.
		tag := bytes.LastIndex(b, []byte("?>"))
		ls := bytes.LastIndexByte(b[:max(tag, 0)], '\n') + 1
		if tag > 0 && ls > 0 && phpModeAt(b, ls) == modeCode {
			var buf bytes.Buffer
			buf.Write(b[:ls])
			buf.WriteString(ProbeLine + nl)
			buf.Write(b[ls:])
			return buf.Bytes(), true, nil
		}
	}
	return nil, false, fmt.Errorf("cannot find a safe place for the probe line (the file ends inside a comment, a string or HTML); add this line to it by hand: %s", ProbeLine)
}

// deleteProbeLine removes every ProbeLine line of b, undoing
// insertProbeLine exactly; n is how many it removed.
func deleteProbeLine(b []byte) (out []byte, n int) {
	drop := make([]bool, len(b))
	ls := splitLines(b)
	for i, l := range ls {
		if !isProbeLine(b[l.start:l.end]) {
			continue
		}
		from, to := l.start, l.end+l.term
		if l.term == 0 && i > 0 {
			from -= ls[i-1].term // the line break insertProbeLine added before it
		}
		for k := from; k < to; k++ {
			drop[k] = true
		}
		n++
	}
	if n == 0 {
		return b, 0
	}
	out = make([]byte, 0, len(b))
	for k, c := range b {
		if !drop[k] {
			out = append(out, c)
		}
	}
	return out, n
}

type phpMode int

const (
	modeHTML phpMode = iota
	modeCode
	modeSingle
	modeDouble
	modeLineComment
	modeBlockComment
)

// phpModeAt tells what PHP's lexer is inside of at offset off of src: HTML
// (outside <?php ... ?>), code, a string or a comment. Heredocs are not
// recognised; config files do not use them around their last line.
func phpModeAt(src []byte, off int) phpMode {
	m := modeHTML
	for i := 0; i < off && i < len(src); i++ {
		c := src[i]
		next := byte(0)
		if i+1 < len(src) {
			next = src[i+1]
		}
		switch m {
		case modeHTML:
			if c == '<' && next == '?' {
				m = modeCode
				i++
				if i+3 < len(src) && strings.EqualFold(string(src[i+1:i+4]), "php") {
					i += 3
				}
			}
		case modeCode:
			switch {
			case c == '\'':
				m = modeSingle
			case c == '"':
				m = modeDouble
			case c == '#' || (c == '/' && next == '/'):
				m = modeLineComment
			case c == '/' && next == '*':
				m = modeBlockComment
				i++
			case c == '?' && next == '>':
				m = modeHTML
				i++
			}
		case modeSingle, modeDouble:
			if c == '\\' {
				i++
			} else if (m == modeSingle && c == '\'') || (m == modeDouble && c == '"') {
				m = modeCode
			}
		case modeLineComment:
			if c == '\n' {
				m = modeCode
			} else if c == '?' && next == '>' {
				m = modeHTML
				i++
			}
		case modeBlockComment:
			if c == '*' && next == '/' {
				m = modeCode
				i++
			}
		}
	}
	return m
}
