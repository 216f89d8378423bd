package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/voicecall-go/voicecall/aksk"
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
	p.srv = voicetest.Start(t, append([]voicetest.Option{voicetest.WithNotifyURLs(proxy.URL+"/voicecall/notify", proxy.URL+"/voicecall/notify")}, opts...)...)
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

func checkCode(t *testing.T, base, id, code string) answer {
	return post(t, base, "/codes/check", `{"id":"`+id+`","code":"`+code+`"}`)
}

// id returns the verification id of a 202 answer.
func (a answer) id(t *testing.T) string {
	t.Helper()
	id, _ := a.body["id"].(string)
	require.Len(t, id, 22, "a verification id: %v", a.body)
	return id
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
	id := a.id(t)
	require.Len(t, p.srv.Calls(), 1, "one call placed")
	code := p.lastCode(t, phone)

	a = sendCode(t, base, phone)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "60", a.retryAfter)
	assert.Equal(t, "cooldown", a.body["reason"])
	assert.Len(t, p.srv.Requests(), 1, "nothing sent within the cooldown")

	a = checkCode(t, base, id, wrongCode(code))
	assert.Equal(t, http.StatusUnprocessableEntity, a.status)
	assert.Equal(t, map[string]any{"valid": false, "attemptsLeft": 4.0}, a.body)
	a = checkCode(t, base, id, code[:5])
	assert.Equal(t, http.StatusBadRequest, a.status, "a malformed code")
	a = checkCode(t, base, id, code)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, map[string]any{"valid": true}, a.body)
	a = checkCode(t, base, id, code)
	assert.Equal(t, http.StatusGone, a.status, "a code works once")

	const other = "+8613500000002"
	a = sendCode(t, base, other)
	require.Equal(t, http.StatusAccepted, a.status)
	id = a.id(t)
	code = p.lastCode(t, other)
	for i := range 5 {
		a := checkCode(t, base, id, wrongCode(code))
		assert.Equal(t, http.StatusUnprocessableEntity, a.status)
		assert.Equal(t, float64(4-i), a.body["attemptsLeft"])
	}
	assert.Equal(t, http.StatusTooManyRequests, checkCode(t, base, id, code).status, "five wrong, then the right code")
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
		{"TooShort", "/codes", `{"phone":"+861"}`, http.StatusBadRequest},
		{"TrunkZero", "/codes", `{"phone":"+8600135000000"}`, http.StatusBadRequest},
		{"TwentySevenZeros", "/codes", `{"phone":"+86000000000000000000000000000"}`, http.StatusBadRequest},
		{"NoRange", "/codes", `{"phone":"+8690012345678"}`, http.StatusBadRequest}, // no Chinese range starts with 900
		{"PremiumRate", "/codes", `{"phone":"+8616812345"}`, http.StatusForbidden}, // 168: voice-information services
		{"OtherCountry", "/codes", `{"phone":"+14155550100"}`, http.StatusForbidden},
		{"CheckUnknownID", "/codes/check", `{"id":"AAAAAAAAAAAAAAAAAAAAAA","code":"123456"}`, http.StatusGone},
		{"CheckNoID", "/codes/check", `{"phone":"+8613500000009","code":"123456"}`, http.StatusGone},
		{"CheckMalformedCode", "/codes/check", `{"id":"AAAAAAAAAAAAAAAAAAAAAA","code":"12345a"}`, http.StatusBadRequest},
	} {
		a := post(t, base, tc.path, tc.body)
		assert.Equal(t, tc.want, a.status, tc.name)
		if tc.path == "/codes" && tc.name != "NotJSON" {
			assert.NotEmpty(t, a.body["reason"], "%s: the reason is given", tc.name)
		}
	}
	assert.Empty(t, p.srv.Requests(), "nothing sent")
	a := post(t, base, "/codes", `{"phone":"+8616812345"}`)
	assert.Equal(t, "premium-rate number", a.body["reason"], "the number policy's reason")
	a = post(t, base, "/codes", `{"phone":"+8690012345678"}`)
	assert.Equal(t, "matches no number range of CN", a.body["reason"])
	a = post(t, base, "/codes", `{"number":"+8613500000001"}`)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Contains(t, a.body["reason"], `unknown field "number"`, "a misspelt field is named")
	a = post(t, base, "/codes", `{}`)
	assert.Contains(t, a.body["reason"], `"phone"`, "a missing phone is named")

	require.NoError(t, p.srv.FailNext(1, voicetest.FailCode("1020165")))
	a = sendCode(t, base, "+8613500000003")
	assert.Equal(t, http.StatusBadGateway, a.status)
	assert.Equal(t, "1020165", a.body["resultcode"])
	assert.Equal(t, http.StatusAccepted, sendCode(t, base, "+8613500000003").status, "a rejected call starts no cooldown")

	require.NoError(t, p.srv.FailNext(1, voicetest.DropResponse()))
	const phone = "+8613500000004"
	a = sendCode(t, base, phone)
	assert.Equal(t, http.StatusAccepted, a.status)
	assert.Equal(t, "pending", a.body["status"])
	assert.Equal(t, http.StatusOK, checkCode(t, base, a.id(t), p.lastCode(t, phone)).status, "the code of a call placed despite the unknown outcome works")

	resp, err := http.Get(base + "/codes")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// TestCountries: -countries replaces the default (CN) with its list.
