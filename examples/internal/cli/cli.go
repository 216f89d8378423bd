// Package cli holds what the example programs share around the SDK calls
// they show: their exit statuses, flag sets and parsing, a Client built from the
// environment, and how they report a failed request. The calls
// themselves, and what each program does with an outcome, stay in each
// example's main.go.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/voicecall-go/voicecall"
)

// Exit statuses of the example programs.
const (
	ExitOK       = 0 // done (or -h)
	ExitRejected = 1 // the platform refused the request, or it was never sent
	ExitUsage    = 2 // bad usage or invalid input: nothing was sent
	ExitUnknown  = 3 // the outcome is unknown: the request may have reached the platform
)

// EnvCredentials says where the programs that use [NewClient] read their
// credentials, for [PrintHint].
const EnvCredentials = "this program reads the app key from VOICECALL_APP_KEY, the secret from VOICECALL_APP_SECRET and the base URL from VOICECALL_BASE_URL"

// NewFlagSet returns a program's flag set: its errors and -h go to
// stderr, after the usage line and the environment the program reads.
func NewFlagSet(name, usage, environment string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage:", usage)
		fmt.Fprintln(stderr, "environment:", environment)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs, whose output is the program's stderr. It
// reports ok false, with the status to exit with, for -h (ExitOK), a bad
// flag or an argument that is not a flag (ExitUsage).
func Parse(fs *flag.FlagSet, args []string) (status int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return ExitUsage, false
	}
	return ExitOK, true
}

// UsageError is an error in a program's flags, arguments or environment,
// for the servers whose run returns an error: [Exit] turns it into
// ExitUsage. Make one with [Usage].
type UsageError struct{ Err error }

// Usage returns err as a [UsageError].
func Usage(err error) error { return UsageError{Err: err} }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Exit returns the status a server program exits with after its run
// returned err, and says why on stderr, prefixed with the program's name:
// ExitOK for nil or -h ([flag.ErrHelp]), ExitUsage for a [UsageError],
// ExitRejected (1) for any other error.
func Exit(name string, err error, stderr io.Writer) int {
	var usage UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitRejected
	}
}

// NewClient returns the Client of the app whose credentials are in
// VOICECALL_BASE_URL, VOICECALL_APP_KEY and VOICECALL_APP_SECRET (read
// with getenv). When they do not make a client it says so on stderr,
// prefixed with the program's name, and reports ok false.
func NewClient(name string, getenv func(string) string, stderr io.Writer, opts ...voicecall.Option) (c *voicecall.Client, ok bool) {
	c, err := voicecall.NewClient(getenv("VOICECALL_BASE_URL"), getenv("VOICECALL_APP_KEY"), getenv("VOICECALL_APP_SECRET"), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (set VOICECALL_BASE_URL, VOICECALL_APP_KEY and VOICECALL_APP_SECRET)\n", name, err)
		return nil, false
	}
	return c, true
}

// Failed reports the error of a request and returns the exit status for
// its outcome. note, if not empty, follows the description of a refusal.
// For an unknown outcome of a request that carried a correlation token
// (the requests that place a call), it prints the token to look for in
// the notifications before calling again.
func Failed(name string, err error, note string, stderr io.Writer) int {
	var apiErr *voicecall.APIError
	var verr *voicecall.ValidationError
	switch {
	case voicecall.OutcomeOf(err) == voicecall.OutcomeUnknown:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		if token := voicecall.UserDataOf(err); token != "" {
			fmt.Fprintf(stderr, "the call may or may not have been placed: look for userData %q in the status and CDR notifications before calling again\n", token)
		}
		return ExitUnknown
	case errors.As(err, &apiErr):
		if note != "" {
			note = " " + note
		}
		fmt.Fprintf(stderr, "%s: rejected: resultcode %s: %s%s\n", name, string(apiErr.Code), apiErr.Description, note)
		PrintHint(stderr, apiErr, EnvCredentials)
		return ExitRejected
	case errors.As(err, &verr):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return ExitRejected
}

// PrintHint prints the SDK's hint for a refusal of the credentials, the
// IP address or the clock, and, for the credentials, where tells where
// the program reads them.
func PrintHint(w io.Writer, e *voicecall.APIError, where string) {
	if hint := e.Hint(); hint != "" {
		fmt.Fprintln(w, "hint:", hint)
		if e.IsAuthFailure() {
			fmt.Fprintln(w, "hint:", where)
		}
	}
}
