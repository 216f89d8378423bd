#!/usr/bin/env bash
# Runs the tests of every module of the repository (each directory with
# its own go.mod: the SDK at the root, and redisstore/, otel/ and the
# examples and helpers that are modules of their own), each on its own
# with GOWORK=off, as its users get it, under the race detector.
#
#   scripts/test.sh                    # go test -race ./... in every module
#   scripts/test.sh -count=1 -shuffle on
#
# Arguments are passed to every go test. Tests that need redis-server or
# chromium skip without them, except with CI=true, where they fail:
# .ci/run installs both.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOWORK=off
modules=$(find . -name go.mod -not -path '*/testdata/*' -not -path './.git/*' -printf '%h\n' | sort)
failed=()
for mod in $modules; do
  echo "== $mod: go test -race $* ./..."
  if ! (cd "$mod" && go test -race "$@" ./...); then
    failed+=("$mod")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED in: ${failed[*]}"
  exit 1
fi
echo "== every module passed"
