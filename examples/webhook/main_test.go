package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/examples/internal/cli"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "notifications", name))
	require.NoError(t, err)
	return b
}

const seedSession = "1201_612_4294967295_20190124030424@callenabler245.huaweicaas.com"

// lineWriter sends every complete line written to it on a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	all   strings.Builder
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default: // a test that stops reading must not block the server
		}
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// next returns the next line, failing after a bound.
func (w *lineWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no line within 10 s")
		return ""
	}
}

// none checks that no further line was written.
func (w *lineWriter) none(t *testing.T) {
	t.Helper()
	select {
	case l := <-w.lines:
		t.Fatalf("unexpected line %s", l)
	default:
	}
}

// program is the webhook program running in the background for a test.
type program struct {
	url    string // the URL it listens on, from its first stderr line
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned err
	err    error
}

// startProgram runs the program with args (on 127.0.0.1:0), stdout,
// stderr and getenv (nil: an empty environment) until stop or the end of
// the test, and waits for its "listening on" line. At the end of the
// test it is stopped and waited for.
func startProgram(t *testing.T, args []string, stdout io.Writer, stderr *lineWriter, getenv func(string) string) *program {
	t.Helper()
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), stdout, stderr, getenv)
	}()
	t.Cleanup(func() { p.wait(t) })
	first := stderr.next(t)
	require.True(t, strings.HasPrefix(first, "listening on http://127.0.0.1:"), first)
	p.url = strings.TrimPrefix(first, "listening on ")
	return p
}

// stop cancels the program and requires it to return nil.
func (p *program) stop(t *testing.T) {
	t.Helper()
	if p.wait(t) {
		require.NoError(t, p.err)
	}
}

// wait cancels the program and waits at most 15 s for it to return.
func (p *program) wait(t *testing.T) bool {
	t.Helper()
	p.cancel()
	select {
	case <-p.done:
		return true
	case <-time.After(15 * time.Second):
		t.Error("run did not return after cancel")
		return false
	}
}

func decode(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &m), line)
	return m
}

