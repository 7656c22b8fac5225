package leader

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLockNameIsPrefixedSchemaAndFitsMySQLsLimit(t *testing.T) {
	if got := LockName("vtiger"); got != "dxtracker:vtiger" {
		t.Errorf("LockName(vtiger) = %q", got)
	}
	exact := strings.Repeat("s", MaxLockNameLen-len("dxtracker:"))
	if got := LockName(exact); got != "dxtracker:"+exact {
		t.Errorf("a name of exactly %d characters must stay as it is: %q", MaxLockNameLen, got)
	}
	long1, long2 := strings.Repeat("a", 64), strings.Repeat("a", 63)+"b"
	n1, n2 := LockName(long1), LockName(long2)
	for _, n := range []string{n1, n2, LockName(strings.Repeat("é", 64))} {
		if c := utf8.RuneCountInString(n); c != MaxLockNameLen || !strings.HasPrefix(n, "dxtracker:") || !utf8.ValidString(n) {
			t.Errorf("long name %q: %d characters", n, c)
		}
	}
	if n1 == n2 {
		t.Errorf("schemas differing at the end share the lock name %q", n1)
	}
	if LockName(long1) != n1 {
		t.Error("LockName is not stable")
	}
}
