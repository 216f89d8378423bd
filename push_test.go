package voicecall

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/internal/expiring"
)

// Push signature vectors: computed independently (Python hmac, Node.js
// crypto) for the example values of Huawei's notification pages.
const (
	pushSecret  = "myAppSecret"
	pushNonce   = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
	pushCreated = "2018-02-12T15:30:20Z"
	pushURL     = "https://www.huawei.com:9330/fee"
)

// bothReadings is the CreatedOffsets the docs give for accepting UTC and
// Beijing time alike.
var bothReadings = []time.Duration{0, 8 * time.Hour}

func TestPushVerification(t *testing.T) {
	t.Parallel()
	created, err := time.Parse(aksk.CreatedLayout, pushCreated)
	require.NoError(t, err)
	signed := func(url, created string, layout aksk.PushLayout) string {
		return aksk.SignPush("myAppKey", pushSecret, url, pushNonce, created, layout).HeaderValue()
	}
	tests := []struct {
		name    string
		cfg     PushVerification
		headers []string
		now     time.Time
		want    int
	}{
		{name: "newline layout", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "concat layout", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutConcat)}, want: 200},
		{name: "created 4 min ahead", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, now: created.Add(-4 * time.Minute), want: 200},
		{name: "created 4 min behind", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, now: created.Add(4 * time.Minute), want: 200},
		{name: "created 6 min behind", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, now: created.Add(6 * time.Minute), want: 401},
		{name: "created 6 min ahead", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, now: created.Add(-6 * time.Minute), want: 401},
		{name: "beijing created with offset", cfg: PushVerification{CreatedOffset: 8 * time.Hour},
			headers: []string{signed(pushURL, "2018-02-12T23:30:20Z", aksk.PushLayoutNewline)}, want: 200},
		{name: "both readings: utc", cfg: PushVerification{CreatedOffsets: bothReadings},
			headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "both readings: beijing", cfg: PushVerification{CreatedOffsets: bothReadings},
			headers: []string{signed(pushURL, "2018-02-12T23:30:20Z", aksk.PushLayoutConcat)}, want: 200},
		{name: "both readings: 6 min off either", cfg: PushVerification{CreatedOffsets: bothReadings},
			headers: []string{signed(pushURL, "2018-02-12T23:36:20Z", aksk.PushLayoutNewline)}, want: 401},
		{name: "both readings: 4 h off", cfg: PushVerification{CreatedOffsets: bothReadings},
			headers: []string{signed(pushURL, "2018-02-12T19:30:20Z", aksk.PushLayoutNewline)}, want: 401},
		{name: "beijing created without offset", headers: []string{signed(pushURL, "2018-02-12T23:30:20Z", aksk.PushLayoutNewline)}, want: 401},
		{name: "no header", want: 401},
		{name: "no header allowed", cfg: PushVerification{AllowUnsigned: true}, want: 200},
		{name: "bad header with AllowUnsigned", cfg: PushVerification{AllowUnsigned: true}, headers: []string{"garbage"}, want: 401},
		{name: "garbage", headers: []string{"garbage"}, want: 401},
		{name: "two headers", headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline), signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 401},
		{name: "another url", headers: []string{signed("https://www.huawei.com:9330/status", pushCreated, aksk.PushLayoutNewline)}, want: 401},
		{name: "second configured url", cfg: PushVerification{URLs: []string{"https://a.example/status", pushURL}}, headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "default port added", cfg: PushVerification{URLs: []string{"https://hooks.example.com/fee"}}, headers: []string{signed("https://hooks.example.com:443/fee", pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "default port removed", cfg: PushVerification{URLs: []string{"http://hooks.example.com:80/fee"}}, headers: []string{signed("http://hooks.example.com/fee", pushCreated, aksk.PushLayoutConcat)}, want: 200},
		{name: "wrong secret", headers: []string{aksk.SignPush("myAppKey", "other", pushURL, pushNonce, pushCreated, aksk.PushLayoutNewline).HeaderValue()}, want: 401},
		{name: "app key checked", cfg: PushVerification{AppKey: "otherKey"}, headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 401},
		{name: "app key matches", cfg: PushVerification{AppKey: "myAppKey"}, headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "31-byte digest", headers: []string{aksk.Signature{Username: "k", PasswordDigest: base64.StdEncoding.EncodeToString(make([]byte, 31)), Nonce: pushNonce, Created: pushCreated}.HeaderValue()}, want: 401},
		{name: "unpadded digest", headers: []string{strings.Replace(signed(pushURL, pushCreated, aksk.PushLayoutNewline), `=",Nonce`, `",Nonce`, 1)}, want: 401},
		{name: "created with zone", headers: []string{signed(pushURL, "2018-02-12T15:30:20+00:00", aksk.PushLayoutNewline)}, want: 401},
		// Several apps, rotated secrets: the Username chooses the app.
		{name: "second app", cfg: PushVerification{Secrets: map[string][]string{"otherKey": {"otherSecret"}, "myAppKey": {pushSecret}}},
			headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 200},
		{name: "rotated secret", cfg: PushVerification{Secrets: map[string][]string{"myAppKey": {"newSecret", pushSecret}}},
			headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutConcat)}, want: 200},
		{name: "new secret", cfg: PushVerification{Secrets: map[string][]string{"myAppKey": {"newSecret", pushSecret}}},
			headers: []string{aksk.SignPush("myAppKey", "newSecret", pushURL, pushNonce, pushCreated, aksk.PushLayoutNewline).HeaderValue()}, want: 200},
		{name: "another app's secret", cfg: PushVerification{Secrets: map[string][]string{"otherKey": {pushSecret}, "myAppKey": {"mine"}}},
			headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 401},
		{name: "unknown app", cfg: PushVerification{Secrets: map[string][]string{"otherKey": {pushSecret}}},
			headers: []string{signed(pushURL, pushCreated, aksk.PushLayoutNewline)}, want: 401},
	}
	body := readNotification(t, "status_callout_seed.json")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			if cfg.Secrets == nil {
				cfg.AppSecret = pushSecret
			}
			if cfg.URLs == nil {
				cfg.URLs = []string{pushURL}
			}
			calls := 0
			h := newHandler(t, HandlerConfig{Verification: &cfg, OnStatus: func(context.Context, *StatusEvent) error { calls++; return nil }})
			now := tt.now
			if now.IsZero() {
				now = created
			}
			h.now = func() time.Time { return now }
			req := httptest.NewRequest(http.MethodPost, "http://proxy.internal/rewritten", bytes.NewReader(body))
			req.Header.Set("Content-Type", jsonContentType)
			for _, v := range tt.headers {
				req.Header.Add(aksk.Header, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			if tt.want == 401 {
				assert.Zero(t, calls)
				assert.Contains(t, w.Body.String(), "push verification")
			}
		})
	}
}

