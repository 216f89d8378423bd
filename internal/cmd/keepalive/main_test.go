package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunTiny runs the measurement small on both servers, so that the
// program keeps working; it exits non-zero when a call on short
// connections (the control) fails.
func TestRunTiny(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-runs", "1", "-seq", "20", "-bursts", "2", "-burst", "4"}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr.String(), stdout.String())
	out := stdout.String()
	assert.Contains(t, out, "== voicetest server")
	assert.Contains(t, out, "== raw server")
	assert.Contains(t, out, "voicetest: sequential ")
	assert.Contains(t, out, "raw: sequential ")
	assert.Contains(t, out, "load average")
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"-runs", "0"}, {"-seq", "0"}, {"-burst", "1001"}, {"-server", "x"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &stdout, &stderr), args)
	}
}

func TestMedian(t *testing.T) {
	assert.InDelta(t, 2.0, median([]float64{3, 1, 2}), 1e-9)
	assert.InDelta(t, 2.5, median([]float64{4, 1, 3, 2}), 1e-9)
}
