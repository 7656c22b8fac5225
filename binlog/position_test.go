package binlog

import "testing"

func TestPositionRoundTripsThroughString(t *testing.T) {
	for _, p := range []Position{
		{},
		{File: "binlog.000003", Pos: 4567},
		{File: "binlog.000003", Pos: 4567, GTID: "0-1-42"},
		{File: "mysql-bin.000120", Pos: 4, GTID: "0-1-42,1-2-7"},
		{File: "binlog.000001", Pos: 4294967295, GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,3e11fa47-71ca-11e1-9e33-c80aa9429563:1-2"},
	} {
		got, err := ParsePosition(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePosition(%q) = %+v, %v; want %+v", p.String(), got, err, p)
		}
	}
	if s := (Position{File: "binlog.000003", Pos: 4567, GTID: "0-1-42"}).String(); s != "binlog.000003:4567 gtid=0-1-42" {
		t.Errorf("String() = %q", s)
	}
}

func TestParsePositionRejectsMalformedText(t *testing.T) {
	for _, s := range []string{"binlog.000003", "binlog.000003:", ":45", "binlog.000003:x", "binlog.000003:-1",
		"binlog.000003:4294967296", "binlog.000003:45 gtid=", "bin log:4"} {
		if p, err := ParsePosition(s); err == nil {
			t.Errorf("ParsePosition(%q) = %+v, want an error", s, p)
		}
	}
}

func TestPositionComparesByFileSequenceThenOffset(t *testing.T) {
	ordered := []Position{
		{},
		{File: "binlog.000009", Pos: 900},
		{File: "binlog.000010", Pos: 4},
		{File: "binlog.000010", Pos: 5},
		{File: "binlog.1000000", Pos: 4},
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
	if (Position{File: "b.000001", Pos: 4, GTID: "0-1-1"}).Compare(Position{File: "b.000001", Pos: 4}) != 0 {
		t.Error("Compare looks at GTID")
	}
	if !(Position{}).IsZero() || (Position{File: "b.000001"}).IsZero() {
		t.Error("IsZero wrong")
	}
}

func FuzzParsePositionRoundTrips(f *testing.F) {
	for _, s := range []string{"", "binlog.000003:4567", "binlog.000003:4567 gtid=0-1-42", "a:1 gtid=x gtid=y", ":", "b.1:99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePosition(s)
		if err != nil {
			return
		}
		q, err := ParsePosition(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePosition(%q) = %+v; its String %q parses to %+v, %v", s, p, p.String(), q, err)
		}
	})
}
