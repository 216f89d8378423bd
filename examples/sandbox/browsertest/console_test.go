package browsertest

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/voicetest"
)

var screenshot = flag.String("screenshot", "", "also save a PNG screenshot of the console to this file")

// chromiumPath returns Chromium's path; without it the test skips, or
// fails when CI is set.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium), and CI=true: the browser test must run")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// browser starts headless Chromium with a fresh profile, quiet (no
// request to Google's hosts), and returns a context for chromedp actions
// that ends with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox, // Chromium refuses to run as root otherwise
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.WindowSize(1024, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now (the first Run does; its context must live as
	// long as the browser, so it is not given a deadline).
	require.NoError(t, chromedp.Run(ctx))
	return ctx
}

// run runs actions with a deadline.
func run(t *testing.T, ctx context.Context, d time.Duration, actions ...chromedp.Action) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// pushReceiver records the bodies of the pushes it gets.
type pushReceiver struct {
	*httptest.Server
	ch chan string
}

func newPushReceiver(t *testing.T) *pushReceiver {
	t.Helper()
	r := &pushReceiver{ch: make(chan string, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.ch <- req.URL.Path + " " + string(b)
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(r.Close)
	return r
}

// waitPush waits until the receiver gets a push for which match is true.
func (r *pushReceiver) waitPush(t *testing.T, d time.Duration, match func(string) bool) string {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case p := <-r.ch:
			if match(p) {
				return p
			}
		case <-timer.C:
			t.Fatal("the receiver got no matching push")
			return ""
		}
	}
}

func TestConsole(t *testing.T) {
	rcv := newPushReceiver(t)
	srv := voicetest.Start(t, voicetest.WithControlAPI(), voicetest.WithMagicNumbers(),
		voicetest.WithNotifyURLs(rcv.URL+"/status", rcv.URL+"/fee"))
	client, err := srv.NewClient(voicecall.WithRetry(voicecall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	ctx := browser(t)

	// Every request the page makes, and every script error.
	var mu sync.Mutex
	var urls, jsErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls = append(urls, e.Request.URL)
		case *runtime.EventExceptionThrown:
			jsErrors = append(jsErrors, e.ExceptionDetails.Error())
		}
	})
	require.NoError(t, run(t, ctx, 20*time.Second,
		network.Enable(), runtime.Enable(),
		chromedp.Navigate(srv.URL+voicetest.ControlPrefix),
		chromedp.WaitVisible(`#empty`),
		chromedp.Poll(`document.getElementById("status").textContent.startsWith("live")`, nil),
	))

	// A call placed with the SDK appears within 2 s, with its code.
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "918273",
	})
	require.NoError(t, err)
	card := fmt.Sprintf(`article.call[data-session=%q]`, resp.SessionID)
	var code, callee string
	placed := time.Now()
	require.NoError(t, run(t, ctx, 2*time.Second,
		chromedp.WaitVisible(card+` .code`),
		chromedp.Text(card+` .code`, &code),
		chromedp.Text(card+` .callee`, &callee),
	), "the call did not appear within 2 s")
	t.Logf("the call appeared in the console %v after the SDK's answer", time.Since(placed).Round(time.Millisecond))
	assert.Equal(t, "918273", code)
	assert.Equal(t, "+8613512345678", callee, "numbers in full in the console")

	// Its timeline and pushes, CDR included, with the receiver's answer.
	fee, err := srv.WaitDelivery(context.Background(), func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Has(resp.SessionID) })
	require.NoError(t, err)
	var timeline string
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.WaitVisible(card+fmt.Sprintf(` button.repush[data-id="%d"]`, fee.Seq)),
		chromedp.Text(card+` .timeline`, &timeline),
	))
	for _, ev := range []string{"callout", "alerting", "answer", "disconnect", "CDR"} {
		assert.Contains(t, timeline, ev)
	}
	var feeRow string
	require.NoError(t, run(t, ctx, 5*time.Second, chromedp.Text(card+fmt.Sprintf(` li.delivery[data-id="%d"]`, fee.Seq), &feeRow)))
	assert.Contains(t, feeRow, "http 200")
	assert.Contains(t, feeRow, "answer: thanks")
	rcv.waitPush(t, 5*time.Second, func(p string) bool { return strings.HasPrefix(p, "/fee ") && strings.Contains(p, resp.SessionID) })

	// Clicking re-push makes a second delivery of the CDR, which the
	// receiver sees, and the console shows.
	require.NoError(t, run(t, ctx, 5*time.Second, chromedp.Click(card+fmt.Sprintf(` button.repush[data-id="%d"]`, fee.Seq))))
	again := rcv.waitPush(t, 5*time.Second, func(p string) bool { return strings.HasPrefix(p, "/fee ") })
	assert.Equal(t, "/fee "+string(fee.Body), again, "the same CDR batch, pushed again")
	repush, err := srv.WaitDelivery(context.Background(), func(d voicetest.Delivery) bool { return d.RepushOf == fee.Seq })
	require.NoError(t, err)
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.WaitVisible(card+fmt.Sprintf(` li.delivery[data-id="%d"]`, repush.Seq)),
		chromedp.Poll(fmt.Sprintf(`document.querySelector('li.delivery[data-id="%d"]').textContent.includes("re-push of #%d")`, repush.Seq, fee.Seq), nil),
	))

	// A fault injected from the page shows on the next call.
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.SetValue(`#fault-form select[name=action]`, "result-code"),
		chromedp.SetValue(`#fault-form input[name=code]`, "1010010"),
		chromedp.SetValue(`#fault-form select[name=api]`, "callVerify"),
		chromedp.Click(`#fault-form button[type=submit]`),
		chromedp.Poll(`[...document.querySelectorAll("#faults li")].some(li => li.textContent.includes("result-code 1010010 on callVerify"))`, nil),
	))
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "111111",
	})
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr, "the injected fault answers the next call")
	assert.Equal(t, voicecall.CodeFlowControl, apiErr.Code)
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.Poll(`[...document.querySelectorAll("#requests li")].some(li => li.textContent.includes("fault → 1010010") || li.textContent.includes("(fault result-code)"))`, nil),
		chromedp.Poll(`document.querySelectorAll("#faults li").length === 0`, nil),
	), "the console shows the faulted request, and the fault used up")

	// A scenario set from the page decides the next call to the number.
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.SetValue(`#scenario-form input[name=number]`, "+8613500000009"),
		chromedp.SetValue(`#scenario-form select[name=scenario]`, "busy"),
		chromedp.Click(`#scenario-form button[type=submit]`),
		chromedp.Poll(`document.getElementById("scenario-now").textContent.includes("+8613500000009: busy")`, nil),
	))
	busy, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000009", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "2222",
	})
	require.NoError(t, err)
	busyCard := fmt.Sprintf(`article.call[data-session=%q]`, busy.SessionID)
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.WaitVisible(busyCard),
		chromedp.Poll(fmt.Sprintf(`document.querySelector(%q).textContent.includes("stateCode 8102")`, busyCard), nil),
	))
	// The next call only, whatever its number.
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.SetValue(`#scenario-form select[name=scenario]`, "rejected"),
		chromedp.Click(`#scenario-form input[name=next]`),
		chromedp.Click(`#scenario-form button[type=submit]`),
		chromedp.Poll(`document.getElementById("scenario-now").textContent.includes("next call: rejected")`, nil),
	))
	var sessions []string
	for range 2 {
		r, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
			DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000010", LanguageType: 2,
			PreTone: "pretone.wav", VerifyCode: "4444",
		})
		require.NoError(t, err)
		sessions = append(sessions, r.SessionID)
	}
	for i, want := range []string{"stateCode 8004", "stateCode 0"} {
		require.NoError(t, run(t, ctx, 5*time.Second,
			chromedp.Poll(fmt.Sprintf(`(document.querySelector('article.call[data-session=%q]') || {textContent: ""}).textContent.includes(%q)`, sessions[i], want), nil),
		), "call %d: %s", i, want)
	}
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.Poll(`!document.getElementById("scenario-now").textContent.includes("next call")`, nil),
	), "the next call's scenario is used up")

	// And a magic number, without any control.
	magic, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8610000008104", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "3333",
	})
	require.NoError(t, err)
	require.NoError(t, run(t, ctx, 5*time.Second,
		chromedp.Poll(fmt.Sprintf(`(document.querySelector('article.call[data-session=%q]') || {textContent: ""}).textContent.includes("stateCode 8104")`, magic.SessionID), nil),
	))

	// Readable on a narrow screen: at 375 px nothing overflows sideways.
	var overflow []string
	require.NoError(t, run(t, ctx, 5*time.Second,
		// mobile false: a page too wide would otherwise widen the layout
		// viewport instead of overflowing it.
		emulation.SetDeviceMetricsOverride(375, 800, 2, false),
		chromedp.Poll(`window.innerWidth === 375`, nil),
		chromedp.Evaluate(`[document.documentElement, ...document.querySelectorAll("body *")]
			.filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible" && e.clientWidth > 0)
			.map(e => e.tagName + "." + e.className + " right=" + e.getBoundingClientRect().right)`, &overflow),
	))
	assert.Empty(t, overflow, "elements wider than a 375 px screen")
	var docWidth int
	require.NoError(t, run(t, ctx, 5*time.Second, chromedp.Evaluate(`document.documentElement.scrollWidth`, &docWidth)))
	assert.LessOrEqual(t, docWidth, 375)

	if *screenshot != "" {
		var png []byte
		require.NoError(t, run(t, ctx, 10*time.Second,
			emulation.SetDeviceMetricsOverride(1024, 760, 1, false),
			chromedp.Poll(`window.innerWidth === 1024`, nil),
			chromedp.CaptureScreenshot(&png),
		))
		require.NoError(t, os.WriteFile(*screenshot, png, 0o644))
		t.Logf("screenshot: %s, %d bytes", *screenshot, len(png))
	}

	// No request left the sandbox's origin (no CDN, no font, no Google).
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, urls)
	for _, u := range urls {
		assert.True(t, strings.HasPrefix(u, srv.URL+"/"), "a request outside the sandbox: %s", u)
	}
	assert.Empty(t, jsErrors, "script errors")
	t.Logf("%d requests, all to %s", len(urls), srv.URL)
}