func TestPushVerificationReplay(t *testing.T) {
	t.Parallel()
	created, _ := time.Parse(aksk.CreatedLayout, pushCreated)
	var logs logSink
	h := newHandler(t, HandlerConfig{Logger: logs.logger(), Verification: &PushVerification{AppSecret: pushSecret, URLs: []string{pushURL}}})
	now := created
	h.now = func() time.Time { return now }
	header := aksk.SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, aksk.PushLayoutNewline).HeaderValue()
	push := func(header string) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readNotification(t, "status_callout_seed.json")))
		req.Header.Set("Content-Type", jsonContentType)
		req.Header.Set(aksk.Header, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	assert.Equal(t, 200, push(header))
	now = now.Add(time.Minute)
	assert.Equal(t, 401, push(header), "replayed inside the window")
	assert.Contains(t, logs.String(), "Nonce was already used")
	other := aksk.SignPush("k", pushSecret, pushURL, "AAAA"+pushNonce[4:], pushCreated, aksk.PushLayoutNewline).HeaderValue()
	assert.Equal(t, 200, push(other), "a fresh nonce passes")
	assert.NotContains(t, logs.String(), pushNonce, "X-AKSK values are never logged")
	assert.NotContains(t, logs.String(), "a8GQi36zPRy")
}

// TestPushReplayCacheRefusesWhenFull: the replay cache keeps every nonce
// of its window; when full it refuses (503) rather than forgets (the
// finding: a nonce was forgotten after 65,536 other pushes and its push
// accepted again).
func TestPushReplayCacheRefusesWhenFull(t *testing.T) {
	t.Parallel()
	created, _ := time.Parse(aksk.CreatedLayout, pushCreated)
	h := newHandler(t, HandlerConfig{Verification: &PushVerification{AppSecret: pushSecret, URLs: []string{pushURL}}})
	now := created
	h.now = func() time.Time { return now }
	const capacity = 8
	h.verifier.replay = expiring.New[DedupKey, struct{}](capacity*int64(expiring.EntryOverhead[DedupKey, struct{}]()), nil, expiring.Refuse)
	stamp := pushCreated
	push := func(nonce string) int {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(readNotification(t, "status_callout_seed.json")))
		req.Header.Set(aksk.Header, aksk.SignPush("k", pushSecret, pushURL, nonce, stamp, aksk.PushLayoutNewline).HeaderValue())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for i := range capacity {
		require.Equal(t, 200, push(fmt.Sprint("nonce", i)))
	}
	assert.Equal(t, http.StatusServiceUnavailable, push("one-too-many"), "full: refused")
	for i := range capacity {
		assert.Equal(t, 401, push(fmt.Sprint("nonce", i)), "every nonce of the window is still remembered")
	}
	now = now.Add(2*DefaultPushTolerance + time.Second)
	// Past the window the old nonces expire and make room.
	stamp = now.UTC().Format(aksk.CreatedLayout)
	assert.Equal(t, 200, push("later"))
}

func TestNewHandlerVerificationErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  PushVerification
		want string
	}{
		{PushVerification{URLs: []string{pushURL}}, "AppSecret: missing"},
		{PushVerification{AppSecret: "s"}, "URLs: missing"},
		{PushVerification{AppSecret: "s", URLs: []string{"/fee"}}, "URLs[0]: must be an absolute http or https URL"},
		{PushVerification{AppSecret: "s", URLs: []string{pushURL, "ftp://x/y"}}, "URLs[1]"},
		{PushVerification{AppSecret: "s", URLs: []string{pushURL}, Tolerance: -1}, "Tolerance"},
		{PushVerification{AppKey: "k", URLs: []string{pushURL}}, "AppSecret: missing"},
		{PushVerification{AppSecret: "s", Secrets: map[string][]string{"k": {"s"}}, URLs: []string{pushURL}}, "Secrets: set AppSecret or Secrets, not both"},
		{PushVerification{Secrets: map[string][]string{"": {"s"}}, URLs: []string{pushURL}}, "Secrets: empty app key"},
		{PushVerification{Secrets: map[string][]string{"k": nil}, URLs: []string{pushURL}}, `Secrets["k"]: no secret`},
		{PushVerification{Secrets: map[string][]string{"k": {""}}, URLs: []string{pushURL}}, `Secrets["k"]: empty secret`},
	} {
		_, err := NewHandler(HandlerConfig{Verification: &c.cfg})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "voicecall: new handler: invalid Verification."+c.want)
		assert.NotContains(t, err.Error(), "s\"")
	}
	vs, err := urlVariants("https://[::1]/fee")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://[::1]/fee", "https://[::1]:443/fee"}, vs)
	vs, err = urlVariants("https://[::1]:443/fee")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://[::1]:443/fee", "https://[::1]/fee"}, vs)
	vs, err = urlVariants("https://h:8443/fee?a=1")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://h:8443/fee?a=1"}, vs)
}

// FuzzVerifyPush: verification never accepts a header unless its digest
// is the HMAC of a configured URL variant in a documented layout, as an
// independent oracle computes it, and Created is inside the window.
func FuzzVerifyPush(f *testing.F) {
	f.Add("", pushNonce, pushCreated, "", true, false)
	f.Add("", pushNonce, pushCreated, "", true, true)
	f.Add("", pushNonce, "2018-02-12T15:36:20Z", "", true, false)
	f.Add("", "n", pushCreated, "a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=", false, false)
	f.Add(`UsernameToken Username="k",PasswordDigest="a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=",Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"`, "", "", "", false, false)
	f.Add(`UsernameToken Username="k", PasswordDigest="RTbVvFrV4Ou9k4XJOkUnTdp43hklwbbcONn4Jbpz5FY=", Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F", Created="2018-02-12T15:30:20Z"`, "", "", "", false, false)
	f.Add("", pushNonce, pushCreated, "AAAA", false, false)
	now, _ := time.Parse(aksk.CreatedLayout, pushCreated)
	urls := []string{pushURL, "https://www.huawei.com:9330/status"}
	// The oracle's accepted messages: every URL variant, both layouts.
	oracle := func(nonce, created string, mac []byte) bool {
		for _, u := range []string{pushURL, "https://www.huawei.com:9330/status"} {
			for _, msg := range []string{u + nonce + created, u + "\n" + nonce + "\n" + created} {
				m := hmac.New(sha256.New, []byte(pushSecret))
				m.Write([]byte(msg))
				if bytes.Equal(m.Sum(nil), mac) {
					return true
				}
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, raw, nonce, created, digest string, sign, concat bool) {
		header := raw
		if header == "" {
			if sign {
				layout := aksk.PushLayoutNewline
				if concat {
					layout = aksk.PushLayoutConcat
				}
				digest = aksk.SignPush("k", pushSecret, pushURL, nonce, created, layout).PasswordDigest
			}
			header = aksk.Signature{Username: "k", PasswordDigest: digest, Nonce: nonce, Created: created}.HeaderValue()
		}
		v, err := newPushVerifier(&PushVerification{AppSecret: pushSecret, URLs: urls})
		if err != nil {
			t.Fatal(err)
		}
		if v.verify([]string{header}, now) != nil {
			return
		}
		tok, err := aksk.Parse(header)
		if err != nil {
			t.Fatalf("accepted an unparsable header %q", header)
		}
		mac, err := base64.StdEncoding.DecodeString(tok.PasswordDigest)
		if err != nil || !oracle(tok.Nonce, tok.Created, mac) {
			t.Fatalf("accepted a header whose digest the oracle rejects: %q", header)
		}
		c, err := time.Parse(aksk.CreatedLayout, tok.Created)
		if err != nil || c.Sub(now) > DefaultPushTolerance || now.Sub(c) > DefaultPushTolerance {
			t.Fatalf("accepted a stale Created: %q", header)
		}
		if v.verify([]string{header}, now) == nil {
			t.Fatalf("accepted a replay of %q", header)
		}
	})
}
