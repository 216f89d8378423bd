// Command multiapp shows how one backend holds several voicecall clients,
// one per capability. On Huawei's console each capability (voice
// verification code, voice notification, click-to-call) is its own app,
// with its own APP_Key and APP_Secret, and an app's type cannot be
// changed: a request sent with another capability's credentials fails
// (stateCode 7105, service type mismatch). So the backend builds one
// Client per app and picks the one for the job.
//
// It reads the shared app access address and each app's credentials from
// the environment:
//
//	VOICECALL_BASE_URL
//	VOICECALL_VERIFY_APP_KEY,   VOICECALL_VERIFY_APP_SECRET     the voice verification code app
//	VOICECALL_NOTIFY_APP_KEY,   VOICECALL_NOTIFY_APP_SECRET     the voice notification app
//	VOICECALL_CLICK2CALL_APP_KEY, VOICECALL_CLICK2CALL_APP_SECRET   the click-to-call app
//
// (an app left unset is not configured), and sends one verification code
// and one notification to the same callee:
//
//	go run ./examples/multiapp -display +8675528000088 -callee +8613500000001 -code 123456 -pretone pretone.wav -voice notice.wav
//
// It prints one line per call, "verify SESSIONID" and "notify SESSIONID",
// and exits 0, or exits 1, 2 or 3 as the other examples do at the first
// call that fails. It never prints a secret.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
)

// Capabilities, each its own app on the console.
const (
	Verify     = "VERIFY"
	Notify     = "NOTIFY"
	Click2Call = "CLICK2CALL"
)

// Backend holds one client per configured app.
type Backend struct {
	clients map[string]*voicecall.Client
}

// NewBackend builds a client for each app whose key is set in the
// environment.
func NewBackend(getenv func(string) string, opts ...voicecall.Option) (*Backend, error) {
	b := &Backend{clients: map[string]*voicecall.Client{}}
	for _, capability := range []string{Verify, Notify, Click2Call} {
		key := getenv("VOICECALL_" + capability + "_APP_KEY")
		if key == "" {
			continue
		}
		c, err := voicecall.NewClient(getenv("VOICECALL_BASE_URL"), key, getenv("VOICECALL_"+capability+"_APP_SECRET"), opts...)
		if err != nil {
			return nil, fmt.Errorf("%s app: %w", capability, err)
		}
		b.clients[capability] = c
	}
	return b, nil
}

// Client returns the client of a capability's app.
func (b *Backend) Client(capability string) (*voicecall.Client, error) {
	c, ok := b.clients[capability]
	if !ok {
		return nil, fmt.Errorf("no %s app configured (set VOICECALL_%s_APP_KEY and VOICECALL_%s_APP_SECRET)", capability, capability, capability)
	}
	return c, nil
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("multiapp", "multiapp -display NUMBER -callee NUMBER -code DIGITS -pretone FILE -voice FILE [-timeout D]",
		"VOICECALL_BASE_URL, and VOICECALL_<APP>_APP_KEY and VOICECALL_<APP>_APP_SECRET for each app (<APP>: VERIFY, NOTIFY, CLICK2CALL)", stderr)
	display := fs.String("display", "", "display number, e.g. +8675528000088")
	callee := fs.String("callee", "", "callee number, e.g. +8613500000001")
	code := fs.String("code", "", "verification code, 1-8 digits")
	pretone := fs.String("pretone", "", "approved audio file played before the code")
	voice := fs.String("voice", "", "approved audio file of the notification")
	timeout := fs.Duration("timeout", voicecall.DefaultTimeout, "bound on each call")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	backend, err := NewBackend(getenv, voicecall.WithTimeout(*timeout))
	if err != nil {
		fmt.Fprintf(stderr, "multiapp: %v\n", err)
		return cli.ExitUsage
	}
	verifier, err := backend.Client(Verify)
	if err == nil {
		var notifier *voicecall.Client
		if notifier, err = backend.Client(Notify); err == nil {
			verifyReq := &voicecall.CallVerifyRequest{DisplayNumber: *display, CalleeNumber: *callee,
				LanguageType: voicecall.LanguageChinese, PreTone: *pretone, VerifyCode: *code}
			notifyReq := &voicecall.CallNotifyRequest{DisplayNumber: *display, CalleeNumber: *callee,
				PlayInfoList: []voicecall.PlayInfo{{NotifyVoice: *voice}}}
			if err = errors.Join(verifyReq.Validate(), notifyReq.Validate()); err == nil {
				var v *voicecall.CallResponse
				if v, err = verifier.CallVerify(ctx, verifyReq); err == nil {
					fmt.Fprintln(stdout, "verify", v.SessionID)
					var n *voicecall.CallResponse
					if n, err = notifier.CallNotify(ctx, notifyReq); err == nil {
						fmt.Fprintln(stdout, "notify", n.SessionID)
						return cli.ExitOK
					}
				}
				return exitFor(err, stderr)
			}
		}
	}
	fmt.Fprintf(stderr, "multiapp: %v\n", err)
	return cli.ExitUsage
}

func exitFor(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "multiapp: %v\n", err)
	var apiErr *voicecall.APIError
	switch {
	case voicecall.OutcomeOf(err) == voicecall.OutcomeUnknown:
		fmt.Fprintf(stderr, "the call may or may not have been placed: look for userData %q in the notifications\n", voicecall.UserDataOf(err))
		return cli.ExitUnknown
	case errors.As(err, &apiErr):
		cli.PrintHint(stderr, apiErr, "this program reads each app's key and secret from VOICECALL_<APP>_APP_KEY and VOICECALL_<APP>_APP_SECRET (<APP>: VERIFY, NOTIFY, CLICK2CALL) and the base URL from VOICECALL_BASE_URL")
		return cli.ExitRejected
	}
	return cli.ExitRejected
}
