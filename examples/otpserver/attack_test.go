package main

// The attacks of issue 18, from outside: the built otpserver runs as two
// separate processes sharing one real Redis through a fault-injecting TCP
// proxy (redistest.Proxy), and the test plays the user, a flaky network,
// a stranger who knows the user's phone number and a toll fraudster
// rotating source addresses.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/examples/internal/attack"
	"github.com/voicecall-go/voicecall/redisstore/redistest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// otpserverBinary builds this program once per test run.
func otpserverBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otpserver-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "otpserver")
		binErr = attack.Build(".", ".", binPath)
	})
	require.NoError(t, binErr)
	return binPath
}

// startProcess runs the built otpserver with args against p and returns
// its base URL; the process is stopped (SIGINT, exit status checked) when
// the test ends.
func (p *platform) startProcess(t *testing.T, args ...string) string {
	t.Helper()
	var env []string
	for _, k := range []string{"VOICECALL_BASE_URL", "VOICECALL_APP_KEY", "VOICECALL_APP_SECRET", "VOICECALL_OTP_KEY"} {
		env = append(env, k+"="+p.getenv(k))
	}
	prog, err := attack.Start(otpserverBinary(t),
		append([]string{"-addr", "127.0.0.1:0", "-display", "+8675528000088", "-pretone", "pretone.wav", "-unverified"}, args...), env)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, prog.Stop(), "otpserver's exit; stderr:\n%s", prog.Stderr())
		assert.NotContains(t, prog.Stderr(), "+86139", "no full phone number on stderr")
	})
	return prog.URL
}

// from returns an HTTP client whose connections leave from the loopback
// address src (127.0.0.0/8 is all loopback on Linux).
func from(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:   20 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
	}
}

func postVia(t *testing.T, c *http.Client, base, path, body string) answer {
	t.Helper()
	resp, err := c.Post(base+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a.body))
	return a
}

// callsTo counts the calls the platform placed to numbers with prefix.
func (p *platform) callsTo(prefix string) int {
	n := 0
	for _, c := range p.srv.Calls() {
		if strings.HasPrefix(c.CalleeNbr, prefix) {
			n++
		}
	}
	return n
}