// TestRun builds the whole program on 127.0.0.1:0 and checks the issue's
// "Done when" end to end: each push answered 200 and reported with the
// right session ids, a batch pushed twice reported once, truncated JSON
// 400, a 2 MiB body 413, a GET 405; then a graceful shutdown.
func TestRun(t *testing.T) {
	t.Parallel()
	stdout, stderr := newLineWriter(), newLineWriter()
	prog := startProgram(t, []string{"-path", "/hooks/s3cr3t"}, stdout, stderr, nil)
	require.True(t, strings.HasSuffix(prog.url, "/hooks/s3cr3t"), prog.url)
	base := strings.TrimSuffix(prog.url, "/hooks/s3cr3t")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	post := func(body []byte) int {
		resp, err := client.Post(base+"/hooks/s3cr3t", "application/json;charset=UTF-8", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			assert.JSONEq(t, `{"resultcode":"0","resultdesc":"Success"}`, string(b))
		}
		return resp.StatusCode
	}

	require.Equal(t, 200, post(fixture(t, "status_callout_seed.json")))
	m := decode(t, stdout.next(t))
	assert.Equal(t, "status", m["kind"])
	assert.Equal(t, "callout", m["event"])
	assert.Equal(t, seedSession, m["sessionId"])
	assert.Equal(t, "2019-01-24T03:04:24Z", m["timestamp"])
	assert.Equal(t, "**********0021", m["called"], "stdout masks numbers")

	require.Equal(t, 200, post(fixture(t, "fee_seed.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "fee", m["kind"])
	assert.Equal(t, "fee", m["event"])
	assert.Equal(t, seedSession, m["sessionId"])
	assert.Equal(t, "2019-01-24T03:04:49Z", m["callEndTime"])
	assert.Equal(t, true, m["answered"])
	assert.Equal(t, 18.0, m["callSeconds"])

	batch := fixture(t, "fee_batch50.json")
	require.Equal(t, 200, post(batch))
	for i := range 50 {
		m = decode(t, stdout.next(t))
		assert.Equal(t, "fee", m["kind"])
		assert.Equal(t, fmt.Sprintf("1201_%d_4294967295_20190124030424@callenabler245.huaweicaas.com", 1000+i), m["sessionId"])
	}
	require.Equal(t, 200, post(batch), "the same batch again")

	require.Equal(t, 200, post(fixture(t, "status_disconnect.json")))
	m = decode(t, stdout.next(t)) // also proves the re-pushed batch printed nothing
	assert.Equal(t, "disconnect", m["event"])
	assert.Equal(t, "1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com", m["sessionId"])
	assert.Equal(t, 8101.0, m["stateCode"])
	assert.Equal(t, "callee did not answer", m["stateCodeDescription"])

	require.Equal(t, 200, post(fixture(t, "unknown_event_with_session.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "unknown", m["kind"])
	assert.Equal(t, "playEnd", m["event"])
	assert.Equal(t, "1201_701_4294967295_20190124030700@callenabler245.huaweicaas.com", m["sessionId"])

	require.Equal(t, 200, post(fixture(t, "unknown_event.json")))
	m = decode(t, stdout.next(t))
	assert.Equal(t, "recordReady", m["event"])
	assert.Equal(t, "", m["sessionId"])

	assert.Equal(t, http.StatusBadRequest, post(fixture(t, "bad_truncated.json")))
	// The body is sent with "Expect: 100-continue", as careful clients do:
	// the server answers 413 from Content-Length without reading the
	// body, so no 2 MiB are written to a closing connection.
	big, err := http.NewRequest(http.MethodPost, base+"/hooks/s3cr3t", bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20)))
	require.NoError(t, err)
	big.Header.Set("Content-Type", "application/json;charset=UTF-8")
	big.Header.Set("Expect", "100-continue")
	expectClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second}}
	resp, err := expectClient.Do(big)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	resp, err = client.Get(base + "/hooks/s3cr3t")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	// Every other path is 404: the path is the receiver's secret.
	for _, other := range []string{"/", "/hooks", "/hooks/s3cr3", "/hooks/s3cr3t/x", "/favicon.ico", "/favicon.ico"} {
		resp, err = client.Post(base+other, "application/json;charset=UTF-8", bytes.NewReader(fixture(t, "status_callout_seed.json")))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, other)
	}
	// Oversized headers are refused by the server (MaxHeaderBytes 64 KiB).
	huge, err := http.NewRequest(http.MethodPost, base+"/hooks/s3cr3t", bytes.NewReader(fixture(t, "status_callout_seed.json")))
	require.NoError(t, err)
	huge.Header.Set("Content-Type", "application/json;charset=UTF-8")
	huge.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	resp, err = client.Do(huge)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	stdout.none(t)

	prog.stop(t)
	// A request to an unknown path is logged, once per path.
	assert.Equal(t, 1, strings.Count(stderr.String(), "path=/favicon.ico "), stderr.String())
	assert.Contains(t, stderr.String(), "request to an unknown path answered 404")
	assert.NotContains(t, stderr.String(), "path=/hooks/s3cr3t ", "the served path is not logged")
	// Refused requests are logged on stderr.
	assert.Contains(t, stderr.String(), "notification refused")
	// Without the app secret it says, once, that it runs unverified.
	assert.Equal(t, 1, strings.Count(stderr.String(), "webhook: WARNING: push signatures are NOT verified (VOICECALL_APP_SECRET is not set)"), stderr.String())
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	env := func(string) string { return "" }
	var usage cli.UsageError
	assert.ErrorAs(t, run(ctx, []string{"-nope"}, &out, &errOut, env), &usage)
	errOut.Reset()
	assert.ErrorIs(t, run(ctx, []string{"-h"}, &out, &errOut, env), flag.ErrHelp, "-h exits 0")
	help := strings.SplitN(errOut.String(), "\n", 3)
	require.Len(t, help, 3)
	assert.True(t, strings.HasPrefix(help[0], "usage: webhook "), "one help format: the usage line, %q", help[0])
	assert.True(t, strings.HasPrefix(help[1], "environment: VOICECALL_APP_SECRET "), help[1])
	assert.Contains(t, help[1], "VOICECALL_APP_KEY")
	assert.Contains(t, help[2], `(default "127.0.0.1:8090")`)
	assert.Contains(t, help[2], `(default "/voicecall/notify")`)
	for _, flagName := range []string{"-journal", "-consume", "-consumer"} {
		assert.Contains(t, help[2], flagName)
	}
	assert.NotContains(t, errOut.String(), "Usage of webhook")
	for _, flagName := range []string{"-path", "-max-conns", "-max-inflight", "-max-body", "-max-header-bytes", "-read-header-timeout", "-read-timeout", "-write-timeout", "-idle-timeout", "-dead-letter", "-dedup-status"} {
		assert.Contains(t, errOut.String(), flagName, "every limit is a flag")
	}
	for _, flagName := range []string{"-max-conns-per-addr", "-body-stall", "-allow", "-unverified", "-verify-url"} {
		assert.Contains(t, errOut.String(), flagName)
	}
	assert.Contains(t, errOut.String(), "(default 256)")
	for _, args := range [][]string{{"-path", "nope"}, {"-max-conns", "0"}, {"-max-inflight", "10"}, {"-allow", "10.0.0.0"}, {"-max-conns-per-addr", "0"}, {"extra"}} {
		assert.ErrorAs(t, run(ctx, args, &out, &errOut, env), &usage, args)
	}
	err := run(ctx, []string{"-addr", "127.0.0.1:0", "-verify-url", "https://h/fee"}, &out, &errOut, env)
	assert.ErrorContains(t, err, "VOICECALL_APP_SECRET")
	err = run(ctx, []string{"-addr", "127.0.0.1:0", "-verify-url", "not a url"}, &out, &errOut,
		func(k string) string { return map[string]string{"VOICECALL_APP_SECRET": "s"}[k] })
	assert.ErrorContains(t, err, "voicecall: new handler: invalid Verification.URLs[0]")
	assert.ErrorContains(t, err, "-verify-url: ", "names the flag")
	// The secret set and no URL to verify against: refused, not served
	// unverified.
	err = run(ctx, []string{"-addr", "127.0.0.1:0"}, &out, &errOut,
		func(k string) string { return map[string]string{"VOICECALL_APP_SECRET": "s"}[k] })
	assert.ErrorAs(t, err, &usage)
	assert.ErrorContains(t, err, "-verify-url")
	assert.Error(t, run(ctx, []string{"-addr", "256.0.0.1:99999"}, &out, &errOut, env))
	assert.Empty(t, out.String())
}

// TestRunVerify runs with push verification on: an unsigned push gets
// 401 and a signed one 200.
func TestRunVerify(t *testing.T) {
	t.Parallel()
	stdout, stderr := newLineWriter(), newLineWriter()
	env := map[string]string{"VOICECALL_APP_SECRET": "myAppSecret", "VOICECALL_APP_KEY": "myAppKey"}
	const pushURL = "https://hooks.example.com/voicecall"
	prog := startProgram(t, []string{"-verify-url", pushURL}, stdout, stderr, func(k string) string { return env[k] })
	base := prog.url
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	push := func(header string) int {
		req, err := http.NewRequest(http.MethodPost, base, bytes.NewReader(fixture(t, "status_callout_seed.json")))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		if header != "" {
			req.Header.Set(aksk.Header, header)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, push(""))
	nonce, err := aksk.NewNonce()
	require.NoError(t, err)
	tok := aksk.SignPush("myAppKey", "myAppSecret", pushURL, nonce, aksk.FormatCreated(time.Now(), nil), aksk.PushLayoutNewline)
	assert.Equal(t, http.StatusOK, push(tok.HeaderValue()))
	assert.Equal(t, seedSession, decode(t, stdout.next(t))["sessionId"])
	assert.Equal(t, http.StatusUnauthorized, push(tok.HeaderValue()), "replayed")
	// The other layout, with Created in Beijing time, as the 2026 pages say.
	nonce2, err := aksk.NewNonce()
	require.NoError(t, err)
	tok = aksk.SignPush("myAppKey", "myAppSecret", pushURL, nonce2, aksk.FormatCreated(time.Now(), voicecall.BeijingTime()), aksk.PushLayoutConcat)
	assert.Equal(t, http.StatusOK, push(tok.HeaderValue()))
	tok = aksk.SignPush("myAppKey", "myAppSecret", "https://hooks.example.com/other", nonce2+"x", aksk.FormatCreated(time.Now(), nil), aksk.PushLayoutNewline)
	assert.Equal(t, http.StatusUnauthorized, push(tok.HeaderValue()), "signed for another URL")
	assert.NotContains(t, stderr.String(), nonce)
	assert.NotContains(t, stderr.String(), "WARNING", "verified: no warning")
	prog.stop(t)
}

// TestRunUnverifiedFlag: -unverified serves unsigned pushes even with
// the secret set, and says so on stderr.
func TestRunUnverifiedFlag(t *testing.T) {
	t.Parallel()
	stdout, stderr := newLineWriter(), newLineWriter()
	env := map[string]string{"VOICECALL_APP_SECRET": "myAppSecret"}
	prog := startProgram(t, []string{"-unverified"}, stdout, stderr, func(k string) string { return env[k] })
	assert.Equal(t, "webhook: WARNING: push signatures are NOT verified (-unverified): anyone who can reach this address can forge notifications", stderr.next(t))
	resp, err := http.Post(prog.url, "application/json;charset=UTF-8", bytes.NewReader(fixture(t, "status_callout_seed.json")))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	prog.stop(t)
}

// TestPrinterFeeLine checks the line format of a CDR
// from the documented sample.
func TestPrinterFeeLine(t *testing.T) {
	t.Parallel()
	n, err := voicecall.ParseNotification(fixture(t, "fee_doc_sample.json"))
	require.NoError(t, err)
	var out bytes.Buffer
	p := &printer{w: &out}
	require.NoError(t, p.fee(context.Background(), &n.Fees[0]))
	require.Equal(t, 1, strings.Count(out.String(), "\n"))
	m := decode(t, out.String())
	assert.Equal(t, "1201_8658_4294967295_20181018055430@callenabler245.huaweicaas.com", m["sessionId"])
	assert.Equal(t, 518.0, m["ulFailReason"])
	assert.Equal(t, "the remote user's call failed (see the Q.850 cause)", m["ulFailReasonDescription"])
	assert.Equal(t, 480.0, m["sipStatusCode"])
	assert.Equal(t, "2018-10-18T05:54:30Z", m["callOutStartTime"])
	assert.Equal(t, "2018-10-18T05:54:51Z", m["callOutAnswerTime"])
	assert.Equal(t, 15.0, m["ringSeconds"])
	assert.Equal(t, 2.0, m["callSeconds"])
	assert.Equal(t, "002", m["serviceType"])
	assert.Equal(t, "click-to-call", m["serviceTypeDescription"])
	assert.Equal(t, "not applicable", m["callOutUnaswRsnDescription"])
	_, hasDynIVR := m["dynIVRStartTime"]
	assert.False(t, hasDynIVR, "zero times are left out")
}

// TestRunAllow: -allow serves only the listed source networks.
func TestRunAllow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		allow  string
		served bool
	}{
		{"10.0.0.0/8", false},
		{"10.0.0.0/8, 127.0.0.0/8", true},
	} {
		stdout, stderr := newLineWriter(), newLineWriter()
		prog := startProgram(t, []string{"-allow", tc.allow}, stdout, stderr, nil)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Post(prog.url, "application/json;charset=UTF-8", bytes.NewReader(fixture(t, "status_callout_seed.json")))
		if tc.served {
			require.NoError(t, err, tc.allow)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		} else {
			assert.Error(t, err, "%s: 127.0.0.1 is closed as accepted", tc.allow)
			if err == nil {
				resp.Body.Close()
			}
		}
		prog.stop(t)
	}
}
