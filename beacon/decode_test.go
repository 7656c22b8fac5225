package beacon

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeBeaconAcceptsTrackerJSShape(t *testing.T) {
	b, err := DecodeBeacon([]byte(`{"token":"v1.5.1.x","kind":"copy","url":"https://crm/index.php?module=Contacts&view=List",
		"module":"Contacts","view":"List","record":null,"chars":1234,"rows":17,"text":"Mary\tSmith\n","ts":1733300000000}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != "copy" || b.Module != "Contacts" || b.View != "List" || b.Record != "" || *b.Chars != 1234 || *b.Rows != 17 ||
		b.Text != "Mary\tSmith\n" || *b.TS != 1733300000000 || b.Token != "v1.5.1.x" {
		t.Fatalf("%+v", b)
	}
	b, err = DecodeBeacon([]byte(` {"kind":"cut","record":123,"chars":17.0} `))
	if err != nil || b.Record != "123" || *b.Chars != 17 || b.Rows != nil || b.TS != nil {
		t.Fatalf("%+v, %v", b, err)
	}
}

func TestDecodeBeaconRefusalsSayWhy(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{``, "empty body"},
		{`[]`, "not a JSON object"},
		{`"copy"`, "not a JSON object"},
		{`{"kind":"copy"`, "truncated JSON"},
		{`{"kind":"copy",}`, "malformed JSON"},
		{`{"kind":"copy"} {}`, "trailing data"},
		{`{"kind":"copy","extra":1}`, `unknown field "extra"`},
		{`{"token":"t"}`, "kind: missing"},
		{`{"kind":"paste"}`, `kind: want "copy", "cut" or "contextmenu", got "paste"`},
		{`{"kind":1}`, "kind: want a string"},
		{`{"kind":"copy","text":5}`, "text: want a string"},
		{`{"kind":"copy","chars":-1}`, "chars: want a whole number"},
		{`{"kind":"copy","rows":1.5}`, "rows: want a whole number"},
		{`{"kind":"copy","ts":"1733300000000"}`, "ts: want a whole number"},
		{`{"kind":"copy","chars":1e300}`, "chars: want a whole number"},
		{`{"kind":"copy","record":{}}`, "record: want a string or a whole number"},
		{`{"kind":"copy","module":["a"]}`, "module: want a string"},
	} {
		_, err := DecodeBeacon([]byte(c.body))
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeBeacon(%s) = %v; want %q", c.body, err, c.want)
		}
	}
}

func TestDecodeBeaconClipsPageFields(t *testing.T) {
	body, _ := json.Marshal(map[string]any{"kind": "copy", "url": strings.Repeat("é", 3000), "module": strings.Repeat("m", 500), "record": strings.Repeat("9", 100)})
	b, err := DecodeBeacon(body)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.RuneCountInString(b.URL) != maxURL || !utf8.ValidString(b.URL) || len(b.Module) != maxModule || len(b.Record) != maxRecord {
		t.Fatalf("url %d runes, module %d, record %d", utf8.RuneCountInString(b.URL), len(b.Module), len(b.Record))
	}
}

// FuzzDecodeBeacon: no body panics; an accepted beacon has a known kind,
// valid UTF-8, bounded page fields and non-negative counts, and its error
// messages never quote more than a short piece of the body.
func FuzzDecodeBeacon(f *testing.F) {
	f.Add([]byte(`{"token":"v1.5.1.x","kind":"copy","url":"u","module":"Contacts","view":"List","record":"1","chars":3,"rows":1,"text":"abc","ts":1}`))
	f.Add([]byte(`{"kind":"contextmenu","record":7,"chars":2.0}`))
	f.Add([]byte(`{"kind":"cut","text":"\ud800 \u00e9","unknown":true}`))
	f.Add([]byte(`{"kind":"copy"} x`))
	f.Add([]byte("{\"kind\":\"copy\",\"text\":\"\xff\xfe\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBeacon(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		switch b.Kind {
		case KindCopy, KindCut, KindContextMenu:
		default:
			t.Fatalf("kind %q accepted", b.Kind)
		}
		for _, s := range []string{b.Token, b.URL, b.Module, b.View, b.Record, b.Text} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 accepted: %q", s)
			}
		}
		if utf8.RuneCountInString(b.URL) > maxURL || utf8.RuneCountInString(b.Module) > maxModule ||
			utf8.RuneCountInString(b.View) > maxView || utf8.RuneCountInString(b.Record) > maxRecord {
			t.Fatalf("page field over its limit: %+v", b)
		}
		for _, n := range []*int64{b.Chars, b.Rows, b.TS} {
			if n != nil && (*n < 0 || *n > maxCount) {
				t.Fatalf("count %d accepted", *n)
			}
		}
	})
}
