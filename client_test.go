package voicecall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"https://rtccall.cn-north-1.myhuaweicloud.cn:443", "https://rtccall.cn-north-1.myhuaweicloud.cn:443"},
		{"https://rtccall.myhuaweicloud.cn/", "https://rtccall.myhuaweicloud.cn"},
		{"https://example.com/sandbox/", "https://example.com/sandbox"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.9.9.9:1", "http://127.9.9.9:1"},
		{"http://[::1]:8080/p", "http://[::1]:8080/p"},
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

func TestDefaultTransport(t *testing.T) {
	t.Parallel()
	c, err := NewClient("https://example.com", "k", "s")
	require.NoError(t, err)
	tr, ok := c.hc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.True(t, tr.DisableKeepAlives, "short connections by default")
	assert.False(t, tr.TLSClientConfig.InsecureSkipVerify)
	assert.NotNil(t, tr.TLSClientConfig.ClientSessionCache, "TLS resumption")
	assert.Nil(t, tr.Proxy, "the library never reads the environment")
	assert.Equal(t, DefaultTLSHandshakeTimeout, tr.TLSHandshakeTimeout)
	assert.Equal(t, DefaultResponseHeaderTimeout, tr.ResponseHeaderTimeout)
	assert.NotNil(t, tr.DialContext)

	pooled, err := NewClient("https://example.com", "k", "s", WithConnectionReuse())
	require.NoError(t, err)
	assert.False(t, pooled.hc.Transport.(*http.Transport).DisableKeepAlives)
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

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var other atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.Add(1)
	}))
	t.Cleanup(elsewhere.Close)
	for _, code := range []int{301, 302, 307, 308} {
		srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
			fmt.Fprintf(conn, "HTTP/1.1 %d Moved\r\nLocation: %s/steal\r\nContent-Length: 0\r\n\r\n", code, elsewhere.URL)
		})
		c, err := NewClient(srv.URL(), "k", "s")
		require.NoError(t, err)
		_, err = c.CallVerify(context.Background(), validRequest())
		var reqErr *RequestError
		require.ErrorAs(t, err, &reqErr)
		assert.Equal(t, code, reqErr.HTTPStatus)
		assert.Equal(t, OutcomeRejected, OutcomeOf(err))
		assert.Contains(t, err.Error(), "redirect not followed")
		assert.Equal(t, int64(1), srv.received.Load())
	}
	assert.Zero(t, other.Load(), "X-AKSK never reaches another host")
}

