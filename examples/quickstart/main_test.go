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

func TestRealMain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		exit int
		err  string
	}{
		{"help", []string{"-h"}, 0, "usage: quickstart"},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"timed out", []string{"-timeout", "1ns"}, 1, "quickstart:"},
		{"runs", []string{"-timeout", "20s"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			assert.Equal(t, tt.exit, realMain(tt.args, &out, &errOut), errOut.String())
			assert.Contains(t, errOut.String(), tt.err)
			if tt.name == "runs" {
				assert.Contains(t, out.String(), "CDR (fee notification):")
			}
		})
	}
}
