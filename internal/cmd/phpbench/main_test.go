package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun builds the sandbox, runs a tiny measurement against it and
// checks the report. The PHP rows need php on PATH.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/sandbox")
	}
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the sandbox with")
	}
	bin := filepath.Join(t.TempDir(), "sandbox")
	out, err := exec.Command(gobin, "build", "-o", bin, "../../../examples/sandbox").CombinedOutput()
	require.NoError(t, err, "%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var b strings.Builder
	_, phpErr := exec.LookPath("php")
	require.NoError(t, run(ctx, config{sandbox: bin, phpDir: "../../../examples/sandbox/php", php: "php", calls: 3, rounds: 1}, &b))
	report := b.String()
	assert.Regexp(t, `(?m)^sdk +\d+ +\d+µs$`, report)
	assert.Regexp(t, `(?m)^sdk-no-resume +\d+ +\d+µs$`, report)
	if phpErr != nil {
		assert.Contains(t, report, "measuring the SDK only")
		return
	}
	// The PHP rows are differences of two runs (the start-up taken out):
	// with 3 calls on a loaded machine they can come out negative.
	assert.Regexp(t, `(?m)^php +-?\d+ +-?\d+µs$`, report)
	assert.Regexp(t, `(?m)^php-nodelay +-?\d+ +-?\d+µs$`, report)
	assert.Contains(t, report, "php CPU per call / sdk CPU per call:")
}

func TestMedians(t *testing.T) {
	t.Parallel()
	rs := []result{
		{calls: 10, wall: time.Second, cpu: 10 * time.Millisecond},
		{calls: 10, wall: 2 * time.Second, cpu: 30 * time.Millisecond},
		{calls: 10, wall: 4 * time.Second, cpu: 20 * time.Millisecond},
	}
	ps, cpu := medians(rs)
	assert.InDelta(t, 5.0, ps, 1e-9)
	assert.Equal(t, 2*time.Millisecond, cpu)
	ps, cpu = medians(rs[:2])
	assert.InDelta(t, 7.5, ps, 1e-9)
	assert.Equal(t, 2*time.Millisecond, cpu)
}