func TestClassify(t *testing.T) {
	t.Parallel()
	const js = "application/json;charset=UTF-8"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		outcome     Outcome
		code        ResultCode // for APIError (possibly wrapped)
		contains    string
	}{
		{"success", 200, js, okAnswer, OutcomeAccepted, "", ""},
		{"success without content type", 200, "", okAnswer, OutcomeAccepted, "", ""},
		{"success with idle port", 200, js, `{"resultcode":"0","resultdesc":"Success","sessionId":"s","idlePort":0}`, OutcomeAccepted, "", ""},
		{"code on 200", 200, js, `{"resultcode":"1010002","resultdesc":"Invalid request. calleeNbr"}`, OutcomeRejected, CodeInvalidRequest, "Invalid request. calleeNbr"},
		{"code on 403", 403, js, `{"resultcode":"1010002","resultdesc":"Invalid request."}`, OutcomeRejected, CodeInvalidRequest, "http 403"},
		{"code on 400", 400, js, `{"resultcode":"1023006","resultdesc":"x"}`, OutcomeRejected, CodeAuthFailed, ""},
		{"unknown code", 200, js, `{"resultcode":"1099999","resultdesc":"new"}`, OutcomeRejected, "1099999", "1099999 (new)"},
		{"invalid rest api", 404, js, `{"resultcode":"1010006","resultdesc":"Invalid Rest API."}`, OutcomeRejected, CodeInvalidRestAPI, ""},
		{"code on 500", 500, js, `{"resultcode":"1010001","resultdesc":"Internal system error."}`, OutcomeUnknown, CodeSystemError, "outcome unknown"},
		{"502 html", 502, "text/html", "<html><body>502 Bad Gateway</body></html>", OutcomeUnknown, "", "http 502 text/html"},
		{"503 empty", 503, "", "", OutcomeUnknown, "", "http 503"},
		{"200 html", 200, "text/html; charset=utf-8", "<html>portal</html>", OutcomeUnknown, "", "HTML page"},
		{"200 html looking like json", 200, "text/html", okAnswer, OutcomeUnknown, "", "HTML page"},
		{"200 empty object", 200, js, `{}`, OutcomeUnknown, "", "no resultcode"},
		{"200 empty body", 200, js, ``, OutcomeUnknown, "", "not a platform answer"},
		{"truncated", 200, js, `{"resultcode":"0","resultdesc":"Succ`, OutcomeUnknown, "", "not a platform answer"},
		{"trailing garbage", 200, js, okAnswer + `{}`, OutcomeUnknown, "", "not a platform answer"},
		{"numeric resultcode", 200, js, `{"resultcode":0,"sessionId":"s"}`, OutcomeUnknown, "", "not a platform answer"},
		{"success without session", 200, js, `{"resultcode":"0","resultdesc":"Success"}`, OutcomeUnknown, "", "no sessionId"},
		{"success with empty session", 200, js, `{"resultcode":"0","resultdesc":"Success","sessionId":""}`, OutcomeUnknown, "", "no sessionId"},
		{"success on 202", 202, js, okAnswer, OutcomeAccepted, "", ""},
		{"success on 400", 400, js, okAnswer, OutcomeUnknown, "", "resultcode 0 with http status 400"},
		{"array", 200, js, `[]`, OutcomeUnknown, "", "not a platform answer"},
		{"control chars in desc", 200, js, `{"resultcode":"1010002","resultdesc":"bad\r\nINFO forged line"}`, OutcomeRejected, CodeInvalidRequest, "bad  INFO forged line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ans, err := classify("CallVerify", tt.status, tt.contentType, []byte(tt.body), "tok")
			assert.Equal(t, tt.outcome, OutcomeOf(err), "error: %v", err)
			if tt.outcome == OutcomeAccepted {
				require.NoError(t, err)
				assert.NotEmpty(t, ans.SessionID)
				return
			}
			assert.Equal(t, "tok", UserDataOf(err))
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "\r")
			if tt.contains != "" {
				assert.Contains(t, err.Error(), tt.contains)
			}
			var apiErr *APIError
			if tt.code != "" {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.code, apiErr.Code)
			} else {
				assert.False(t, errors.As(err, &apiErr))
			}
			if tt.outcome == OutcomeUnknown {
				assert.ErrorIs(t, err, ErrOutcomeUnknown)
				assert.Contains(t, err.Error(), "outcome unknown, the call may have been placed")
			}
		})
	}
}

func TestResultCodePredicates(t *testing.T) {
	t.Parallel()
	type preds struct{ auth, skew, throttled, param, account bool }
	tests := map[ResultCode]preds{
		CodeAuthFailed:             {auth: true},
		CodeTypeInvalid:            {auth: true},
		CodeCreatedMissing:         {auth: true},
		CodeInvalidAppKey:          {auth: true},
		CodeIPBlocked:              {auth: true},
		CodeTimeOutLimit:           {skew: true},
		CodeFlowControl:            {throttled: true},
		CodePortLimit:              {throttled: true},
		CodeSPCallLimit:            {throttled: true},
		CodeDisplayNumberCallLimit: {throttled: true},
		CodeInvalidRequest:         {param: true},
		CodeInvalidDisplayNumber:   {param: true},
		CodeUserNotActive:          {account: true},
		CodeAppKeySuspended:        {account: true},
		CodeSystemError:            {},
		CodeCallTimeForbidden:      {},
		"42":                       {},
	}
	for code, want := range tests {
		e := &APIError{Code: code}
		got := preds{e.IsAuthFailure(), e.IsClockSkew(), e.IsThrottled(), e.IsInvalidParameter(), e.IsAccountState()}
		assert.Equal(t, want, got, "code %s", code)
	}
	assert.Equal(t, "1010010 (The flow control upper limit is reached on the platform.)", CodeFlowControl.String())
	assert.Equal(t, "42", ResultCode("42").String())
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "accepted", OutcomeAccepted.String())
	assert.Equal(t, "rejected", OutcomeRejected.String())
	assert.Equal(t, "unknown", OutcomeUnknown.String())
	assert.Equal(t, "Outcome(7)", Outcome(7).String())
	assert.Equal(t, OutcomeRejected, OutcomeOf(errBoom))
	assert.Equal(t, OutcomeUnknown, OutcomeOf(fmt.Errorf("wrapped: %w", &RequestError{Outcome: OutcomeUnknown})))
}

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
