#!/usr/bin/env bash
# buf breaking against a previous commit (default HEAD~1, or $1): the contract
# may grow, not change under its callers. The commit is checked out into a temp
# folder with the googleapis protos of this tree (they are not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-HEAD~1}
buf=${BUF:-buf}
if ! git rev-parse --verify -q "$ref^{commit}" >/dev/null; then
  git fetch -q --deepen=1 2>/dev/null || true # a shallow clone
fi
if ! git rev-parse --verify -q "$ref^{commit}" >/dev/null; then
  echo "buf breaking: $ref does not exist (the first commit?): nothing to compare against" >&2
  exit 0
fi
against=$(mktemp -d)
trap 'rm -rf "$against"' EXIT
git archive "$ref" | tar -x -C "$against"
if [ ! -f "$against/buf.yaml" ]; then
  echo "buf breaking: $ref has no buf.yaml: nothing to compare against" >&2
  exit 0
fi
mkdir -p "$against/build"
cp -r build/googleapis "$against/build/"
"$buf" breaking --against "$against"
echo "buf breaking: no breaking change since $(git rev-parse --short "$ref")"
