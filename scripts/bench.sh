#!/usr/bin/env bash
# Reproduces the figures of docs/PERFORMANCE.md with one command:
#
#   scripts/bench.sh                 # ~5 minutes on 2 cores
#   COUNT=12 BENCHTIME=2s LOAD_ARGS="-duration 10s" scripts/bench.sh
#
# 1. builds the root package's test binary once;
# 2. runs the paired benchmarks COUNT times (default 10), interleaved:
#    the binary is looped, so that drift hits every pair alike
#    (docs/PERFORMANCE.md, "Method");
# 3. prints benchstat -col /impl for each pair (and -col /conn for the TLS
#    connection modes), and the ratio of medians against each target;
# 4. runs the load program (internal/cmd/load).
#
# Everything goes to $OUT (default bench.out) and the raw benchmark lines
# to ${OUT%.out}-raw.out; both are ignored by git. Loopback only. Needs Go;
# installs benchstat with `go install` if it is missing; uses wrk and
# taskset when installed. Exit status 1 if a pair misses its target.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${COUNT:-10}"
BENCHTIME="${BENCHTIME:-1s}"
OUT="${OUT:-bench.out}"
RAW="${OUT%.out}-raw.out"
BENCH='BenchmarkSign|BenchmarkCallVerify$|BenchmarkCallVerifyPaired|BenchmarkCallVerifyCodec|BenchmarkCallVerifyConn|BenchmarkDecodeFee50|BenchmarkWebhook$|BenchmarkWebhookPaired'

BENCHSTAT="$(command -v benchstat || true)"
if [ -z "$BENCHSTAT" ]; then
  BENCHSTAT="$(go env GOPATH)/bin/benchstat"
  [ -x "$BENCHSTAT" ] || go install golang.org/x/perf/cmd/benchstat@latest
fi

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/voicecall.test" .
go build -o "$bin/load" ./internal/cmd/load

exec > >(tee "$OUT") 2>&1

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
echo "go:     $(go version), GOEXPERIMENT=$(go env GOEXPERIMENT)"
echo "cpu:    $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "kernel: $(uname -sr)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
echo "method: $COUNT interleaved runs of the test binary, -test.benchtime=$BENCHTIME, GOMAXPROCS=$(nproc) (client and server share the cores)"
echo

: > "$RAW"
for i in $(seq "$COUNT"); do
  echo "-- run $i/$COUNT"
  "$bin/voicecall.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime="$BENCHTIME" >> "$RAW"
done
echo

for name in Sign CallVerify DecodeFee50 Webhook; do
  echo "== benchstat -col /impl -filter '.name:$name' (n=$COUNT)"
  "$BENCHSTAT" -col /impl -filter ".name:$name -.unit:B/s" "$RAW" | grep -v '^\(goos\|goarch\|pkg\|cpu\):'
done
echo "== benchstat -filter '.name:CallVerifyPaired' (n=$COUNT; one call of each in turn, ratios per run)"
"$BENCHSTAT" -filter '.name:CallVerifyPaired' "$RAW" | grep -v '^\(goos\|goarch\|pkg\|cpu\):'
echo "== benchstat -filter '.name:CallVerifyCodec' (n=$COUNT; the hand-written call with encoding/json and with a hand-written codec, in turn)"
"$BENCHSTAT" -filter '.name:CallVerifyCodec' "$RAW" | grep -v '^\(goos\|goarch\|pkg\|cpu\):'
echo "== benchstat -filter '.name:WebhookPaired' (n=$COUNT; a new batch and a re-push in turn)"
"$BENCHSTAT" -filter '.name:WebhookPaired' "$RAW" | grep -v '^\(goos\|goarch\|pkg\|cpu\):'
echo "== benchstat -col '/conn@(new new-resumed pooled transport-per-call)' -filter '.name:CallVerifyConn' (n=$COUNT)"
"$BENCHSTAT" -col '/conn@(new new-resumed pooled transport-per-call)' -filter '.name:CallVerifyConn' "$RAW" | grep -v '^\(goos\|goarch\|pkg\|cpu\):'

