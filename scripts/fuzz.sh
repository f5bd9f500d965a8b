#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (go test -fuzz takes
# one target of one package at a time). `make test` runs them briefly, `make
# fuzz` longer; a failing input is written under the package's testdata/fuzz
# (commit it: it becomes a seed). One worker per target: the server's targets
# start a PostgreSQL cluster per worker. A run that outlives its time by two
# minutes is stopped and fails.
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
    echo "fuzz $pkg $target ($fuzztime)"
    timeout --kill-after=10s $((seconds + 120)) \
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg"
  done
done
