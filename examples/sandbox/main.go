// Command sandbox runs the fake voice call platform of package voicetest
// standalone, so that a client in any language can be tried against it:
//
//	go run ./examples/sandbox
//	go run ./examples/sandbox -addr 127.0.0.1:9090 -scenario busy
//	go run ./examples/sandbox -tls -tls-ca sandbox-ca.pem  # https://127.0.0.1:8443
//
// It serves every API of the platform (callVerify, callnotify, click2Call,
// callStop and the recording URL, whose 301 points to a second port that
// serves the files) and keeps at most -max-records of each kind of record.
//
// It prints "listening on http://ADDR", the app key and secret to sign
// with, and one line per request, call and notification. Phone numbers are
// masked to their last four digits; digests, nonces, verification codes and
// secrets you chose are never printed. Stop it with Ctrl-C.
//
// It prints the export lines a client reads its settings from
// (VOICECALL_BASE_URL, VOICECALL_APP_KEY, VOICECALL_APP_SECRET).
// Notifications go to the request's statusUrl and feeUrl, or to
// -status-url and -fee-url (the "console" URLs; by default
// http://127.0.0.1:8090/voicecall/notify, where examples/webhook
// listens), signed with the app secret in an X-AKSK header as Huawei's
// 2026 notification pages describe (-sign-pushes concat: the 2023
// layout; none: unsigned), so that a receiver verifying pushes, as
// examples/webhook does when it knows the secret, accepts them. See
// php/README.md for the PHP sample.
//
// -h prints the usage on stderr and exits 0; a bad flag exits 2.
//
// It also serves, under /_sandbox/, an inspection and control API
// (/_sandbox/v1/: the calls placed with the code read out and their
// timeline, the requests with their verdict, every push with the
// receiver's answer; scenarios, faults, re-push, reset; health and
// readiness) and a web console (http://ADDR/_sandbox/) that shows calls
// live. Calls to the magic numbers of voicetest.MagicNumbers go a given
// way (busy, no answer, a key press...) unless -magic-numbers=false.
// docs/SANDBOX.md documents both.
//
// With -tls it serves HTTPS (on 127.0.0.1:8443 unless -addr is given)
// with a certificate it generates for the names and addresses of
// -tls-hosts, signed by an ephemeral CA whose certificate it writes to
// -tls-ca; it prints how a Go, PHP or curl client trusts that file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/voicetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(cli.ExitUsage)
	}
}

// DefaultNotifyURL is where the sandbox pushes notifications of requests
// that carry no statusUrl or feeUrl: examples/webhook's default address
// and the SDK's usual notification path.
const DefaultNotifyURL = "http://127.0.0.1:8090/voicecall/notify"

