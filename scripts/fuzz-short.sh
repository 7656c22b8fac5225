#!/usr/bin/env bash
# Runs every Fuzz* target of the module for FUZZTIME (default 10s).
# A failing target that left a crasher in testdata/fuzz fails the run. The Go
# fuzzing engine also fails, on a loaded machine, with "context deadline
# exceeded" and no crasher (its coordinator times out stopping a worker);
# such a run is retried once, and fails if it happens again.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    for attempt in 1 2; do
      echo "fuzz $pkg $f (attempt $attempt)"
      before=$(ls "$dir/testdata/fuzz/$f" 2>/dev/null | wc -l || true)
      if out=$(go test -run '^$' -fuzz "^$f\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
        echo "$out" | tail -1
        break
      fi
      after=$(ls "$dir/testdata/fuzz/$f" 2>/dev/null | wc -l || true)
      echo "$out" | grep -v '^fuzz: elapsed' | tail -20
      if [ "$after" -ne "$before" ] || ! grep -q 'context deadline exceeded' <<<"$out" || [ "$attempt" = 2 ]; then
        echo "FAIL: $f in $pkg"
        exit 1
      fi
      echo "fuzz engine timed out without a crasher; retrying once"
    done
  done
done
