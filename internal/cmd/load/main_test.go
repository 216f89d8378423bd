package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunTiny runs both parts small and unpinned, with the built-in
// generator, so that the program keeps working.
func TestRunTiny(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-calls", "20", "-rounds", "2", "-duration", "200ms", "-conns", "2", "-gen", "go", "-pin=false"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr.String(), stdout.String())
	out := stdout.String()
	assert.Contains(t, out, "20 concurrent CallVerify calls")
	assert.Contains(t, out, "(40 calls, 0 failed)")
	assert.Contains(t, out, "/fee ")
	assert.Contains(t, out, "/baseline ")
	assert.Contains(t, out, "efficiency")
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"-part", "x"}, {"-calls", "0"}, {"-duration", "1h"}, {"-gen", "ab"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(t.Context(), args, &stdout, &stderr), args)
	}
}

func TestParseWrk(t *testing.T) {
	const report = `Running 8s test @ http://127.0.0.1:40000/fee
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.66ms    1.25ms  20.01ms   80.00%
    Req/Sec     3.43k   120.00     3.60k    70.00%
  Latency Distribution
     50%    4.60ms
     75%    5.10ms
     90%    6.00ms
     99%   10.99ms
  27416 requests in 8.00s, 3.01MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   3427.00
Transfer/sec:    385.00KB
`
	r, err := parseWrk(report)
	require.NoError(t, err)
	assert.Equal(t, int64(27416), r.requests)
	assert.InDelta(t, 3427.0, r.rps, 0.01)
	assert.Equal(t, int64(5), r.non2xx)
	assert.Equal(t, int64(3), r.errors)
	assert.Equal(t, 4600*time.Microsecond, r.p50)
	assert.Equal(t, 10990*time.Microsecond, r.p99)

	clean, err := parseWrk(strings.NewReplacer("  Socket errors: connect 0, read 2, write 0, timeout 1\n", "", "  Non-2xx or 3xx responses: 5\n", "").Replace(report))
	require.NoError(t, err)
	assert.Zero(t, clean.non2xx)
	assert.Zero(t, clean.errors)

	_, err = parseWrk("unable to connect")
	assert.Error(t, err)
}

func TestPct(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	assert.Equal(t, time.Duration(3), pct(ds, 50))
	assert.Equal(t, time.Duration(5), pct(ds, 99))
	assert.Equal(t, time.Duration(0), pct(nil, 50))
}
