package vtiger

// Small reimplementations of PHP and MySQL behaviour that Vtiger's recipient
// resolution depends on.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	switch k {
	case jsonNull:
		return "null"
	case jsonBool:
		return "boolean"
	case jsonNumber:
		return "number"
	case jsonString:
		return "string"
	case jsonArray:
		return "list"
	default:
		return "object"
	}
}

// jsonValue is a decoded JSON document as PHP's json_decode($s, true) sees
// it, kept only as deep as Vtiger looks: the top level and its elements.
type jsonValue struct {
	kind  jsonKind
	str   string      // jsonString
	elems []jsonValue // jsonArray, jsonObject at the top level: values in PHP order; nested composites stay empty
}

// maxJSONDepth is json_decode's default nesting limit.
const maxJSONDepth = 512

// decodePHPJSON decodes s like json_decode($s, true) (which is what Vtiger's
// Zend_Json::decode calls). Where json_decode returns null because of an
// error, it returns the error. Object values keep PHP's array order: a
// duplicate key overwrites the earlier value in the earlier position.
func decodePHPJSON(s string) (jsonValue, error) {
	if !utf8.ValidString(s) {
		return jsonValue{}, errors.New("invalid UTF-8")
	}
	if err := checkSurrogates(s); err != nil {
		return jsonValue{}, err
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := readJSONValue(dec, 0)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonValue{}, errors.New("data after the JSON value")
	}
	return v, nil
}

func readJSONValue(dec *json.Decoder, depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, errors.New("nesting too deep")
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return jsonValue{}, errors.New("unexpected end of JSON")
	}
	if err != nil {
		return jsonValue{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case bool:
		return jsonValue{kind: jsonBool}, nil
	case json.Number:
		return jsonValue{kind: jsonNumber, str: t.String()}, nil
	case string:
		return jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		// json_decode's depth 512 counts the scalar level too: at most
		// 511 nested lists and objects.
		if depth+1 >= maxJSONDepth {
			return jsonValue{}, errors.New("nesting too deep")
		}
		switch t {
		case '[':
			v := jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := readJSONValue(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				if depth == 0 {
					v.elems = append(v.elems, e)
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return jsonValue{}, err
			}
			return v, nil
		case '{':
			v := jsonValue{kind: jsonObject}
			pos := map[string]int{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jsonValue{}, err
				}
				key, ok := k.(string)
				if !ok {
					return jsonValue{}, fmt.Errorf("object key is %v", k)
				}
				e, err := readJSONValue(dec, depth+1)
				if err != nil {
					return jsonValue{}, err
				}
				if depth != 0 {
					continue
				}
				if i, dup := pos[key]; dup {
					v.elems[i] = e
				} else {
					pos[key] = len(v.elems)
					v.elems = append(v.elems, e)
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return jsonValue{}, err
			}
			return v, nil
		}
	}
	return jsonValue{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// checkSurrogates refuses what json_decode refuses and encoding/json
// quietly turns into U+FFFD: a \uD800-\uDFFF escape that is not a high
// surrogate followed by a low one.
func checkSurrogates(s string) error {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // an escaped character, or malformed (the decoder says so)
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if lo, ok := hex4(i + 6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11
				continue
			}
			return errors.New("single unpaired UTF-16 surrogate in unicode escape")
		case r >= 0xDC00 && r <= 0xDFFF:
			return errors.New("single unpaired UTF-16 surrogate in unicode escape")
		}
		i += 5
	}
	return nil
}

// phpEmpty is PHP's empty() for a string.
func phpEmpty(s string) bool { return s == "" || s == "0" }

// phpTrim is PHP's trim() with its default character list.
func phpTrim(s string) string { return strings.Trim(s, " \t\n\r\x00\x0B") }

// mysqlNumberPrefix is the part of a string MySQL reads when it compares the
// string with a number.
var mysqlNumberPrefix = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`)

// mysqlIntID tells which integer id `WHERE id = ?` matches when Vtiger binds
// the string s (PearDatabase quotes it): MySQL turns the string into a
// number from its leading numeric part ("5", " 5", "05", "5abc", "5.0" all
// match id 5; "abc" is 0 and matches nothing). ok is false when no integer
// id can match.
func mysqlIntID(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	m := mysqlNumberPrefix.FindString(s)
	if m == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(m, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// sqlEqualCI approximates `a = b` under Vtiger's utf8_general_ci columns:
// case-insensitive, trailing spaces ignored.
func sqlEqualCI(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, " "), strings.TrimRight(b, " "))
}

// sqlLike is MySQL's `s LIKE pattern` under a case-insensitive collation:
// '%' matches any run, '_' one character, '\' escapes the next character.
func sqlLike(s, pattern string) bool {
	str, pat := []rune(s), []rune(pattern)
	// Iterative wildcard matching with backtracking to the last '%'.
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(str) {
		if pi < len(pat) {
			c := pat[pi]
			switch {
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '_':
				si++
				pi++
				continue
			case c == '\\' && pi+1 < len(pat):
				if runeEqualFold(pat[pi+1], str[si]) {
					si++
					pi += 2
					continue
				}
			default:
				if runeEqualFold(c, str[si]) {
					si++
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		si, pi = starS, starP+1
	}
	for pi < len(pat) && pat[pi] == '%' {
		pi++
	}
	return pi == len(pat)
}

func runeEqualFold(a, b rune) bool {
	return a == b || strings.EqualFold(string(a), string(b))
}

// asciiLower is PHP 8's strtolower: ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
