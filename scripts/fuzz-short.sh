#!/usr/bin/env bash
# Runs every Fuzz* target of the module for FUZZTIME (default 10s).
# A failing target that left a crasher in testdata/fuzz fails the run. The Go
# fuzzing engine also fails, on a loaded machine, with "context deadline
# exceeded" and no crasher (its coordinator times out stopping a worker);
# such a run is retried once, and fails if it happens again.
#
# Every target is found by `go test -list`; the ones below must be found
# (a renamed target or a test package that no longer compiles would
# otherwise drop out of CI without a word). Add new targets here.
# FUZZ=<regexp> runs only the targets whose "package:Name" matches it.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
only=${FUZZ:-}
required=(
  ./api:FuzzEventListQuery                    # GET /api/v1/events parameters and cursor: 400, never 500
  ./api:FuzzAccessLogAndNotificationQueries   # access-log, notifications, stats parameters
  ./beacon:FuzzDecodeBeacon                   # beacon body
  ./beacon:FuzzParseToken                     # beacon token
  ./binlog:FuzzParsePositionRoundTrips
  ./config:FuzzLoadConfigFile                 # config.Load on any TOML
  ./config:FuzzConfigNeverEchoesSecrets       # ... never showing a secret
  ./ingest:FuzzIntakeDetails                  # intake details JSON: never panic, never block
  ./notify:FuzzEventMailHeaders               # mail headers from database values
  ./tracker:FuzzDecodeCursors                 # event and access-log cursors
  ./vtiger:FuzzParseRecipients                # recipients / specificemails of scheduled reports
  ./vtiger:FuzzDecodePHPJSON                  # json_decode as Vtiger sees it
  ./vtigerinstall:FuzzProbeLineRoundTrip
)
# CSV record counting exists only in PHP (the probe): its randomised
# differential test is deploy/vtiger/tests/ProbeCsvCounterHostileTest.php,
# run by go test ./deploy/vtiger.
module=$(go list -m)
ran=()
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  if ! list=$(go test -list '^Fuzz' "$pkg" 2>&1); then
    echo "$list" | tail -20
    echo "FAIL: cannot list the fuzz targets of $pkg"
    exit 1
  fi
  for f in $(grep '^Fuzz' <<<"$list" || true); do
    rel=".${pkg#"$module"}:$f"
    ran+=("$rel")
    if [ -n "$only" ] && ! grep -Eq -- "$only" <<<"$rel"; then
      continue
    fi
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
missing=0
for r in "${required[@]}"; do
  found=0
  for x in "${ran[@]}"; do
    [ "$x" = "$r" ] && found=1 && break
  done
  if [ "$found" = 0 ]; then
    echo "FAIL: fuzz target $r is registered in scripts/fuzz-short.sh but was not found"
    missing=1
  fi
done
exit "$missing"
