// Command callstop ends a call in progress with the voicecall SDK.
//
// It reads the credentials of the app that placed the call from the
// environment:
//
//	VOICECALL_BASE_URL    app access address, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443
//	VOICECALL_APP_KEY     APP_Key
//	VOICECALL_APP_SECRET  APP_Secret
//
// and the session id from a flag:
//
//	go run ./examples/callstop -session 1202_566_0_20161228102743@callenabler.home1.com
//
// It prints nothing on success and exits 0; the call's disconnect event
// (stateCode 8017) follows. Exit status 1: the platform refused, which
// is what it answers for a call that has already ended. 2: bad usage,
// nothing was sent. 3: the outcome is unknown (the SDK resends a stop,
// which cannot place a call, before giving up). It never prints the
// secret.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/voicecall-go/voicecall"
)

// Exit statuses.
const (
	exitOK       = 0
	exitRejected = 1
	exitUsage    = 2
	exitUnknown  = 3
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("callstop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var req voicecall.CallStopRequest
	timeout := fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the whole call, retries included")
	fs.StringVar(&req.SessionID, "session", "", "session id of the call to end")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: callstop -session ID [-timeout D]")
		fmt.Fprintln(stderr, "environment: VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the app that placed the call)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "callstop: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	client, err := voicecall.NewClient(getenv("VOICECALL_BASE_URL"), getenv("VOICECALL_APP_KEY"), getenv("VOICECALL_APP_SECRET"),
		voicecall.WithTimeout(*timeout))
	if err != nil {
		fmt.Fprintf(stderr, "callstop: %v (set VOICECALL_BASE_URL, VOICECALL_APP_KEY and VOICECALL_APP_SECRET)\n", err)
		return exitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "callstop: %v\n", err)
		return exitUsage
	}
	_, err = client.CallStop(ctx, &req)
	var apiErr *voicecall.APIError
	switch {
	case err == nil:
		return exitOK
	case voicecall.OutcomeOf(err) == voicecall.OutcomeUnknown:
		fmt.Fprintf(stderr, "callstop: %v\n", err)
		return exitUnknown
	case errors.As(err, &apiErr):
		fmt.Fprintf(stderr, "callstop: rejected: resultcode %s: %s (a call that has ended cannot be stopped)\n", string(apiErr.Code), apiErr.Description)
		printHint(stderr, apiErr)
		return exitRejected
	}
	fmt.Fprintf(stderr, "callstop: %v\n", err)
	return exitRejected
}

// printHint prints the SDK's hint for a refusal of the credentials, the
// IP address or the clock, and where this program reads the credentials.
func printHint(w io.Writer, e *voicecall.APIError) {
	if hint := e.Hint(); hint != "" {
		fmt.Fprintln(w, "hint:", hint)
		if e.IsAuthFailure() {
			fmt.Fprintln(w, "hint: this program reads the app key from VOICECALL_APP_KEY, the secret from VOICECALL_APP_SECRET and the base URL from VOICECALL_BASE_URL")
		}
	}
}
