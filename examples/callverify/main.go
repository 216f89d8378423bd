// Command callverify sends one voice verification code with the voicecall
// SDK.
//
// It reads the app's credentials from the environment:
//
//	VOICECALL_BASE_URL    app access address, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443
//	VOICECALL_APP_KEY     APP_Key
//	VOICECALL_APP_SECRET  APP_Secret
//
// and the call from flags:
//
//	go run ./examples/callverify -display +8675528000088 -callee +8613500000001 -code 123456 -pretone pretone.wav
//
// On success it prints the session id on stdout and exits 0. Exit status 1:
// the platform rejected the request (result code and description on
// stderr), or it was never sent. 2: bad usage or invalid input, nothing
// was sent. 3: the outcome is unknown, the call may or may not have been
// placed; the correlation token (userData) printed on stderr finds it in
// the notifications. When the platform refuses the credentials, the app or
// the clock, a "hint:" line on stderr says what to check. It never prints
// the secret or the X-AKSK header.
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
	fs := cli.NewFlagSet("callverify", "callverify -display NUMBER -callee NUMBER -code DIGITS -pretone FILE [flags]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET", stderr)
	var (
		req     voicecall.CallVerifyRequest
		times   = fs.Int("times", -1, "times the code is read out, 0-9 (0: until the callee hangs up; -1: platform default 3)")
		timeout = fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the whole call")
	)
	fs.StringVar(&req.DisplayNumber, "display", "", "display number (displayNbr), e.g. +8675528000088")
	fs.StringVar(&req.CalleeNumber, "callee", "", "callee number (calleeNbr), e.g. +8613500000001")
	fs.StringVar(&req.VerifyCode, "code", "", "verification code, 1-8 digits")
	fs.StringVar(&req.PreTone, "pretone", "", "approved audio file played before the code")
	fs.StringVar(&req.PostTone, "postone", "", "approved audio file played after the code (optional)")
	fs.IntVar(&req.LanguageType, "lang", voicecall.LanguageChinese, "language type (2: Chinese)")
	fs.StringVar(&req.StatusURL, "status-url", "", "URL receiving call-status notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.FeeURL, "fee-url", "", "URL receiving CDR notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.UserData, "user-data", "", "data echoed in the notifications (default: a correlation token)")
	fs.BoolVar(&req.ReturnIdlePort, "idle-port", false, "ask for the platform's idle port count")
	fs.StringVar(&req.BindNumber, "bind", "", "legacy bind number (bindNbr), rarely needed")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	if *times >= 0 {
		req.Times = voicecall.PlayTimes(*times)
	} else if *times != -1 {
		fmt.Fprintln(stderr, "callverify: -times must be 0-9, or -1 for the platform default")
		return cli.ExitUsage
	}

	client, ok := cli.NewClient("callverify", getenv, stderr, voicecall.WithTimeout(*timeout))
	if !ok {
		return cli.ExitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "callverify: %v\n", err)
		return cli.ExitUsage
	}

	resp, err := client.CallVerify(ctx, &req)
	if err == nil {
		fmt.Fprintln(stdout, resp.SessionID)
		if resp.IdlePort != nil {
			fmt.Fprintf(stderr, "idle ports: %d\n", *resp.IdlePort)
		}
		return cli.ExitOK
	}
	return cli.Failed("callverify", err, "", stderr)
}