func TestCountries(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	base := p.start(t, "-countries", "HK")
	a := sendCode(t, base, "+8613500000001")
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, "country CN not allowed", a.body["reason"])
	assert.Empty(t, p.srv.Requests(), "nothing sent")
	a = sendCode(t, base, "+85251234567")
	assert.Equal(t, http.StatusAccepted, a.status, a.body)
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
	resp, err := http.Post(base+"/voicecall/notify", "application/json", strings.NewReader(`{"eventType":"callout"}`))
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
	var id string
	for n, phone := range phones {
		start := make(chan struct{})
		got := make([]answer, 2)
		var wg sync.WaitGroup
		for i, base := range []string{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i] = sendCode(t, base, phone)
			}()
		}
		close(start)
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusAccepted, http.StatusTooManyRequests}, []int{got[0].status, got[1].status}, phone)
		if n == 0 {
			for _, g := range got {
				if g.status == http.StatusAccepted {
					id = g.id(t)
				}
			}
		}
	}
	assert.Len(t, p.srv.Calls(), len(phones), "exactly one call per number")

	code := p.lastCode(t, phones[0])
	assert.Equal(t, http.StatusUnprocessableEntity, checkCode(t, a, id, wrongCode(code)).status)
	assert.Equal(t, http.StatusOK, checkCode(t, b, id, code).status, "checked on the other instance")
	assert.Equal(t, http.StatusGone, checkCode(t, a, id, code).status, "used once across instances")

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
		{"BadCountry", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-countries", "CN,XX"}, p.getenv, exitUsage},
		{"BadTrustedProxies", []string{"-display", "+8675528000088", "-pretone", "p.wav", "-trusted-proxies", "10.0.0.0/33"}, p.getenv, exitUsage},
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

// TestStrangerCannotLockOut: someone who knows only the phone number
// can neither learn whether a code is pending nor use up its owner's
// attempts; unknown, used and made-up ids get one answer.
func TestStrangerCannotLockOut(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	base := p.start(t)
	const phone = "+8613500000007"
	a := sendCode(t, base, phone)
	require.Equal(t, http.StatusAccepted, a.status)
	id := a.id(t)
	code := p.lastCode(t, phone)

	var stranger []answer
	for i := range 10 {
		stranger = append(stranger,
			post(t, base, "/codes/check", `{"phone":"`+phone+`","code":"123456"}`),
			checkCode(t, base, fmt.Sprintf("AAAAAAAAAAAAAAAAAAAA%02d", i), wrongCode(code)))
	}
	for _, s := range stranger {
		assert.Equal(t, http.StatusGone, s.status)
		assert.Equal(t, stranger[0].body, s.body, "one answer, whatever is pending")
	}
	assert.Equal(t, http.StatusOK, checkCode(t, base, id, code).status, "the owner's code still works")
	used := checkCode(t, base, id, code)
	assert.Equal(t, http.StatusGone, used.status)
	assert.Equal(t, stranger[0].body, used.body, "a used id answers as an unknown one")
}

func TestClientAddress(t *testing.T) {
	t.Parallel()
	proxies, err := parseNetworks("-trusted-proxies", "10.0.0.0/8, 2001:db8::/32")
	require.NoError(t, err)
	trusting := &server{proxies: proxies}
	plain := &server{}
	for _, tc := range []struct {
		remote, xff string
		plain, via  string
	}{
		{"203.0.113.7:5000", "", "203.0.113.7", "203.0.113.7"},
		{"203.0.113.7:5000", "198.51.100.1", "203.0.113.7", "203.0.113.7"}, // not from a trusted proxy: XFF ignored
		{"10.1.2.3:5000", "198.51.100.1", "10.1.2.3", "198.51.100.1"},
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.1, 10.9.9.9", "10.1.2.3", "198.51.100.1"}, // the client cannot forge the left part
		{"10.1.2.3:5000", "10.9.9.9", "10.1.2.3", "10.1.2.3"},
		{"10.1.2.3:5000", "junk, 198.51.100.1", "10.1.2.3", "198.51.100.1"},
		{"10.1.2.3:5000", "198.51.100.1, junk", "10.1.2.3", "10.1.2.3"},
		{"[2001:db8::1]:5000", "2001:db8:1::5, 2a00::1", "2001:db8::1", "2a00::1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/codes", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		assert.Equal(t, tc.plain, plain.client(r), "without trusted proxies: %s %q", tc.remote, tc.xff)
		assert.Equal(t, tc.via, trusting.client(r), "%s %q", tc.remote, tc.xff)
	}
	_, err = parseNetworks("-trusted-proxies", "10.0.0.0/8,nope")
	assert.ErrorContains(t, err, `-trusted-proxies: "nope" is not a CIDR prefix`)
}

// TestTwoInstancesFaultyRedis tries the service from outside as the issue
// did: two instances sharing one Redis through a fault-injecting proxy. A
// lost reply or a reset never refuses a send by its own reservation,
// counts a guess twice or turns a right code into a refusal; and the
// toll-fraud pattern (38 addresses x 10 numbers of one range, through a
// trusted proxy's X-Forwarded-For) places at most 10 calls.
func TestTwoInstancesFaultyRedis(t *testing.T) {
	t.Parallel()
	redistest.Need(t, redisErr)
	proxy, err := redistest.NewProxy(redisSrv.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = proxy.Close() })
	p := newPlatform(t, voicetest.WithTimeScale(0))
	prefix := "otpserver-faults:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	args := []string{"-redis", proxy.URL, "-redis-prefix", prefix, "-trusted-proxies", "127.0.0.0/8"}
	a := p.start(t, args...)
	b := p.start(t, args...)
	script := func(args []string) bool { return args[0] == "EVALSHA" || args[0] == "EVAL" }

	// Load the scripts.
	warm := sendCode(t, a, "+8613900000001")
	require.Equal(t, http.StatusAccepted, warm.status, warm.body)
	require.Equal(t, http.StatusOK, checkCode(t, a, warm.id(t), p.lastCode(t, "+8613900000001")).status)

	for _, kind := range []redistest.FaultKind{redistest.DropReply, redistest.ResetAfter, redistest.ResetBefore} {
		phone := "+86139000001" + strconv.Itoa(10+int(kind))
		proxy.Inject(script, redistest.Fault{Kind: kind})
		sent := sendCode(t, a, phone)
		require.Equal(t, http.StatusAccepted, sent.status, "%s: %v", kind, sent.body)
		id := sent.id(t)
		code := p.lastCode(t, phone)

		proxy.Inject(script, redistest.Fault{Kind: kind})
		wrong := checkCode(t, b, id, wrongCode(code))
		assert.Equal(t, http.StatusUnprocessableEntity, wrong.status, kind)
		assert.Equal(t, 4.0, wrong.body["attemptsLeft"], "%s: the guess counted once", kind)
		proxy.Inject(script, redistest.Fault{Kind: kind})
		assert.Equal(t, http.StatusOK, checkCode(t, a, id, code).status, "%s: the right code stays right", kind)
	}
	assert.Zero(t, proxy.Pending(), "every fault was met")

	calls := len(p.srv.Calls())
	for i := range 38 {
		xff := fmt.Sprintf("198.%d.%d.7", 18+i/200, i%200)
		for n := range 10 {
			// One range of valid mobile numbers (those of the measured
			// +86168 range are refused before the guard: no such numbers).
			body := `{"phone":"` + fmt.Sprintf("+861391235%d%03d", i%10, i*10+n) + `"}`
			req, err := http.NewRequest(http.MethodPost, []string{a, b}[n%2]+"/codes", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("X-Forwarded-For", xff)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Contains(t, []int{http.StatusAccepted, http.StatusTooManyRequests}, resp.StatusCode)
		}
	}
	placed := len(p.srv.Calls()) - calls
	assert.LessOrEqual(t, placed, 10, "the toll-fraud pattern")
	assert.Positive(t, placed)
}

// TestVerifiedPushes: given the push URL, otpserver verifies pushes (an
// unsigned one is 401, a signed one 200, in either layout and either
// reading of Created) and prints no warning; -unverified prints one.
func TestVerifiedPushes(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	const pushURL = "https://otp.example.com/voicecall/notify"
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
		req, err := http.NewRequest(http.MethodPost, base+"/voicecall/notify", strings.NewReader(`{"eventType":"callout","statusInfo":{"sessionId":"s-1"}}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		if header != "" {
			req.Header.Set(aksk.Header, header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, push(""))
	sign := func(loc *time.Location, layout aksk.PushLayout) string {
		nonce, err := aksk.NewNonce()
		require.NoError(t, err)
		return aksk.SignPush(app.Key, app.Secret, pushURL, nonce, aksk.FormatCreated(time.Now(), loc), layout).HeaderValue()
	}
	assert.Equal(t, http.StatusOK, push(sign(nil, aksk.PushLayoutNewline)))
	assert.Equal(t, http.StatusOK, push(sign(voicecall.BeijingTime(), aksk.PushLayoutConcat)))
	cancel()
	assert.Equal(t, exitOK, <-done)
	assert.NotContains(t, w.String(), "WARNING")

	var stderr bytes.Buffer
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2() // start, print, stop at once
	assert.Equal(t, exitOK, run(ctx2, []string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "p.wav", "-unverified"}, p.getenv, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "otpserver: WARNING: push signatures are NOT verified (-unverified)")
}
