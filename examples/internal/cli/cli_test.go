package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
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

func TestFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		note   string
		status int
		want   []string
		not    []string
	}{
		{"unknown call", &voicecall.RequestError{Op: "CallVerify", Outcome: voicecall.OutcomeUnknown, UserData: "tok-1"}, "", ExitUnknown,
			[]string{"prog: voicecall: CallVerify", `look for userData "tok-1"`}, nil},
		{"unknown stop", &voicecall.RequestError{Op: "CallStop", Outcome: voicecall.OutcomeUnknown}, "", ExitUnknown,
			[]string{"prog: voicecall: CallStop"}, []string{"userData"}},
		{"refused with note", &voicecall.APIError{Code: "1010002", Description: "Invalid request."}, "(a note)", ExitRejected,
			[]string{"prog: rejected: resultcode 1010002: Invalid request. (a note)\n"}, []string{"hint:"}},
		{"refused credentials", &voicecall.APIError{Code: voicecall.CodeAuthFailed, Description: "Authentication failed."}, "", ExitRejected,
			[]string{"resultcode " + string(voicecall.CodeAuthFailed) + ": Authentication failed.\n", "hint: " + EnvCredentials}, nil},
		{"invalid", &voicecall.ValidationError{Op: "CallVerify", Fields: []voicecall.FieldError{{Field: "calleeNbr", Problem: "is required"}}}, "", ExitUsage,
			[]string{"prog: ", "calleeNbr"}, nil},
		{"never sent", &voicecall.RequestError{Op: "CallVerify", Outcome: voicecall.OutcomeRejected}, "", ExitRejected,
			[]string{"prog: voicecall: CallVerify"}, []string{"userData"}},
	} {
		var out bytes.Buffer
		assert.Equal(t, tc.status, Failed("prog", tc.err, tc.note, &out), tc.name)
		for _, w := range tc.want {
			assert.Contains(t, out.String(), w, tc.name)
		}
		for _, n := range tc.not {
			assert.NotContains(t, out.String(), n, tc.name)
		}
	}
}

func TestNewFlagSet(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	fs := NewFlagSet("prog", "prog -n N", "VOICECALL_BASE_URL", &out)
	fs.Int("n", 0, "a number")
	status, ok := Parse(fs, []string{"-h"})
	assert.Equal(t, ExitOK, status)
	assert.False(t, ok)
	assert.Equal(t, "usage: prog -n N\nenvironment: VOICECALL_BASE_URL\n  -n int\n    \ta number\n", out.String())
	out.Reset()
	_, ok = Parse(NewFlagSet("prog", "prog", "none", &out), []string{"-bogus"})
	assert.False(t, ok)
	assert.Contains(t, out.String(), "flag provided but not defined: -bogus\nusage: prog\n", "a bad flag goes to stderr with the usage")
}

func TestCheckRedis(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "127.0.0.1:6379", HostOf("redis://user:secretpw@127.0.0.1:6379/0"))
	assert.Equal(t, "?", HostOf("::not a url"))
	assert.NoError(t, CheckRedis(context.Background(), "-redis", "redis://h:1/0", func(context.Context) error { return nil }))
	var bounded bool
	err := CheckRedis(context.Background(), "-journal", "redis://:secretpw@127.0.0.1:1/0", func(ctx context.Context) error {
		_, bounded = ctx.Deadline()
		return errors.New("connection refused")
	})
	assert.EqualError(t, err, "-journal: cannot reach Redis at 127.0.0.1:1: connection refused")
	assert.True(t, bounded, "the ping has a deadline")
}

// TestExit: what a server program's run returned becomes its exit status
// and, unless it succeeded, one line on stderr naming the program.
func TestExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		line   string
	}{
		{nil, ExitOK, ""},
		{flag.ErrHelp, ExitOK, ""},
		{Usage(errors.New("-redis is required")), ExitUsage, "prog: -redis is required\n"},
		{fmt.Errorf("opening: %w", Usage(errors.New("bad URL"))), ExitUsage, "prog: opening: bad URL\n"},
		{errors.New("listen: address in use"), ExitRejected, "prog: listen: address in use\n"},
	} {
		var stderr strings.Builder
		assert.Equal(t, tc.status, Exit("prog", tc.err, &stderr), "%v", tc.err)
		assert.Equal(t, tc.line, stderr.String(), "%v", tc.err)
	}
}
