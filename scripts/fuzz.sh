#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (go test -fuzz takes
# one target of one package at a time). `make test` runs them briefly, `make
# fuzz` longer; a failing input is written under the package's testdata/fuzz
# (commit it: it becomes a seed). One worker per target: the server's targets
# start a PostgreSQL cluster per worker. A run that outlives its time by two
# minutes is stopped and fails.
#
# Go before 1.27 can fail a target with a bare "context deadline exceeded" as
# -fuzztime ends, its coordinator racing its own deadline (go.dev/issue/75804),
# more often on a loaded machine; no input is at fault and none is written. A
# target that fails that way, and only that way, is run once more.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3s}
case $fuzztime in
  *m) seconds=$(( ${fuzztime%m} * 60 )) ;;
  *s) seconds=${fuzztime%s} ;;
  *) echo "FUZZTIME: use seconds or minutes, like 30s or 5m" >&2; exit 2 ;;
esac
grep -rl --include='*_test.go' '^func Fuzz' internal cmd | sort | while read -r file; do
  pkg=./$(dirname "$file")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    for attempt in 1 2; do
      echo "fuzz $pkg $target ($fuzztime)"
      log=$(mktemp)
      began=$SECONDS
      rc=0
      timeout --kill-after=10s $((seconds + 120)) \
        go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" 2>&1 | tee "$log" ||
        rc=${PIPESTATUS[0]}
      if [ "$rc" = 0 ]; then
        rm -f "$log"
        break
      fi
      # A failure that printed nothing of its own (it happened once, after 24 s)
      # still says how go test ended and when.
      echo "fuzz $pkg $target: go test exited with status $rc after $((SECONDS - began)) s (124: stopped by timeout)"
      if [ "$attempt" = 1 ] && grep -q '^    context deadline exceeded$' "$log" &&
        ! grep -q 'Failing input written to' "$log"; then
        echo "fuzz $pkg $target: the coordinator's deadline race (go.dev/issue/75804), once more"
        rm -f "$log"
        continue
      fi
      rm -f "$log"
      exit 1
    done
  done
done
