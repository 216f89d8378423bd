package cli

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/voicecall-go/voicecall"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		status int
		ok     bool
		out    string
	}{
		{[]string{"-n", "3"}, ExitOK, true, ""},
		{[]string{"-h"}, ExitOK, false, "Usage"},
		{[]string{"-bogus"}, ExitUsage, false, "flag provided but not defined"},
		{[]string{"-n", "3", "extra"}, ExitUsage, false, `prog: unexpected argument "extra"`},
	} {
		var out bytes.Buffer
		fs := flag.NewFlagSet("prog", flag.ContinueOnError)
		fs.SetOutput(&out)
		fs.Int("n", 0, "a number")
		status, ok := Parse(fs, tc.args)
		assert.Equal(t, tc.status, status, "%v", tc.args)
		assert.Equal(t, tc.ok, ok, "%v", tc.args)
		assert.Contains(t, out.String(), tc.out, "%v", tc.args)
	}
}

func TestPrintHint(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	PrintHint(&out, &voicecall.APIError{Code: voicecall.CodeAuthFailed}, "where the keys are")
	assert.Contains(t, out.String(), "hint: where the keys are\n", "a refused signature says where the credentials are read")
	out.Reset()
	PrintHint(&out, &voicecall.APIError{Code: voicecall.CodeFlowControl}, "where the keys are")
	assert.NotContains(t, out.String(), "where the keys are", "only for a refusal of the credentials")
}