// twoInstances starts the proxy and two otpservers that share Redis
// through it, under a prefix of their own.
func twoInstances(t *testing.T, p *platform, extra ...string) (a, b string, proxy *redistest.Proxy) {
	t.Helper()
	redistest.Need(t, redisErr)
	proxy, err := redistest.NewProxy(redisSrv.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	// A short read timeout, so that a delayed reply makes go-redis give up
	// and re-send (its default retries) within the test's time.
	url := proxy.URL + "?read_timeout=300ms"
	prefix := "attack:" + strings.ReplaceAll(t.Name(), "/", ":") + ":"
	args := append([]string{"-redis", url, "-redis-prefix", prefix}, extra...)
	return p.startProcess(t, args...), p.startProcess(t, args...), proxy
}

// scriptOn matches the EVALSHA of a redisstore script whose first key
// ends with suffix (the check's verification key, say).
func scriptOn(suffix string) func(args []string) bool {
	return func(args []string) bool {
		return (args[0] == "EVALSHA" || args[0] == "EVAL") && len(args) > 3 && strings.HasSuffix(args[3], suffix)
	}
}

// TestAttackLostReplies: with every kind of lost or late Redis reply on
// the send's reservation and on each check, the answers are those of a
// perfect network: a wrong guess counts once, the right code is accepted,
// a send places one call and its code verifies.
func TestAttackLostReplies(t *testing.T) {
	p := newPlatform(t)
	a, b, proxy := twoInstances(t, p)
	faults := []redistest.Fault{
		{Kind: redistest.DropReply},
		{Kind: redistest.DelayReply, Delay: time.Second},
		{Kind: redistest.ResetAfter},
		{Kind: redistest.ResetBefore},
	}
	isReserve := func(args []string) bool {
		return (args[0] == "EVALSHA" || args[0] == "EVAL") && strings.Contains(strings.Join(args, " "), ":hold")
	}
	user := from("127.0.0.1")
	for i, f := range faults {
		t.Run(f.Kind.String(), func(t *testing.T) {
			phone := fmt.Sprintf("+86139120000%02d", i)
			before := p.callsTo(phone)
			proxy.Inject(isReserve, f)
			sent := postVia(t, user, a, "/codes", `{"phone":"`+phone+`"}`)
			require.Equal(t, http.StatusAccepted, sent.status, "the send despite a %s: %v", f.Kind, sent.body)
			require.Zero(t, proxy.Pending(), "the fault hit the reservation")
			assert.Equal(t, before+1, p.callsTo(phone), "one call placed")
			id := sent.id(t)
			code := p.lastCode(t, phone)

			proxy.Inject(scriptOn("v:{"+id+"}"), f)
			wrong := postVia(t, user, b, "/codes/check", `{"id":"`+id+`","code":"`+wrongCode(code)+`"}`)
			require.Zero(t, proxy.Pending(), "the fault hit the check")
			assert.Equal(t, http.StatusUnprocessableEntity, wrong.status, wrong.body)
			assert.Equal(t, 4.0, wrong.body["attemptsLeft"], "one wrong guess counts once")
			wrong = postVia(t, user, a, "/codes/check", `{"id":"`+id+`","code":"`+wrongCode(code)+`"}`)
			assert.Equal(t, 3.0, wrong.body["attemptsLeft"], "the next counts once too")

			proxy.Inject(scriptOn("v:{"+id+"}"), f)
			right := postVia(t, user, b, "/codes/check", `{"id":"`+id+`","code":"`+code+`"}`)
			require.Zero(t, proxy.Pending(), "the fault hit the check")
			assert.Equal(t, http.StatusOK, right.status, "the right code despite a %s: %v", f.Kind, right.body)
			again := postVia(t, user, a, "/codes/check", `{"id":"`+id+`","code":"`+code+`"}`)
			assert.Equal(t, http.StatusGone, again.status, "a code works once")
		})
	}
}

// TestAttackStranger: someone who knows the phone number, from many
// addresses, can neither learn that a code is pending nor use up the
// owner's attempts.
func TestAttackStranger(t *testing.T) {
	p := newPlatform(t)
	a, b, _ := twoInstances(t, p)
	const phone, other = "+8613912000100", "+8613912000101"
	owner := from("127.0.0.1")
	sent := postVia(t, owner, a, "/codes", `{"phone":"`+phone+`"}`)
	require.Equal(t, http.StatusAccepted, sent.status, sent.body)
	id := sent.id(t)
	code := p.lastCode(t, phone)

	// The check takes no phone number: one with only a number is refused
	// the same way whether a code is pending for it or not.
	var answers []answer
	for i, ph := range []string{phone, other} {
		stranger := from(fmt.Sprintf("127.0.%d.9", 50+i))
		answers = append(answers, postVia(t, stranger, b, "/codes/check", `{"phone":"`+ph+`","code":"123456"}`))
	}
	assert.Equal(t, answers[0], answers[1], "a pending code is not revealed by a check with a number")
	assert.NotEqual(t, http.StatusOK, answers[0].status)

	// Guessed ids: every one gets the answer of an id that never existed.
	var gone answer
	for i := range 30 {
		stranger := from(fmt.Sprintf("127.0.%d.9", 60+i))
		guess := fmt.Sprintf("%022d", i)
		ans := postVia(t, stranger, []string{a, b}[i%2], "/codes/check", `{"id":"`+guess+`","code":"123456"}`)
		if i == 0 {
			gone = ans
		}
		assert.Equal(t, gone, ans, "guess %d", i)
	}
	assert.Equal(t, http.StatusGone, gone.status)

	right := postVia(t, owner, b, "/codes/check", `{"id":"`+id+`","code":"`+code+`"}`)
	assert.Equal(t, http.StatusOK, right.status, "the owner's code works after 30 strangers' guesses: %v", right.body)
	used := postVia(t, from("127.0.99.9"), a, "/codes/check", `{"id":"`+id+`","code":"`+code+`"}`)
	assert.Equal(t, gone, used, "a used id is answered as an unknown one")
}

// TestAttackTollFraud plays the measured pumping pattern: 38 source
// addresses, in 38 different /24 networks, each asking for codes to 10
// numbers of one range within a minute. At most 10 calls may be placed.
func TestAttackTollFraud(t *testing.T) {
	p := newPlatform(t)
	a, b, _ := twoInstances(t, p)
	const rangePrefix = "+861391234"
	codes := 0
	for src := range 38 {
		c := from("127." + strconv.Itoa(src+1) + ".0.7")
		for n := range 10 {
			phone := fmt.Sprintf("%s%02d%02d", rangePrefix, src%100, n)
			ans := postVia(t, c, []string{a, b}[n%2], "/codes", `{"phone":"`+phone+`"}`)
			switch ans.status {
			case http.StatusAccepted:
				codes++
			case http.StatusTooManyRequests:
				assert.NotEmpty(t, ans.retryAfter, "a refusal says when to retry")
				assert.NotEmpty(t, ans.body["reason"], "a refusal names its reason")
			default:
				t.Errorf("unexpected answer %d %v", ans.status, ans.body)
			}
		}
	}
	t.Logf("380 requests from 38 addresses into one range: %d calls placed", p.callsTo(rangePrefix))
	assert.LessOrEqual(t, p.callsTo(rangePrefix), 10, "at most 10 calls placed")
	assert.Equal(t, codes, p.callsTo(rangePrefix), "a 202 for each call placed")
}

// TestAttackRefusedNumbers: numbers that are not valid Chinese numbers,
// however much they look like "+86" and digits, and numbers of the types
// toll fraud uses (premium rate), are refused before any call, each with
// a reason.
func TestAttackRefusedNumbers(t *testing.T) {
	p := newPlatform(t)
	a, _, _ := twoInstances(t, p)
	c := from("127.0.0.1")
	for _, phone := range []string{
		"+861",                          // a country code and one digit
		"+8600135000000",                // a trunk prefix after the country code
		"+86" + strings.Repeat("0", 27), // 29 digits of zeros
		"+8690012345678",                // no Chinese range starts with 900
		"+86135000000011",               // a mobile number one digit too long
		"+33612345678",                  // a valid French mobile: not an allowed country
		"+8616812345",                   // a premium-rate number (libphonenumber's metadata)
	} {
		ans := postVia(t, c, a, "/codes", `{"phone":"`+phone+`"}`)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, ans.status, "%s: %v", phone, ans.body)
		assert.NotEmpty(t, ans.body["reason"], "%s: the refusal names its reason", phone)
	}
	premium := postVia(t, c, a, "/codes", `{"phone":"+8616812345"}`)
	assert.Equal(t, http.StatusForbidden, premium.status)
	assert.Equal(t, "premium-rate number", premium.body["reason"])
	assert.Empty(t, p.srv.Calls(), "no call placed")
	assert.Empty(t, p.srv.Requests(), "nothing sent to the platform")
}
