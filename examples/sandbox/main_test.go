package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

// lines feeds the sandbox's output, line by line, to a channel.
func lines(t *testing.T) (io.Writer, <-chan string) {
	t.Helper()
	pr, pw := io.Pipe()
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	t.Cleanup(func() { pw.Close() })
	return pw, ch
}

// next returns the next line containing want, failing after a deadline.
func next(t *testing.T, ch <-chan string, want string, seen *[]string) string {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-ch:
			require.True(t, ok, "output ended before %q", want)
			*seen = append(*seen, l)
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout.C:
			t.Fatalf("no line with %q in %q", want, *seen)
		}
	}
}

func TestSandbox(t *testing.T) {
	t.Parallel()
	// The pushes are signed by default (a receiver that knows the app
	// secret verifies them, as examples/webhook does).
	var signed, unsigned atomic.Int32
	var receiverURL string
	receiver := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sig, err := aksk.Parse(r.Header.Get(aksk.Header))
		if err == nil && aksk.VerifyPush(sig, voicetest.DefaultAppSecret, receiverURL+r.URL.RequestURI()) {
			signed.Add(1)
		} else {
			unsigned.Add(1)
		}
	}))
	receiver.Start()
	receiverURL = receiver.URL
	defer receiver.Close()

	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-scenario", "busy", "-time-scale", "0",
			"-status-url", receiver.URL + "/status?token=s3cr3t", "-fee-url", receiver.URL + "/fee"}, out, out)
	}()
	var seen []string
	l := next(t, ch, "listening on http://", &seen)
	base := l[strings.Index(l, "http://"):]
	next(t, ch, "app key "+voicetest.DefaultAppKey, &seen)
	next(t, ch, "app secret "+voicetest.DefaultAppSecret, &seen)
	next(t, ch, "  export VOICECALL_BASE_URL="+base, &seen)
	next(t, ch, "  export VOICECALL_APP_KEY="+voicetest.DefaultAppKey, &seen)
	next(t, ch, "  export VOICECALL_APP_SECRET="+voicetest.DefaultAppSecret, &seen)

	client, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "918273",
	})
	require.NoError(t, err)
	next(t, ch, "resultcode=0 sessionId="+resp.SessionID, &seen)
	next(t, ch, "call     "+resp.SessionID+" placed", &seen)
	next(t, ch, "callout", &seen)
	next(t, ch, "disconnect", &seen)
	next(t, ch, "ended: stateCode 8102", &seen)
	next(t, ch, "fee ", &seen)

	bad, err := voicecall.NewClient(base, voicetest.DefaultAppKey, "wrong")
	require.NoError(t, err)
	_, err = bad.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "918273",
	})
	require.Error(t, err)
	next(t, ch, "resultcode=1023006", &seen)

	cancel()
	next(t, ch, "shutting down", &seen)
	require.NoError(t, <-done)

	assert.Positive(t, signed.Load(), "pushes are signed by default")
	assert.Zero(t, unsigned.Load(), "every push carries a valid X-AKSK header")

	all := strings.Join(seen, "\n")
	assert.NotContains(t, all, "+8613512345678", "phone numbers are masked")
	assert.Contains(t, all, "5678")
	assert.NotContains(t, all, "918273", "the code is never printed")
	assert.NotContains(t, all, "s3cr3t", "URL queries are not printed")
	assert.NotContains(t, all, `PasswordDigest="`, "the X-AKSK header is never printed")
}

func TestSandboxFlags(t *testing.T) {
	t.Parallel()
	out, ch := lines(t)
	go func() {
		for range ch {
		}
	}()
	ctx := context.Background()
	assert.Error(t, run(ctx, []string{"-scenario", "flying"}, out, out))
	assert.Error(t, run(ctx, []string{"-sign-pushes", "md5"}, out, out))
	assert.Error(t, run(ctx, []string{"-nope"}, out, out))
}

// TestSandboxServesEveryAPI: a notification collects the scripted digits,
// a click-to-call is recorded and its recording downloaded, and stopping an
// ended call is refused.
func TestSandboxServesEveryAPI(t *testing.T) {
	t.Parallel()
	fees := make(chan voicecall.FeeRecord, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n, err := voicecall.ParseNotification(b); err == nil && n.Kind == voicecall.NotificationFee {
			for _, f := range n.Fees {
				fees <- f
			}
		}
	}))
	defer receiver.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-time-scale", "0", "-digits", "5", "-max-records", "50",
			"-status-url", receiver.URL + "/status", "-fee-url", receiver.URL + "/fee"}, out, out)
	}()
	var seen []string
	l := next(t, ch, "listening on http://", &seen)
	base := l[strings.Index(l, "http://"):]
	next(t, ch, "GET  "+base+voicetest.RecordingPath, &seen)
	client, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer tcancel()

	n, err := client.CallNotify(tctx, &voicecall.CallNotifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678",
		PlayInfoList: []voicecall.PlayInfo{{NotifyVoice: "n.wav", CollectDigits: 1}}})
	require.NoError(t, err)
	next(t, ch, "collectInfo -> "+receiver.URL+"/status sessionId="+n.SessionID, &seen)

	cb, err := client.Click2Call(tctx, &voicecall.Click2CallRequest{DisplayNumber: "+8675528000088", CallerNumber: "+8613500000011",
		DisplayCalleeNumber: "+8675528000088", CalleeNumber: "+8613500000022", Record: true})
	require.NoError(t, err)
	next(t, ch, "call     "+cb.SessionID+" ended", &seen)
	_, err = client.CallStop(tctx, &voicecall.CallStopRequest{SessionID: cb.SessionID})
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr, "the call has ended")
	next(t, ch, "callStop", &seen)

	// The CDR names the recording; the SDK finds and downloads it.
	var rec voicecall.FeeRecord
	for rec.SessionID != cb.SessionID {
		select {
		case rec = <-fees:
		case <-tctx.Done():
			t.Fatal("no CDR for the callback")
		}
	}
	assert.Equal(t, 1, rec.RecordFlag)
	loc, err := client.RecordingURLOf(tctx, &rec)
	require.NoError(t, err)
	size, err := client.DownloadRecording(tctx, loc, io.Discard, 0)
	require.NoError(t, err)
	assert.Greater(t, size, int64(44))
	next(t, ch, "-> http 200, credentials: none", &seen)

	cancel()
	next(t, ch, "shutting down", &seen)
	require.NoError(t, <-done)
	assert.NotContains(t, strings.Join(seen, "\n"), "token=", "download tokens are not printed")
}

