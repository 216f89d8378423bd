// Command click2call places one click-to-call with the
// voicecall SDK: the platform calls the caller (A) first and, once A
// answers, the callee (B), and bridges them.
//
// It reads the click-to-call app's credentials from the environment
// (each capability is its own app on the console, with its own key):
//
//	VOICECALL_BASE_URL    app access address, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443
//	VOICECALL_APP_KEY     APP_Key
//	VOICECALL_APP_SECRET  APP_Secret
//
// and the call from flags:
//
//	go run ./examples/click2call -display +8675528000088 -caller +8613500000011 -display-callee +8675528000088 -callee +8613500000022 -max-duration 30 -record
//
// On success it prints the session id on stdout (give it to
// examples/callstop to end the call) and exits 0. Exit status 1: the
// platform rejected the request, or it was never sent. 2: bad usage or
// invalid input, nothing was sent. 3: the outcome is unknown, the call
// may have been placed: look for the correlation token (userData)
// printed on stderr in the notifications. It never prints the secret.
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
	fs := cli.NewFlagSet("click2call", "click2call -display NUMBER -caller NUMBER -display-callee NUMBER -callee NUMBER [flags]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the click-to-call app's)", stderr)
	var (
		req     voicecall.Click2CallRequest
		timeout = fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the whole call")
	)
	fs.StringVar(&req.DisplayNumber, "display", "", "number shown to the caller (displayNbr)")
	fs.StringVar(&req.CallerNumber, "caller", "", "caller (A, callerNbr), called first")
	fs.StringVar(&req.DisplayCalleeNumber, "display-callee", "", "number shown to the callee (displayCalleeNbr)")
	fs.StringVar(&req.CalleeNumber, "callee", "", "callee (B, calleeNbr), called once A answered")
	fs.IntVar(&req.MaxDuration, "max-duration", 0, "longest call in minutes from B's answer, 1-1440 (0: no limit)")
	fs.BoolVar(&req.Record, "record", false, "record the call (the app must have recording enabled)")
	fs.BoolVar(&req.PartyTypeInDisconnect, "party-type", true, "ask the disconnect event to say who hung up")
	fs.StringVar(&req.StatusURL, "status-url", "", "URL receiving call-status notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.FeeURL, "fee-url", "", "URL receiving CDR notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.UserData, "user-data", "", "data echoed in the notifications (default: a correlation token)")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	client, ok := cli.NewClient("click2call", getenv, stderr, voicecall.WithTimeout(*timeout))
	if !ok {
		return cli.ExitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "click2call: %v\n", err)
		return cli.ExitUsage
	}
	resp, err := client.Click2Call(ctx, &req)
	if err == nil {
		fmt.Fprintln(stdout, resp.SessionID)
		return cli.ExitOK
	}
	return cli.Failed("click2call", err, "", stderr)
}
