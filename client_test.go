package voicecall

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

func TestNewClientBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"https://rtccall.cn-north-1.myhuaweicloud.cn:443", "https://rtccall.cn-north-1.myhuaweicloud.cn:443"},
		{"https://rtccall.myhuaweicloud.cn/", "https://rtccall.myhuaweicloud.cn"},
		{"https://example.com/sandbox/", ""},
		{"https://example.com/rest/httpsessions/callVerify/v1.0", ""},
		{"https://example.com?", ""},
		{"https://example.com#f", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.9.9.9:1", "http://127.9.9.9:1"},
		{"http://[::1]:8080/", "http://[::1]:8080"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://LOCALHOST", "http://LOCALHOST"},
		{"http://rtccall.myhuaweicloud.cn", ""},
		{"http://10.0.0.1", ""},
		{"http://[::ffff:10.0.0.1]", ""},
		{"ftp://example.com", ""},
		{"rtccall.myhuaweicloud.cn", ""},
		{"/rest", ""},
		{"https://", ""},
		{"https://user:pass@example.com", ""},
		{"https://example.com/?a=b", ""},
		{"", ""},
		{"://bad", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.in, "k", "s")
			if tt.want == "" {
				var verr *ValidationError
				require.ErrorAs(t, err, &verr)
				assert.True(t, verr.Has("baseURL"), err.Error())
				assert.NotContains(t, err.Error(), "pass", "never echo credentials")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.baseURL)
		})
	}
}

func TestNewClientCredentials(t *testing.T) {
	t.Parallel()
	_, err := NewClient("https://example.com", "", "")
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("appKey"))
	assert.True(t, verr.Has("appSecret"))
	_, err = NewClient("https://example.com", " ", "\t")
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("appKey"), "a blank app key")
	assert.True(t, verr.Has("appSecret"), "a blank app secret")
	_, err = NewClient("https://example.com", `a"b`, "s")
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("appKey"))
	for _, o := range []Option{WithHTTPClient(nil), WithTLSConfig(nil), WithCreatedLocation(nil)} {
		_, err = NewClient("https://example.com", "k", "s", o)
		assert.ErrorContains(t, err, "voicecall: NewClient: ")
	}
}

func TestClientPrintingHidesSecret(t *testing.T) {
	t.Parallel()
	const secret = "S3cr3t-value-never-shown"
	c, err := NewClient("https://example.com", "key123", secret)
	require.NoError(t, err)
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("client", "c", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("client", "c", c)
	outs := []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%+v %#v", *c, *c), text.String(), js.String()}
	for _, out := range outs {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, text.String(), "key123")
}

func TestWithHTTPClientIsCopied(t *testing.T) {
	t.Parallel()
	var used atomic.Int64
	mine := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c, err := NewClient(srv.URL(), "k", "s", WithHTTPClient(mine))
	require.NoError(t, err)
	_, err = c.CallVerify(context.Background(), validRequest())
	require.NoError(t, err)
	assert.Equal(t, int64(1), used.Load(), "the caller's transport is used")
	assert.Nil(t, mine.CheckRedirect, "the caller's client is not modified")
	assert.NotSame(t, mine, c.hc)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTimeoutOption(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { <-release })
	t.Cleanup(func() { close(release) })
	c, err := NewClient(srv.URL(), "k", "s", WithTimeout(100*time.Millisecond))
	require.NoError(t, err)
	start := time.Now()
	_, err = c.CallVerify(context.Background(), validRequest())
	elapsed := time.Since(start)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 100*time.Millisecond+deadlineSlack, "deadline honoured")
	assert.True(t, strings.Contains(err.Error(), "order-42"), "the correlation token is in the message")
}

func TestSignerMatchesSign(t *testing.T) {
	t.Parallel()
	c, err := NewClient("https://example.com", "myAppKey", "myAppSecret")
	require.NoError(t, err)
	for range 20 {
		hv, _ := c.signer.Sign(signTime)
		tok, err := aksk.Parse(hv)
		require.NoError(t, err)
		assert.Equal(t, hv, tok.HeaderValue(), "the signer's layout is the documented one")
		want := aksk.Sign("myAppKey", "myAppSecret", tok.Nonce, tok.Created)
		assert.Equal(t, want.PasswordDigest, tok.PasswordDigest)
		assert.Len(t, tok.Nonce, 32)
		assert.True(t, aksk.ValidNonce(tok.Nonce))
	}
}

func TestSignerCreatedFollowsTheClock(t *testing.T) {
	t.Parallel()
	clients := map[*time.Location]*Client{}
	for _, loc := range []*time.Location{time.UTC, BeijingTime()} {
		c, err := NewClient("https://example.com", "k", "s", WithCreatedLocation(loc))
		require.NoError(t, err)
		clients[loc] = c
	}
	for i, tc := range []struct {
		now  time.Time
		loc  *time.Location
		want string
	}{
		{signTime, time.UTC, "2018-02-12T15:30:20Z"},
		{signTime.Add(999 * time.Millisecond), time.UTC, "2018-02-12T15:30:20Z"},
		{signTime.Add(time.Second), time.UTC, "2018-02-12T15:30:21Z"},
		{signTime.Add(time.Second), BeijingTime(), "2018-02-12T23:30:21Z"},
		{signTime, time.UTC, "2018-02-12T15:30:20Z"},
	} {
		hv, _ := clients[tc.loc].signer.Sign(tc.now)
		tok, err := aksk.Parse(hv)
		require.NoError(t, err)
		assert.Equal(t, tc.want, tok.Created, "step %d", i)
		assert.Equal(t, aksk.Sign("k", "s", tok.Nonce, tc.want).PasswordDigest, tok.PasswordDigest)
	}
}

// Options that cannot apply make NewClient fail; none is silently
// dropped.
func TestOptionsThatCannotApply(t *testing.T) {
	t.Parallel()
	tests := map[string][]Option{
		"tls config with http client": {WithHTTPClient(&http.Client{}), WithTLSConfig(&tls.Config{})},
		"nil option":                  {nil},
		"negative timeout":            {WithTimeout(-time.Second)},
		"empty user agent":            {WithUserAgent("")},
		"user agent with newline":     {WithUserAgent("a\r\nX-Evil: 1")},
		"nil logger":                  {WithLogger(nil)},
		"negative retry":              {WithRetry(RetryPolicy{MaxAttempts: -1})},
	}
	for name, opts := range tests {
		_, err := NewClient("https://example.com", "k", "s", opts...)
		assert.ErrorContains(t, err, "voicecall: NewClient: ", name)
		var verr *ValidationError
		assert.ErrorAs(t, err, &verr, "%s: every option's error is a *ValidationError", name)
	}
	_, err := NewClient("https://example.com", "k", "s", WithHTTPClient(&http.Client{}), WithTLSConfig(&tls.Config{}))
	assert.ErrorContains(t, err, "WithTLSConfig: cannot apply")
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, verr.Has("WithTLSConfig"), "the error names the option")
	_, err = NewClient("https://example.com", "k", "s", WithTimeout(-1))
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []string{"WithTimeout"}, invalidFields(t, err, "NewClient"))
	c, err := NewClient("https://example.com", "k", "s", WithTLSConfig(&tls.Config{ServerName: "x"}))
	require.NoError(t, err)
	assert.Equal(t, "x", c.hc.Transport.(*http.Transport).TLSClientConfig.ServerName, "WithTLSConfig reaches the default transport")
}
