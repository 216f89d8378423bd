// Command callnotify sends one voice notification with the voicecall SDK:
// the platform calls the callee and plays an approved audio file or a
// text-to-speech template, optionally collecting key presses.
//
// It reads the voice notification app's credentials from the environment
// (each capability is its own app on the console, with its own key):
//
//	VOICECALL_BASE_URL    app access address, e.g. https://rtccall.cn-north-1.myhuaweicloud.cn:443
//	VOICECALL_APP_KEY     APP_Key
//	VOICECALL_APP_SECRET  APP_Secret
//
// and the call from flags:
//
//	go run ./examples/callnotify -display +8675528000088 -callee +8613500000001 -voice notice.wav
//	go run ./examples/callnotify -display +8675528000088 -callee +8613500000001 -template TPL -params Friday,10 -collect 1
//
// On success it prints the session id on stdout and exits 0. Exit status
// 1: the platform rejected the request (result code on stderr), or it was
// never sent. 2: bad usage or invalid input, nothing was sent. 3: the
// outcome is unknown, the call may have been placed: the correlation
// token (userData) printed on stderr finds it in the notifications. The
// digits the callee presses arrive in a collectInfo status event. It
// never prints the secret.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("callnotify", "callnotify -display NUMBER -callee NUMBER (-voice FILE | -template ID [-params a,b,c]) [-collect N] [flags]",
		"VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET (the voice notification app's)", stderr)
	var (
		req     voicecall.CallNotifyRequest
		item    voicecall.PlayInfo
		params  = fs.String("params", "", "template values, comma-separated, in the template's order (with -template)")
		timeout = fs.Duration("timeout", voicecall.DefaultTimeout, "bound on the whole call")
	)
	fs.StringVar(&req.DisplayNumber, "display", "", "display number (displayNbr), e.g. +8675528000088")
	fs.StringVar(&req.CalleeNumber, "callee", "", "callee number (calleeNbr), e.g. +8613500000001")
	fs.StringVar(&item.NotifyVoice, "voice", "", "approved audio file to play (or -template)")
	fs.StringVar(&item.TemplateID, "template", "", "approved voice template id (or -voice)")
	fs.IntVar(&item.CollectDigits, "collect", 0, "digits to collect after the playback, 0-32")
	fs.BoolVar(&item.ReplayAfterCollection, "replay", false, "play again after collecting (with -collect)")
	fs.StringVar(&item.ReplayTrigger, "replay-on", "", "replay only when these keys were pressed (with -replay)")
	fs.StringVar(&req.StatusURL, "status-url", "", "URL receiving call-status notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.FeeURL, "fee-url", "", "URL receiving CDR notifications (plain; the SDK Base64-encodes it)")
	fs.StringVar(&req.UserData, "user-data", "", "data echoed in the notifications (default: a correlation token)")
	fs.BoolVar(&req.ReturnIdlePort, "idle-port", false, "ask for the platform's idle port count")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	if *params != "" {
		item.TemplateParas = strings.Split(*params, ",")
	}
	req.PlayInfoList = []voicecall.PlayInfo{item}

	client, ok := cli.NewClient("callnotify", getenv, stderr, voicecall.WithTimeout(*timeout))
	if !ok {
		return cli.ExitUsage
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(stderr, "callnotify: %v\n", err)
		return cli.ExitUsage
	}
	resp, err := client.CallNotify(ctx, &req)
	if err == nil {
		fmt.Fprintln(stdout, resp.SessionID)
		if resp.IdlePort != nil {
			fmt.Fprintf(stderr, "idle ports: %d\n", *resp.IdlePort)
		}
		return cli.ExitOK
	}
	return cli.Failed("callnotify", err, "", stderr)
}