# Ratio of medians per pair, against the targets in docs/PERFORMANCE.md.
echo "== targets (ratio of medians over $COUNT runs)"
verdict=0
awk -v out=/dev/stdout '
  /^Benchmark/ {
    split($1, p, "/"); name = p[1]; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
    key = p[2]; sub(/-[0-9]+$/, "", key)
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/op") ns[name, key, ++nn[name, key]] = $i
      if ($(i+1) == "allocs/op") al[name, key] = $i
      if ($(i+1) ~ /^(sdk|handwritten|repush|hand)\//) ns[name, $(i+1), ++nn[name, $(i+1)]] = $i
    }
  }
  function median(name, key,    n, i, j, t, a) {
    n = nn[name, key]
    for (i = 1; i <= n; i++) a[i] = ns[name, key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function check(label, name, sdk, base, maxt, maxa, maxabs,    rt, ra, ok) {
    if (!nn[name, sdk] || !nn[name, base]) { printf "%-44s MISSING\n", label; bad = 1; return }
    rt = median(name, sdk) / median(name, base)
    ok = rt <= maxt
    line = sprintf("%-44s time %.2fx (<= %.2f)", label, rt, maxt)
    if (maxa > 0) { ra = al[name, sdk] / al[name, base]; ok = ok && ra <= maxa; line = line sprintf(", allocs %.2fx (<= %.2f)", ra, maxa) }
    if (maxabs > 0) { ok = ok && al[name, sdk] <= maxabs; line = line sprintf(", %d allocs/op (<= %d)", al[name, sdk], maxabs) }
    printf "%s  %s\n", line, ok ? "ok" : "MISSED"
    if (!ok) bad = 1
  }
  function ratio(label, name, unit, maxt,    rt, ok) {
    if (!nn[name, unit]) { printf "%-44s MISSING\n", label; bad = 1; return }
    rt = median(name, unit)
    ok = rt <= maxt
    printf "%-44s time %.2fx (<= %.2f)  %s\n", label, rt, maxt, ok ? "ok" : "MISSED"
    if (!ok) bad = 1
  }
  function floor(label, name, unit, mint,    rt, ok) {
    if (!nn[name, unit]) { printf "%-44s MISSING\n", label; bad = 1; return }
    rt = median(name, unit)
    ok = rt >= mint
    printf "%-44s %.3fx (>= %.2f)  %s\n", label, rt, mint, ok ? "ok" : "MISSED"
    if (!ok) bad = 1
  }
  # Not a target: what a hand-written codec saves of a whole call, against
  # the simple-before-clever rule (a codec stays only at 10 % or more).
  function saving(label, name, unit,    rt) {
    if (!nn[name, unit]) { printf "%-44s MISSING\n", label; bad = 1; return }
    rt = median(name, unit)
    printf "%-44s saves %.1f %% of a call (a codec stays at >= 10 %%)\n", label, 100 * (1 - rt)
  }
  END {
    check("Sign impl=sdk vs impl=floor", "Sign", "impl=sdk", "impl=floor", 2.0, 0, 2)
    check("CallVerify impl=sdk vs impl=handwritten", "CallVerify", "impl=sdk", "impl=handwritten", 1.05, 0, 0)
    check("CallVerify impl=sdk vs impl=minimal", "CallVerify", "impl=sdk", "impl=minimal", 1.25, 0, 0)
    ratio("CallVerifyPaired sdk/handwritten", "CallVerifyPaired", "sdk/handwritten", 1.05)
    ratio("CallVerifyPaired sdk/minimal", "CallVerifyPaired", "sdk/minimal", 1.25)
    saving("CallVerifyCodec hand/json (information)", "CallVerifyCodec", "hand/json")
    check("CallVerifyConn conn=new-resumed vs conn=new", "CallVerifyConn", "conn=new-resumed", "conn=new", 0.6, 0, 0)
    check("DecodeFee50 impl=sdk vs impl=raw", "DecodeFee50", "impl=sdk", "impl=raw", 1.10, 0, 0)
    check("Webhook impl=handler vs impl=raw", "Webhook", "impl=handler", "impl=raw", 1.15, 0, 0)
    check("Webhook impl=handler-repush vs impl=raw", "Webhook", "impl=handler-repush", "impl=raw", 1.15, 0, 0)
    # New batches on a full MemoryDedup at least 0.95x the throughput of re-pushes.
    check("Webhook impl=full-new vs impl=full-repush", "Webhook", "impl=full-new", "impl=full-repush", 1.0 / 0.95, 0, 0)
    # The same pair push by push: repush/new is the throughput ratio, so the target is a floor.
    floor("WebhookPaired repush/new (throughput)", "WebhookPaired", "repush/new", 0.95)
    exit bad
  }' "$RAW" || verdict=1
echo

echo "== load: $bin/load (go run ./internal/cmd/load)"
# shellcheck disable=SC2086 # LOAD_ARGS is a list of flags
"$bin/load" ${LOAD_ARGS:-} || verdict=1
exit "$verdict"
