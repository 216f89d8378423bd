package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
	"github.com/voicecall-go/voicecall/voicetest"
)

var (
	redisSrv *redistest.Server
	redisErr error
)

func TestMain(m *testing.M) {
	redisSrv, redisErr = redistest.Start()
	code := m.Run()
	redisSrv.Close()
	os.Exit(code)
}

const otpKey = "test-key-0123456789abcdef0123456789"

// platform is a voicetest server whose notifications go, through a
// proxy, to whichever otpserver is set as the target.
type platform struct {
	srv    *voicetest.Server
	target atomic.Pointer[url.URL]
}

func newPlatform(t *testing.T, opts ...voicetest.Option) *platform {
	t.Helper()
	p := &platform{}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			if u := p.target.Load(); u != nil {
				r.SetURL(u)
			}
		},
		ErrorLog: log.New(io.Discard, "", 0), // pushes that race a server's shutdown
	})
	t.Cleanup(proxy.Close)
	p.srv = voicetest.Start(t, append([]voicetest.Option{voicetest.WithNotifyURLs(proxy.URL+"/notify", proxy.URL+"/notify")}, opts...)...)
	return p
}

func (p *platform) getenv(name string) string {
	app := p.srv.Apps()[0]
	return map[string]string{
		"VOICECALL_BASE_URL":   p.srv.URL,
		"VOICECALL_APP_KEY":    app.Key,
		"VOICECALL_APP_SECRET": app.Secret,
		"VOICECALL_OTP_KEY":    otpKey,
	}[name]
}

// addrWriter captures stderr and reports each listening address.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent int
}

func (w *addrWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	n := 0
	for _, line := range strings.Split(w.buf.String(), "\n") {
		if a, ok := strings.CutPrefix(line, "listening on "); ok {
			if n++; n > w.sent {
				w.sent = n
				w.addr <- a
			}
		}
	}
	return len(b), nil
}

func (w *addrWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// start runs an otpserver against p, makes it the target of p's
// notifications unless another is, and returns its base URL.
func (p *platform) start(t *testing.T, args ...string) string {
	t.Helper()
	return p.startN(t, 1, args...)[0]
}

// startN is start for a server with n listeners: it returns each base
// URL, and the last one receives the notifications.
func (p *platform) startN(t *testing.T, n int, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &addrWriter{addr: make(chan string, 4)}
	done := make(chan int, 1)
	// voicetest does not sign its pushes: -unverified (TestVerifiedPushes
	// runs without it).
	args = append([]string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "pretone.wav", "-unverified"}, args...)
	go func() { done <- run(ctx, args, p.getenv, io.Discard, w) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, exitOK, <-done, "exit status; stderr:\n%s", w)
		assert.NotContains(t, w.String(), "13500000001", "no full phone number on stderr")
	})
	var bases []string
	for len(bases) < n {
		select {
		case a := <-w.addr:
			bases = append(bases, a)
		case code := <-done:
			t.Fatalf("otpserver exited with %d: %s", code, w)
		case <-time.After(10 * time.Second):
			t.Fatalf("otpserver did not start: %s", w)
		}
	}
	u, err := url.Parse(bases[n-1])
	require.NoError(t, err)
	p.target.CompareAndSwap(nil, u)
	return bases
}

type answer struct {
	status     int
	retryAfter string
	body       map[string]any
}

func post(t *testing.T, base, path, body string) answer {
	t.Helper()
	resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a.body))
	return a
}

func sendCode(t *testing.T, base, phone string) answer {
	return post(t, base, "/codes", `{"phone":"`+phone+`"}`)
}

