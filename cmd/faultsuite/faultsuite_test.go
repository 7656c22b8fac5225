package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestFaultSuiteShort runs `go run ./cmd/faultsuite -short` in-process:
// every fault at least once (kill -9 at least three times) against a real
// MariaDB, the real binary and the SMTP sink, with the exactly-once checks
// after each. About a minute on a quiet 2-core machine.
func TestFaultSuiteShort(t *testing.T) {
	o, err := parseFlags([]string{"-short"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err = run(ctx, o, &out, tlog{t})
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
}

// tlog sends the suite's progress lines to the test log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