// TestSandboxControlAPI: the sandbox serves the inspection API, the
// console and the magic numbers; a PHP or Node.js test suite reads the
// code that Huawei's PHP sample had read out.
func TestSandboxControlAPI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-time-scale", "0"}, out, out)
	}()
	var seen []string
	l := next(t, ch, "listening on http://", &seen)
	base := l[strings.Index(l, "http://"):]
	next(t, ch, "console  "+base+"/_sandbox/", &seen)
	next(t, ch, "control  "+base+"/_sandbox/v1/", &seen)
	next(t, ch, "magic numbers on", &seen)

	get := func(path string, v any) int {
		t.Helper()
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		if v != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
		}
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get("/_sandbox/v1/healthz", nil))
	require.Equal(t, http.StatusOK, get("/_sandbox/v1/readyz", nil))
	require.Equal(t, http.StatusOK, get("/_sandbox/", nil))

	client, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "918273",
	})
	require.NoError(t, err)
	var calls struct {
		Calls []struct {
			SessionID  string `json:"sessionId"`
			VerifyCode string `json:"verifyCode"`
		}
	}
	require.Equal(t, http.StatusOK, get("/_sandbox/v1/calls?number=%2B8613512345678", &calls))
	require.Len(t, calls.Calls, 1)
	assert.Equal(t, resp.SessionID, calls.Calls[0].SessionID)
	assert.Equal(t, "918273", calls.Calls[0].VerifyCode)

	busy, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8610000008102", LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "1111",
	})
	require.NoError(t, err)
	next(t, ch, "call     "+busy.SessionID+" ended: stateCode 8102", &seen)

	// Other languages: Huawei's PHP sample places a call with code 1234,
	// and PHP and Node.js scripts read it back from the API.
	runTool := func(tool string, args ...string) string {
		t.Helper()
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Logf("%s is not installed: not run", tool)
			return ""
		}
		tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer tcancel()
		cmd := exec.CommandContext(tctx, path, args...)
		cmd.Env = append(os.Environ(), "SANDBOX_URL="+base)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
		return strings.TrimSpace(string(b))
	}
	if out := runTool("php", filepath.Join("php", "voiceVerificationCode.php")); out != "" {
		assert.Contains(t, out, `"resultcode":"0"`)
		assert.Equal(t, "1234", runTool("php", filepath.Join("php", "readcode.php"), "+8613500000001"))
	}
	if out := runTool("node", filepath.Join("node", "callverify.mjs"), "+8613500000002", "5678"); out != "" {
		assert.Contains(t, out, `"resultcode":"0"`)
		assert.Equal(t, "5678", runTool("node", filepath.Join("node", "readcode.mjs"), "+8613500000002"))
		if _, err := exec.LookPath("php"); err == nil {
			assert.Equal(t, "1234", runTool("node", filepath.Join("node", "readcode.mjs"), "+8613500000001"))
		}
	}

	cancel()
	next(t, ch, "shutting down", &seen)
	require.NoError(t, <-done)
	all := strings.Join(seen, "\n")
	assert.NotContains(t, all, "918273", "the code is never printed")
	assert.NotContains(t, all, "+8613512345678", "phone numbers are masked")
}

// TestSandboxRemotePushRefused: a push to an address that is not
// loopback is refused before any packet leaves, and the log names the
// flag that allows it, not the Go option.
func TestSandboxRemotePushRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	out, ch := lines(t)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-time-scale", "0",
			"-status-url", "http://receiver.invalid/voicecall/notify", "-fee-url", "http://receiver.invalid/voicecall/notify"}, out, out)
	}()
	var seen []string
	l := next(t, ch, "listening on http://", &seen)
	base := l[strings.Index(l, "http://"):]
	client, err := voicecall.NewClient(base, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	_, err = client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", PreTone: "pretone.wav", VerifyCode: "918273",
	})
	require.NoError(t, err)
	l = next(t, ch, "not pushed", &seen)
	assert.Contains(t, l, "-remote-pushes")
	assert.NotContains(t, strings.Join(seen, "\n"), "WithRemotePushes", "the program names its flag")
	cancel()
	next(t, ch, "shutting down", &seen)
	require.NoError(t, <-done)
}

// TestSandboxDefaults: without -status-url and -fee-url, pushes go to
// examples/webhook's default address and path; -h writes the usage on
// stderr only.
func TestSandboxDefaults(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	require.NoError(t, run(context.Background(), []string{"-h"}, &stdout, &stderr))
	assert.Empty(t, stdout.String(), "-h writes nothing on stdout")
	assert.True(t, strings.HasPrefix(stderr.String(), "usage: sandbox "), stderr.String())
	assert.Contains(t, stderr.String(), DefaultNotifyURL, "the default push URL is shown")
	assert.Equal(t, "http://127.0.0.1:8090/voicecall/notify", DefaultNotifyURL)
	assert.Error(t, run(context.Background(), []string{"extra"}, &stdout, &stderr), "an argument that is not a flag")
}
