// Command quickstart shows the whole SDK at work with no account and no
// configuration:
//
//	go run ./examples/quickstart
//
// It starts, in this process, a fake of the voice call platform (package
// voicetest) and a notification receiver (voicecall.NewHandler on a
// loopback HTTP server), sends a voice verification code with the SDK,
// then prints the call's life as the platform reports it (callout,
// alerting, answer, disconnect) and its CDR, and exits.
//
// To do the same against the real platform, see examples/callverify and
// examples/webhook.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
	"github.com/voicecall-go/voicecall/voicetest"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain parses the flags (only -timeout; -h prints the usage and
// exits 0) and runs the quickstart, returning the exit status.
func realMain(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("quickstart", "quickstart [-timeout D]  (sends a voice verification code to an in-process fake platform and prints the call's notifications)",
		"none (no account, no network)", stderr)
	timeout := fs.Duration("timeout", 30*time.Second, "bound on the whole run")
	if status, ok := cli.Parse(fs, args); !ok {
		return status
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	return 0
}

// run plays one verification call end to end and writes what happens to w.
func run(ctx context.Context, w io.Writer) error {
	// 1. The application's notification receiver: the SDK's handler. Its
	// callbacks hand the notifications over to this function.
	statuses := make(chan voicecall.StatusEvent, 16)
	fees := make(chan voicecall.FeeRecord, 4)
	handler, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnStatus: func(ctx context.Context, ev *voicecall.StatusEvent) error {
			select {
			case statuses <- *ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		OnFee: func(ctx context.Context, rec *voicecall.FeeRecord) error {
			select {
			case fees <- *rec:
				return nil
			case <-ctx.Done():
				return ctx.Err() // not stored: the platform pushes it again
			}
		},
	})
	if err != nil {
		return err
	}
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	// 2. The fake platform, and a client for its default app. Against the
	// real platform: voicecall.NewClient(appAccessAddress, appKey, appSecret).
	platform, err := voicetest.NewServer()
	if err != nil {
		return err
	}
	defer platform.Close()
	client, err := platform.NewClient()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "fake platform at %s, notification receiver at %s\n\n", platform.URL, receiver.URL)

	// 3. Send the code.
	resp, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		LanguageType:  voicecall.LanguageChinese,
		PreTone:       "pretone.wav",
		VerifyCode:    "918273",
		StatusURL:     receiver.URL + "/voice/status",
		FeeURL:        receiver.URL + "/voice/fee",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "CallVerify accepted\n  sessionId %s\n  userData  %s (correlation token set by the SDK)\n\n", resp.SessionID, resp.UserData)

	// 4. Follow the call until its CDR arrives.
	fmt.Fprintln(w, "call status notifications (times in UTC):")
	printStatus := func(ev voicecall.StatusEvent) {
		if ev.SessionID != resp.SessionID {
			return
		}
		line := fmt.Sprintf("  %s  %-10s  %s -> %s", ev.Timestamp.Format(time.DateTime), ev.Type,
			voicecall.MaskNumber(ev.Caller), voicecall.MaskNumber(ev.Called))
		if ev.HasStateCode {
			line += "  stateCode " + ev.StateCode.String()
		}
		fmt.Fprintln(w, line)
	}
	for {
		select {
		case ev := <-statuses:
			printStatus(ev)
		case rec := <-fees:
			if rec.SessionID != resp.SessionID {
				continue
			}
			// The status events were all received before the CDR was
			// pushed; print any still queued first.
			for len(statuses) > 0 {
				printStatus(<-statuses)
			}
			printCDR(w, &rec)
			return nil
		case <-ctx.Done():
			return errors.New("no CDR before the deadline: " + ctx.Err().Error())
		}
	}
}

// printCDR writes the CDR's main fields, times relative to the callout.
func printCDR(w io.Writer, rec *voicecall.FeeRecord) {
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%s (+%s)", t.Format(time.DateTime), t.Sub(rec.CallOutStartTime))
	}
	rows := [][2]string{
		{"sessionId", rec.SessionID},
		{"icid", rec.ICID},
		{"app key", rec.AppKey},
		{"caller", voicecall.MaskNumber(rec.CallerNum)},
		{"callee", voicecall.MaskNumber(rec.CalleeNum)},
		{"call-out start", rec.CallOutStartTime.Format(time.DateTime) + " UTC"},
		{"ringing", rel(rec.CallOutAlertingTime)},
		{"answered", rel(rec.CallOutAnswerTime)},
		{"ended", rel(rec.CallEndTime)},
		{"release point", rec.ULFailReason.String()},
		{"service type", rec.ServiceType.String()},
		{"userData", rec.UserData},
	}
	if !rec.CallOutAnswerTime.IsZero() {
		rows = append(rows, [2]string{"talk time", rec.CallEndTime.Sub(rec.CallOutAnswerTime).String()})
	}
	var b strings.Builder
	b.WriteString("\nCDR (fee notification):\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-15s %s\n", r[0], r[1])
	}
	fmt.Fprint(w, b.String())
}