// run starts the sandbox with the given command-line arguments and runs it
// until ctx ends; it logs on stdout, and its usage goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sandbox", "sandbox [-addr HOST:PORT] [-scenario NAME] [-tls] [flags]",
		"none (a client of the sandbox reads the export lines it prints)", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	appKey := fs.String("app-key", voicetest.DefaultAppKey, "app key (APP_Key) clients sign with")
	appSecret := fs.String("app-secret", voicetest.DefaultAppSecret, "app secret (APP_Secret) clients sign with")
	scenario := fs.String("scenario", string(voicetest.ScenarioAnswered), "how calls go: answered, no-answer, busy, powered-off, rejected, not-exist, long-call (an hour, to try callStop)")
	statusURL := fs.String("status-url", DefaultNotifyURL, "status notification URL used when a request has no statusUrl")
	feeURL := fs.String("fee-url", DefaultNotifyURL, "CDR notification URL used when a request has no feeUrl")
	timeScale := fs.Float64("time-scale", 0.1, "speed of simulated calls: 1 is real time, 0.1 ten times faster")
	sign := fs.String("sign-pushes", "newlines", "sign notifications with the app secret (X-AKSK): newlines or concat (the layouts of Huawei's 2026 and 2023 notification pages), or none")
	remote := fs.Bool("remote-pushes", false, "also push notifications to non-loopback hosts (default: loopback receivers only)")
	tf := addTLSFlags(fs)
	maxRecords := fs.Int("max-records", voicetest.DefaultMaxRecords, "requests, calls and notifications kept in memory (each)")
	magic := fs.Bool("magic-numbers", true, "calls to the magic numbers (see docs/SANDBOX.md) go the way their table says")
	digits := fs.String("digits", "", "keys every callee presses when a voice notification collects digits (default "+voicetest.DefaultDigits+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	listen := *addr
	if tf.enabled {
		// The fake listens on a loopback port of its own; the TLS front
		// listens on -addr (see tls.go).
		listen = "127.0.0.1:0"
		addrSet := false
		fs.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })
		if !addrSet {
			*addr = defaultTLSAddr
		}
	}
	sc, err := voicetest.ParseScenario(*scenario)
	if err != nil {
		return err
	}
	layouts := map[string]aksk.PushLayout{"none": 0, "newlines": aksk.PushLayoutNewline, "concat": aksk.PushLayoutConcat}
	layout, ok := layouts[*sign]
	if !ok {
		return fmt.Errorf("unknown -sign-pushes %q (want none, newlines or concat)", *sign)
	}

	var mu sync.Mutex // serialises output lines from the server's goroutines
	printf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, time.Now().Format("15:04:05.000")+" "+format+"\n", a...)
	}
	opts := []voicetest.Option{
		voicetest.WithAddr(listen),
		voicetest.WithApp(voicetest.App{Key: *appKey, Secret: *appSecret}),
		voicetest.WithNotifyURLs(*statusURL, *feeURL),
		voicetest.WithScenario(sc),
		voicetest.WithTimeScale(*timeScale),
		voicetest.WithPushSigning(layout, nil),
		voicetest.WithMaxRecords(*maxRecords),
		voicetest.WithControlAPI(),
		voicetest.WithHooks(voicetest.Hooks{
			Request: func(r voicetest.Request) { printf("request  %s", r) },
			Call: func(c voicetest.Call) {
				if c.Ended {
					printf("call     %s ended: stateCode %d", c.SessionID, c.StateCode)
					return
				}
				printf("call     %s placed: callee %s, scenario %s, userData %.64q", c.SessionID, voicecall.MaskNumber(c.CalleeNbr), c.Scenario, c.UserData)
			},
			Delivery: func(d voicetest.Delivery) { printf("notify   %s", describeDelivery(d)) },
			Download: func(d voicetest.Download) {
				creds := "none"
				if d.Header.Get("Authorization") != "" || d.Header.Get(aksk.Header) != "" {
					creds = "the app's (refused)"
				}
				printf("download %s %s -> http %d, credentials: %s", d.Method, d.Path, d.Status, creds)
			},
		}),
	}
	if *magic {
		opts = append(opts, voicetest.WithMagicNumbers())
	}
	if *remote {
		opts = append(opts, voicetest.WithRemotePushes())
	}
	if *digits != "" {
		opts = append(opts, voicetest.WithCalleeDigits("", *digits))
	}
	srv, err := voicetest.NewServer(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()

	baseURL := srv.URL
	if tf.enabled {
		front, u, help, err := setupTLS(tf, *addr, srv.Addr())
		if err != nil {
			return err
		}
		defer front.Close()
		baseURL = u
		for _, l := range help {
			printf("%s", l)
		}
	}

	printf("listening on %s", baseURL)
	printf("app key %s", *appKey)
	secret := *appSecret
	if *appSecret == voicetest.DefaultAppSecret {
		printf("app secret %s (the default; change it with -app-secret)", *appSecret)
	} else {
		printf("app secret given with -app-secret (not printed)")
		secret = "...   # the secret given with -app-secret"
	}
	printf("a client's settings, to paste in its shell:")
	printf("  export VOICECALL_BASE_URL=%s", baseURL)
	printf("  export VOICECALL_APP_KEY=%s", *appKey)
	printf("  export VOICECALL_APP_SECRET=%s", secret)
	printf("notifications without statusUrl/feeUrl go to %s and %s", withoutQuery(*statusURL), withoutQuery(*feeURL))
	if layout != 0 {
		printf("notifications are signed with the app secret (X-AKSK header, -sign-pushes %s)", *sign)
	} else {
		printf("notifications are not signed (-sign-pushes none)")
	}
	for _, p := range []string{"POST " + voicetest.CallVerifyPath, "POST " + voicetest.CallNotifyPath, "POST " + voicetest.Click2CallPath,
		"POST " + voicetest.CallStopPath, "GET  " + voicetest.RecordingPath} {
		printf("%s%s", p[:5], baseURL+p[5:])
	}
	printf("recordings are downloaded from %s; calls go as %q", srv.DownloadURL, sc)
	printf("console  %s%s", baseURL, voicetest.ControlPrefix)
	printf("control  %s%sv1/ (calls, deliveries, requests, faults...; see docs/SANDBOX.md)", baseURL, voicetest.ControlPrefix)
	if *magic {
		printf("magic numbers on: see %s%sv1/scenarios", baseURL, voicetest.ControlPrefix)
	}

	<-ctx.Done()
	printf("shutting down")
	srv.Close()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}

// describeDelivery prints a push without the URL's query, which may hold
// a token.
func describeDelivery(d voicetest.Delivery) string {
	s := fmt.Sprintf("%-6s %-10s -> %s", d.Kind, d.EventType, withoutQuery(d.URL))
	if len(d.SessionIDs) == 1 {
		s += " sessionId=" + d.SessionIDs[0]
	} else {
		s += fmt.Sprintf(" cdrs=%d", len(d.SessionIDs))
	}
	if d.Attempt > 1 {
		s += fmt.Sprintf(" attempt=%d", d.Attempt)
	}
	if errors.Is(d.Err, voicetest.ErrRemotePush) {
		return s + " not pushed: the address is not loopback (start the sandbox with -remote-pushes to push there)"
	}
	if d.Err != nil {
		return s + fmt.Sprintf(" failed: %.200q", d.Err.Error()) // quoted: the text may come from the network
	}
	return s + fmt.Sprintf(" http %d", d.StatusCode)
}

// withoutQuery returns raw without its query, fragment and user
// information, which may hold a token.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an invalid URL)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}
