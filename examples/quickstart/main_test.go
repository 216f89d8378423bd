package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	start := time.Now()
	require.NoError(t, run(ctx, &out))
	assert.Less(t, time.Since(start), 5*time.Second, "a few seconds at most")

	text := out.String()
	last := -1
	for _, want := range []string{"CallVerify accepted", " callout ", " alerting ", " answer ", " disconnect ",
		"stateCode 0", "CDR (fee notification):", "answered", "release point   0", "service type    001", "talk time"} {
		i := strings.Index(text, want)
		require.GreaterOrEqual(t, i, 0, "missing %q in:\n%s", want, text)
		assert.Greater(t, i, last, "%q out of order in:\n%s", want, text)
		last = i
	}
	assert.NotContains(t, text, "+8613500000001", "numbers are masked")
	assert.NotContains(t, text, "918273", "the code is not printed")
}
