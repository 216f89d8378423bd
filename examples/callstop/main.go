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
// On success it prints "stop requested for session ID" on stdout and
// exits 0; the call's disconnect event (stateCode 8017) follows. Exit status 1: the platform refused, which
// is what it answers for a call that has already ended. 2: bad usage,
// nothing was sent. 3: the outcome is unknown (the SDK resends a stop,
// which cannot place a call, before giving up). It never prints the
// secret.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("callstop", "callstop -session ID [-timeout D]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the app that placed the call)", stderr)
	var req voicecall.CallStopRequest
	timeout := fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the whole call, retries included")
	fs.StringVar(&req.SessionID, "session", "", "session id of the call to end")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	client, ok := cli.NewClient("callstop", getenv, stderr, voicecall.WithTimeout(*timeout))
	if !ok {
		return cli.ExitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "callstop: %v\n", err)
		return cli.ExitUsage
	}
	if _, err := client.CallStop(ctx, &req); err != nil {
		return cli.Failed("callstop", err, "(a call that has ended cannot be stopped)", stderr)
	}
	fmt.Fprintf(stdout, "stop requested for session %s (the disconnect event, stateCode 8017, follows)\n", req.SessionID)
	return cli.ExitOK
}
