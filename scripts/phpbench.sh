#!/usr/bin/env bash
# Measures the seed's PHP client against the SDK over TLS, side by side in
# one run (docs/PERFORMANCE.md, "PHP vs SDK over TLS"):
#
#   scripts/phpbench.sh                      # ~20 s on 2 cores
#   PHPBENCH_ARGS="-calls 500 -rounds 7" scripts/phpbench.sh
#
# Builds examples/sandbox, then runs internal/cmd/phpbench, which starts
# it with -tls on a loopback port and interleaves rounds of sequential
# CallVerify calls by the PHP sample (examples/sandbox/php, unchanged) and
# by the SDK. Needs Go and php-cli with OpenSSL (Debian: apt-get install
# php-cli); without php it measures the SDK only. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/sandbox" ./examples/sandbox
go build -o "$bin/phpbench" ./internal/cmd/phpbench

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "cpu:  $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (before the run)"
# shellcheck disable=SC2086 # PHPBENCH_ARGS is a list of flags
"$bin/phpbench" -sandbox "$bin/sandbox" ${PHPBENCH_ARGS:-}