func checkCode(t *testing.T, base, phone, code string) answer {
	return post(t, base, "/codes/check", `{"phone":"`+phone+`","code":"`+code+`"}`)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// lastCode returns the code read out in the last call to phone.
func (p *platform) lastCode(t *testing.T, phone string) string {
	t.Helper()
	var code string
	for _, c := range p.srv.Calls() {
		if c.CalleeNbr == phone {
			code = c.VerifyCode
		}
	}
	require.NotEmpty(t, code, "no call to %s", phone)
	return code
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestSendAndCheck follows the first steps: one call, its code
// accepted once, a second request within the cooldown refused with
// nothing sent, and five wrong checks locking the code.
func TestSendAndCheck(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	base := p.start(t)
	const phone = "+8613500000001"

	a := sendCode(t, base, phone)
	require.Equal(t, http.StatusAccepted, a.status, a.body)
	assert.Equal(t, "sent", a.body["status"])
	require.Len(t, p.srv.Calls(), 1, "one call placed")
	code := p.lastCode(t, phone)

	a = sendCode(t, base, phone)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "60", a.retryAfter)
	assert.Len(t, p.srv.Requests(), 1, "nothing sent within the cooldown")

	a = checkCode(t, base, phone, wrongCode(code))
	assert.Equal(t, http.StatusUnprocessableEntity, a.status)
	assert.Equal(t, false, a.body["valid"])
	a = checkCode(t, base, phone, code)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, true, a.body["valid"])
	a = checkCode(t, base, phone, code)
	assert.Equal(t, http.StatusGone, a.status, "a code works once")

	const other = "+8613500000002"
	require.Equal(t, http.StatusAccepted, sendCode(t, base, other).status)
	code = p.lastCode(t, other)
	for range 5 {
		assert.Equal(t, http.StatusUnprocessableEntity, checkCode(t, base, other, wrongCode(code)).status)
	}
	assert.Equal(t, http.StatusTooManyRequests, checkCode(t, base, other, code).status, "five wrong, then the right code")
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	base := p.start(t)
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"InvalidNumber", "/codes", `{"phone":"+86abc"}`, http.StatusBadRequest},
		{"NoNumber", "/codes", `{}`, http.StatusBadRequest},
		{"NotJSON", "/codes", `phone=+8613500000001`, http.StatusBadRequest},
		{"OutsideAllowList", "/codes", `{"phone":"+14155550100"}`, http.StatusForbidden},
		{"CheckWithoutCode", "/codes/check", `{"phone":"+8613500000009","code":"123456"}`, http.StatusGone},
		{"CheckInvalidNumber", "/codes/check", `{"phone":"13500000009","code":"123456"}`, http.StatusBadRequest},
	} {
		assert.Equal(t, tc.want, post(t, base, tc.path, tc.body).status, tc.name)
	}
	assert.Empty(t, p.srv.Requests(), "nothing sent")

	require.NoError(t, p.srv.FailNext(1, voicetest.FailCode("1020165")))
	a := sendCode(t, base, "+8613500000003")
	assert.Equal(t, http.StatusBadGateway, a.status)
	assert.Equal(t, "1020165", a.body["resultcode"])
	assert.Equal(t, http.StatusAccepted, sendCode(t, base, "+8613500000003").status, "a rejected call starts no cooldown")

	require.NoError(t, p.srv.FailNext(1, voicetest.DropResponse()))
	const phone = "+8613500000004"
	a = sendCode(t, base, phone)
	assert.Equal(t, http.StatusAccepted, a.status)
	assert.Equal(t, "pending", a.body["status"])
	assert.Equal(t, http.StatusOK, checkCode(t, base, phone, p.lastCode(t, phone)).status, "the code of a call placed despite the unknown outcome works")

	resp, err := http.Get(base + "/codes")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestFailedCallRetriesAtOnce: the notifications (on the same listener)
// tell the server the call was busy, so the cooldown is lifted.
func TestFailedCallRetriesAtOnce(t *testing.T) {
	t.Parallel()
	const phone = "+8613500000005"
	p := newPlatform(t, voicetest.WithCalleeScenario(phone, voicetest.ScenarioBusy))
	base := p.start(t)
	require.Equal(t, http.StatusAccepted, sendCode(t, base, phone).status)
	call := p.srv.Calls()[0]
	_, err := p.srv.WaitDelivery(ctxT(t), func(d voicetest.Delivery) bool {
		return d.EventType == voicecall.EventDisconnect && d.Has(call.SessionID) && d.OK()
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, sendCode(t, base, phone).status)
	assert.Len(t, p.srv.Calls(), 2)
}

// TestSeparateNotifyAddr: with -notify-addr the notifications are
// served there, and only there.
func TestSeparateNotifyAddr(t *testing.T) {
	t.Parallel()
	const phone = "+8613500000006"
	p := newPlatform(t, voicetest.WithCalleeScenario(phone, voicetest.ScenarioPoweredOff))
	bases := p.startN(t, 2, "-notify-addr", "127.0.0.1:0")
	base := bases[0]
	resp, err := http.Post(base+"/notify", "application/json", strings.NewReader(`{"eventType":"callout"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "notifications are not served on the main listener")

	require.Equal(t, http.StatusAccepted, sendCode(t, base, phone).status)
	call := p.srv.Calls()[0]
	_, err = p.srv.WaitDelivery(ctxT(t), func(d voicetest.Delivery) bool {
		return d.EventType == voicecall.EventDisconnect && d.Has(call.SessionID) && d.OK()
	})
	require.NoError(t, err, "the notify listener answers the platform")
	assert.Equal(t, http.StatusAccepted, sendCode(t, base, phone).status, "the powered-off call lifted the cooldown")
}

// TestTwoInstancesOneRedis: two instances sharing one Redis, asked for a
// code to one number at the same moment, place exactly one call; a code
// sent by one is checked by the other; a busy call notified to one lets
// the other resend at once.
func TestTwoInstancesOneRedis(t *testing.T) {
	t.Parallel()
	redistest.Need(t, redisErr)
	const busy = "+8613500000099"
	p := newPlatform(t, voicetest.WithCalleeScenario(busy, voicetest.ScenarioBusy))
	prefix := "otpserver-test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	a := p.start(t, "-redis", redisSrv.URL, "-redis-prefix", prefix)
	b := p.start(t, "-redis", redisSrv.URL, "-redis-prefix", prefix)
	phones := []string{"+8613600000001", "+8613600000002", "+8613600000003", "+8613600000004", "+8613600000005"}
	for _, phone := range phones {
		start := make(chan struct{})
		got := make([]int, 2)
		var wg sync.WaitGroup
		for i, base := range []string{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i] = sendCode(t, base, phone).status
			}()
		}
		close(start)
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusAccepted, http.StatusTooManyRequests}, got, phone)
	}
	assert.Len(t, p.srv.Calls(), len(phones), "exactly one call per number")

	code := p.lastCode(t, phones[0])
	assert.Equal(t, http.StatusUnprocessableEntity, checkCode(t, a, phones[0], wrongCode(code)).status)
	assert.Equal(t, http.StatusOK, checkCode(t, b, phones[0], code).status, "checked on the other instance")
	assert.Equal(t, http.StatusGone, checkCode(t, a, phones[0], code).status, "used once across instances")

	// Notifications reach instance a; instance b sees the cooldown lifted.
	require.Equal(t, http.StatusAccepted, sendCode(t, b, busy).status)
	var sid string
	for _, c := range p.srv.Calls() {
		if c.CalleeNbr == busy {
			sid = c.SessionID
		}
	}
	_, err := p.srv.WaitDelivery(ctxT(t), func(d voicetest.Delivery) bool {
		return d.EventType == voicecall.EventDisconnect && d.Has(sid) && d.OK()
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, sendCode(t, b, busy).status)
}

func TestUsage(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	noKey := func(name string) string {
		if name == "VOICECALL_OTP_KEY" {
			return ""
		}
		return p.getenv(name)
	}
	shortKey := func(name string) string {
		if name == "VOICECALL_OTP_KEY" {
			return "short"
		}
		return p.getenv(name)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		getenv func(string) string
		want   int
	}{
		{"Help", []string{"-h"}, p.getenv, exitOK},
		{"NoDisplay", []string{"-pretone", "p.wav"}, p.getenv, exitUsage},
		{"BadFlag", []string{"-nope"}, p.getenv, exitUsage},
		{"Extra", []string{"-display", "+8675528000088", "-pretone", "p.wav", "extra"}, p.getenv, exitUsage},
		{"RedisWithoutKey", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-redis", "redis://127.0.0.1:1/0"}, noKey, exitUsage},
		{"ShortKey", []string{"-display", "+8675528000088", "-pretone", "p.wav"}, shortKey, exitUsage},
		{"BadRedisURL", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-redis", "http://u:secretpw@x"}, p.getenv, exitUsage},
		{"NoCredentials", []string{"-display", "+8675528000088", "-pretone", "p.wav"}, func(string) string { return "" }, exitUsage},
		{"NoPushURL", []string{"-display", "+8675528000088", "-pretone", "p.wav"}, p.getenv, exitUsage},
		{"NotifyAllowWithoutAddr", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-unverified", "-notify-allow", "10.0.0.0/8"}, p.getenv, exitUsage},
		{"BadNotifyAllow", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-unverified", "-notify-addr", "127.0.0.1:0", "-notify-allow", "10.0.0.1"}, p.getenv, exitUsage},
		{"BadVerifyURL", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-verify-url", "not a url"}, p.getenv, exitUsage},
	} {
		var stderr bytes.Buffer
		assert.Equal(t, tc.want, run(context.Background(), tc.args, tc.getenv, io.Discard, &stderr), tc.name)
		assert.NotContains(t, stderr.String(), "secretpw", tc.name)
		assert.NotContains(t, stderr.String(), p.getenv("VOICECALL_APP_SECRET"), tc.name)
	}
}

// TestVerifiedPushes: given the push URL, otpserver verifies pushes (an
// unsigned one is 401, a signed one 200, in either layout and either
// reading of Created) and prints no warning; -unverified prints one.
func TestVerifiedPushes(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const pushURL = "https://otp.example.com/notify"
	ctx, cancel := context.WithCancel(context.Background())
	w := &addrWriter{addr: make(chan string, 4)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "p.wav", "-verify-url", pushURL}, p.getenv, io.Discard, w)
	}()
	var base string
	select {
	case base = <-w.addr:
	case code := <-done:
		t.Fatalf("otpserver exited with %d: %s", code, w)
	case <-time.After(10 * time.Second):
		t.Fatalf("otpserver did not start: %s", w)
	}
	app := p.srv.Apps()[0]
	push := func(header string) int {
		req, err := http.NewRequest(http.MethodPost, base+"/notify", strings.NewReader(`{"eventType":"callout","statusInfo":{"sessionId":"s-1"}}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", voicecall.ContentType)
		if header != "" {
			req.Header.Set(voicecall.HeaderXAKSK, header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, push(""))
	sign := func(loc *time.Location, layout voicecall.PushLayout) string {
		nonce, err := voicecall.NewNonce()
		require.NoError(t, err)
		return voicecall.SignPush(app.Key, app.Secret, pushURL, nonce, voicecall.FormatCreated(time.Now(), loc), layout).HeaderValue()
	}
	assert.Equal(t, http.StatusOK, push(sign(nil, voicecall.PushLayoutNewline)))
	assert.Equal(t, http.StatusOK, push(sign(voicecall.BeijingTime(), voicecall.PushLayoutConcat)))
	cancel()
	assert.Equal(t, exitOK, <-done)
	assert.NotContains(t, w.String(), "WARNING")

	var stderr bytes.Buffer
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2() // start, print, stop at once
	assert.Equal(t, exitOK, run(ctx2, []string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "p.wav", "-unverified"}, p.getenv, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "otpserver: WARNING: push signatures are NOT verified (-unverified)")
}
