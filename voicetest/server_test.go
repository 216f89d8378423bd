package voicetest_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

var sessionIDPattern = regexp.MustCompile(`^1200_\d+_0_\d{14}@callenabler245\.huaweicaas\.com$`)

func TestSDKHappyPath(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	client, err := srv.NewClient()
	require.NoError(t, err)

	resp, err := client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber:  "+8675528000088",
		CalleeNumber:   "+8613500000001",
		LanguageType:   voicecall.LanguageChinese,
		PreTone:        "pretone.wav",
		VerifyCode:     "123456",
		ReturnIdlePort: true,
		UserData:       "order-42",
	})
	require.NoError(t, err)
	assert.Regexp(t, sessionIDPattern, resp.SessionID)
	require.NotNil(t, resp.IdlePort)
	assert.Equal(t, voicetest.DefaultPorts-1, *resp.IdlePort)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, voicecall.CodeSuccess, r.ResultCode)
	assert.Equal(t, http.StatusOK, r.HTTPStatus)
	assert.Equal(t, resp.SessionID, r.SessionID)
	assert.Equal(t, voicetest.DefaultAppKey, r.AppKey)
	assert.Equal(t, "+8613500000001", r.Body.CalleeNbr)
	assert.Equal(t, "true", r.Body.ReturnIdlePort)
	assert.Equal(t, voicetest.DefaultAppKey, r.Signature.Username)
	assert.NotEmpty(t, r.Header.Get(aksk.Header), "kept for assertions")
	assert.NotContains(t, r.String(), r.Signature.PasswordDigest)
	assert.NotContains(t, r.String(), "123456")
	assert.NotContains(t, r.String(), "+8613500000001")

	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, resp.SessionID, calls[0].SessionID)
	assert.Equal(t, "123456", calls[0].VerifyCode)
	assert.Equal(t, "order-42", calls[0].UserData)
	assert.Equal(t, voicetest.ScenarioAnswered, calls[0].Scenario)

	ended, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == resp.SessionID && c.Ended })
	require.NoError(t, err)
	assert.Equal(t, voicecall.StateHangUpAfterAnswer, ended.StateCode)
	assert.Equal(t, 20*time.Second, ended.End.Sub(ended.Start))
	assert.Empty(t, srv.Deliveries(), "no URL anywhere: nothing is pushed")
}

func TestSDKWrongSecret(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	client, err := voicecall.NewClient(srv.URL, voicetest.DefaultAppKey, "not-the-secret")
	require.NoError(t, err)
	_, err = client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: 2, PreTone: "pretone.wav", VerifyCode: "1234",
	})
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, voicecall.CodeAuthFailed, apiErr.Code)
	assert.Equal(t, http.StatusBadRequest, apiErr.HTTPStatus)
	assert.Equal(t, voicecall.OutcomeRejected, voicecall.OutcomeOf(err))
	assert.Empty(t, srv.Calls())
	assert.Contains(t, srv.Requests()[0].Reason, "PasswordDigest does not match")
}

// TestAuth covers every authentication answer with hand-made requests.
func TestAuth(t *testing.T) {
	t.Parallel()
	now := time.Now()
	sign := func(key, secret, nonce string, created time.Time, loc *time.Location) string {
		return aksk.Sign(key, secret, nonce, aksk.FormatCreated(created, loc)).HeaderValue()
	}
	tests := []struct {
		name   string
		opts   []voicetest.Option
		mutate func(r *http.Request)
		code   voicecall.ResultCode
		status int
	}{
		{"valid", nil, func(*http.Request) {}, voicecall.CodeSuccess, 200},
		{"content type without charset", nil, func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, voicecall.CodeSuccess, 200},
		{"content type missing", nil, func(r *http.Request) { r.Header.Del("Content-Type") }, voicecall.CodeInvalidRequest, 403},
		{"content type form", nil, func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, voicecall.CodeInvalidRequest, 403},
		{"content type latin1", nil, func(r *http.Request) { r.Header.Set("Content-Type", "application/json;charset=ISO-8859-1") }, voicecall.CodeInvalidRequest, 403},
		{"authorization missing", nil, func(r *http.Request) { r.Header.Del("Authorization") }, voicecall.CodeAuthFailed, 400},
		{"authorization WSSE", nil, func(r *http.Request) {
			r.Header.Set("Authorization", `WSSE realm="SDP",profile="UsernameToken",type="Appkey"`)
		}, voicecall.CodeAuthFailed, 400},
		{"authorization with spaces", nil, func(r *http.Request) {
			r.Header.Set("Authorization", `AKSK realm="SDP", profile="UsernameToken", type="Appkey"`)
		}, voicecall.CodeSuccess, 200},
		{"realm missing", nil, func(r *http.Request) { r.Header.Set("Authorization", `AKSK profile="UsernameToken",type="Appkey"`) }, voicecall.CodeRealmMissing, 400},
		{"profile missing", nil, func(r *http.Request) { r.Header.Set("Authorization", `AKSK realm="SDP",type="Appkey"`) }, voicecall.CodeProfileMissing, 400},
		{"type missing", nil, func(r *http.Request) { r.Header.Set("Authorization", `AKSK realm="SDP",profile="UsernameToken"`) }, voicecall.CodeTypeMissing, 400},
		{"realm wrong", nil, func(r *http.Request) {
			r.Header.Set("Authorization", `AKSK realm="sdp",profile="UsernameToken",type="Appkey"`)
		}, voicecall.CodeRealmInvalid, 400},
		{"profile wrong", nil, func(r *http.Request) {
			r.Header.Set("Authorization", `AKSK realm="SDP",profile="Token",type="Appkey"`)
		}, voicecall.CodeProfileInvalid, 400},
		{"type wrong", nil, func(r *http.Request) {
			r.Header.Set("Authorization", `AKSK realm="SDP",profile="UsernameToken",type="app_key"`)
		}, voicecall.CodeTypeInvalid, 400},
		{"x-aksk missing", nil, func(r *http.Request) { r.Header.Del(aksk.Header) }, voicecall.CodeXAKSKMissing, 400},
		{"x-aksk garbage", nil, func(r *http.Request) { r.Header.Set(aksk.Header, "garbage") }, voicecall.CodeAuthFailed, 400},
		{"username missing", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, `UsernameToken PasswordDigest="x",Nonce="abc",Created="2018-02-12T15:30:20Z"`)
		}, voicecall.CodeUsernameMissing, 400},
		{"nonce missing", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, `UsernameToken Username="k",PasswordDigest="x",Created="2018-02-12T15:30:20Z"`)
		}, voicecall.CodeNonceMissing, 400},
		{"created missing", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, `UsernameToken Username="k",PasswordDigest="x",Nonce="abc"`)
		}, voicecall.CodeCreatedMissing, 400},
		{"digest missing", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, `UsernameToken Username="k",Nonce="abc",Created="2018-02-12T15:30:20Z"`)
		}, voicecall.CodeAuthFailed, 400},
		{"unknown app key", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign("someOtherKey", voicetest.DefaultAppSecret, "abc123", now, nil))
		}, voicecall.CodeInvalidAppKey, 400},
		{"created stale", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now.Add(-time.Hour), nil))
		}, voicecall.CodeTimeOutLimit, 400},
		{"created future", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now.Add(10*time.Minute), nil))
		}, voicecall.CodeTimeOutLimit, 400},
		{"created bad layout", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now.UTC().Format(time.RFC3339Nano)).HeaderValue())
		}, voicecall.CodeTimeOutLimit, 400},
		{"created in Beijing time", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now, voicecall.BeijingTime()))
		}, voicecall.CodeSuccess, 200},
		{"created in Beijing time, strict UTC", []voicetest.Option{voicetest.WithCreatedLocations(time.UTC)}, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now, voicecall.BeijingTime()))
		}, voicecall.CodeTimeOutLimit, 400},
		{"skew inside a wider window", []voicetest.Option{voicetest.WithClockSkew(2 * time.Hour)}, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", now.Add(-time.Hour), nil))
		}, voicecall.CodeSuccess, 200},
		{"nonce with a dash", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc-123", now, nil))
		}, voicecall.CodeAuthFailed, 400},
		{"nonce too long", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, strings.Repeat("a", 129), now, nil))
		}, voicecall.CodeAuthFailed, 400},
		{"wrong secret", nil, func(r *http.Request) {
			r.Header.Set(aksk.Header, sign(voicetest.DefaultAppKey, "wrong", "abc123", now, nil))
		}, voicecall.CodeAuthFailed, 400},
		{"digest not base64", nil, func(r *http.Request) {
			tok := aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", aksk.FormatCreated(now, nil))
			tok.PasswordDigest = "!!!"
			r.Header.Set(aksk.Header, tok.HeaderValue())
		}, voicecall.CodeAuthFailed, 400},
		{"digest of the WSSE scheme", nil, func(r *http.Request) {
			tok := aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", aksk.FormatCreated(now, nil))
			tok.PasswordDigest = b64("086914d36ab9403816c5d9f681c2975a544148b785100e64d2e0f4c9e3b05b89")
			r.Header.Set(aksk.Header, tok.HeaderValue())
		}, voicecall.CodeAuthFailed, 400},
		{"x-aksk with spaces after commas", nil, func(r *http.Request) {
			tok := aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, "abc123", aksk.FormatCreated(now, nil))
			r.Header.Set(aksk.Header, strings.ReplaceAll(tok.HeaderValue(), `",`, `", `))
		}, voicecall.CodeSuccess, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := voicetest.Start(t, tt.opts...)
			req := rawRequest(t, srv, validBody())
			tt.mutate(req)
			a := send(t, req)
			assert.Equal(t, string(tt.code), a.ResultCode, "resultdesc %q reason %q", a.ResultDesc, srv.Requests()[0].Reason)
			assert.Equal(t, tt.status, a.Status)
			assert.Equal(t, jsonContentType, a.ContentType)
			if tt.code == voicecall.CodeSuccess {
				assert.Equal(t, "Success", a.ResultDesc)
				assert.Regexp(t, sessionIDPattern, a.SessionID)
				assert.Len(t, srv.Calls(), 1)
			} else {
				assert.Empty(t, a.SessionID)
				assert.Empty(t, srv.Calls())
				assert.NotEmpty(t, srv.Requests()[0].Reason)
			}
		})
	}
}

func TestNonceReplay(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	req := rawRequest(t, srv, validBody())
	first := send(t, req)
	require.Equal(t, "0", first.ResultCode)

	again := rawRequest(t, srv, validBody())
	again.Header = req.Header.Clone()
	a := send(t, again)
	assert.Equal(t, string(voicecall.CodeAuthFailed), a.ResultCode)
	assert.Contains(t, srv.Requests()[1].Reason, "replay")
	assert.Len(t, srv.Calls(), 1)
}

func TestSecondApp(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t,
		voicetest.WithApp(voicetest.App{Key: "appOne", Secret: "secretOne"}),
		voicetest.WithApp(voicetest.App{Key: "appTwo", Secret: "secretTwo"}))
	two, err := voicecall.NewClient(srv.URL, "appTwo", "secretTwo")
	require.NoError(t, err)
	_, err = two.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "12",
	})
	require.NoError(t, err)
	assert.Equal(t, "appTwo", srv.Calls()[0].AppKey)

	def, err := voicecall.NewClient(srv.URL, voicetest.DefaultAppKey, voicetest.DefaultAppSecret)
	require.NoError(t, err)
	_, err = def.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "12",
	})
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, voicecall.CodeInvalidAppKey, apiErr.Code, "the default app is replaced by WithApp")
}

func TestBodyValidation(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		set   map[string]any // nil value deletes the field
		field string         // "" for accepted
	}{
		{"valid", nil, ""},
		{"all optional fields", map[string]any{"posTone": "post.wav", "times": 0, "statusUrl": b64("https://example.com/status"),
			"feeUrl": b64("http://127.0.0.1:9/fee?x=1"), "returnIdlePort": "false", "userData": "abc-123_=+/", "bindNbr": "+8675512345678"}, ""},
		{"null optional field", map[string]any{"posTone": nil}, ""},
		{"empty optional strings", map[string]any{"posTone": "", "statusUrl": "", "userData": ""}, ""},
		{"displayNbr missing", map[string]any{"displayNbr": nil}, "displayNbr"},
		{"displayNbr without plus", map[string]any{"displayNbr": "8675528000088"}, "displayNbr"},
		{"displayNbr too short", map[string]any{"displayNbr": "+86"}, "displayNbr"},
		{"displayNbr number", map[string]any{"displayNbr": 8675528000088}, "displayNbr"},
		{"calleeNbr missing", map[string]any{"calleeNbr": nil}, "calleeNbr"},
		{"calleeNbr too long", map[string]any{"calleeNbr": "+" + strings.Repeat("1", 31)}, "calleeNbr"},
		{"calleeNbr with dash", map[string]any{"calleeNbr": "+86-135000001"}, "calleeNbr"},
		{"calleeNbr longest", map[string]any{"calleeNbr": "+" + strings.Repeat("1", 30)}, ""},
		{"languageType missing", map[string]any{"languageType": nil}, "languageType"},
		{"languageType string", map[string]any{"languageType": "2"}, "languageType"},
		{"languageType zero", map[string]any{"languageType": 0}, "languageType"},
		{"languageType fraction", map[string]any{"languageType": 2.5}, "languageType"},
		{"preTone missing", map[string]any{"preTone": nil}, "preTone"},
		{"preTone empty", map[string]any{"preTone": ""}, "preTone"},
		{"preTone 128", map[string]any{"preTone": long(128)}, ""},
		{"preTone 129", map[string]any{"preTone": long(129)}, "preTone"},
		{"verifyCode missing", map[string]any{"verifyCode": nil}, "verifyCode"},
		{"verifyCode letters", map[string]any{"verifyCode": "12a4"}, "verifyCode"},
		{"verifyCode nine digits", map[string]any{"verifyCode": "123456789"}, "verifyCode"},
		{"verifyCode number", map[string]any{"verifyCode": 1234}, "verifyCode"},
		{"verifyCode one digit", map[string]any{"verifyCode": "7"}, ""},
		{"posTone 129", map[string]any{"posTone": long(129)}, "posTone"},
		{"times 10", map[string]any{"times": 10}, "times"},
		{"times negative", map[string]any{"times": -1}, "times"},
		{"times string", map[string]any{"times": "3"}, "times"},
		{"statusUrl raw", map[string]any{"statusUrl": "https://example.com/status"}, "statusUrl"},
		{"statusUrl url-safe alphabet", map[string]any{"statusUrl": "aHR0cHM6Ly9leGFtcGxlLmNvbS8_YT1-fn5-"}, "statusUrl"},
		{"statusUrl unpadded", map[string]any{"statusUrl": strings.TrimRight(b64("https://example.com/st"), "=")}, "statusUrl"},
		{"statusUrl relative", map[string]any{"statusUrl": b64("/status")}, "statusUrl"},
		{"statusUrl ftp", map[string]any{"statusUrl": b64("ftp://example.com/status")}, "statusUrl"},
		{"statusUrl 129 encoded", map[string]any{"statusUrl": b64("https://example.com/" + long(77))}, "statusUrl"},
		{"statusUrl 128 encoded", map[string]any{"statusUrl": b64("https://example.com/" + long(76))}, ""},
		{"feeUrl raw", map[string]any{"feeUrl": "http://example.com/fee"}, "feeUrl"},
		{"returnIdlePort boolean", map[string]any{"returnIdlePort": true}, "returnIdlePort"},
		{"returnIdlePort yes", map[string]any{"returnIdlePort": "yes"}, "returnIdlePort"},
		{"userData braces", map[string]any{"userData": "{x}"}, "userData"},
		{"userData Chinese", map[string]any{"userData": "订单"}, "userData"},
		{"userData 256", map[string]any{"userData": long(256)}, ""},
		{"userData 257", map[string]any{"userData": long(257)}, "userData"},
		{"bindNbr malformed", map[string]any{"bindNbr": "12"}, "bindNbr"},
		{"unknown field ignored", map[string]any{"somethingNew": "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := voicetest.Start(t)
			body := validBody()
			for k, v := range tt.set {
				if v == nil && k != "posTone" {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			a := send(t, rawRequest(t, srv, body))
			if tt.field == "" {
				assert.Equal(t, "0", a.ResultCode, a.ResultDesc)
				return
			}
			assert.Equal(t, string(voicecall.CodeInvalidRequest), a.ResultCode)
			assert.Equal(t, http.StatusForbidden, a.Status)
			assert.True(t, strings.HasPrefix(a.ResultDesc, "Invalid request. "+tt.field+": "), "resultdesc %q", a.ResultDesc)
			assert.Empty(t, srv.Calls())
		})
	}
}

func TestBodyNotJSON(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	for _, body := range []string{"", "[]", "{", `"x"`, "displayNbr=+86"} {
		a := send(t, rawRequest(t, srv, []byte(body)))
		assert.Equal(t, string(voicecall.CodeInvalidRequest), a.ResultCode, "body %q", body)
		assert.Equal(t, "Invalid request. body: must be a JSON object", a.ResultDesc)
	}
}

func TestUnknownAPI(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/rest/httpsessions/click2Call/v1.0"}, // click2Call is v2.0 only
		{http.MethodPost, "/sandbox/rest/httpsessions/callVerify/v1.0"},
		{http.MethodGet, voicetest.CallVerifyPath},
		{http.MethodPost, "/"},
		{http.MethodGet, voicetest.CallStopPath},
		{http.MethodPost, voicetest.RecordingPath},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		require.NoError(t, err)
		a := send(t, req)
		assert.Equal(t, http.StatusNotFound, a.Status, tc.path)
		assert.Equal(t, "1010006", a.ResultCode)
		assert.Equal(t, "Invalid Rest API.", a.ResultDesc)
	}
	assert.Len(t, srv.Requests(), 6)
}

func TestPortLimit(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t, voicetest.WithPorts(1), voicetest.WithTimeScale(1))
	client, err := srv.NewClient()
	require.NoError(t, err)
	req := &voicecall.CallVerifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234", ReturnIdlePort: true}
	resp, err := client.CallVerify(testCtx(t), req)
	require.NoError(t, err)
	assert.Equal(t, 0, *resp.IdlePort)
	_, err = client.CallVerify(testCtx(t), req)
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, voicecall.CodePortLimit, apiErr.Code)
	assert.True(t, apiErr.IsThrottled())
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := srv.WaitCall(ctx, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	assert.True(t, strings.HasPrefix(err.Error(), "voicetest: "))
	_, err = srv.WaitDelivery(ctx, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for _, o := range []voicetest.Option{
		voicetest.WithApp(voicetest.App{Key: "k"}),
		voicetest.WithNotifyURLs("not a url", ""),
		voicetest.WithClockSkew(0),
		voicetest.WithCreatedLocations(),
		voicetest.WithScenario("flying"),
		voicetest.WithTimeScale(-1),
		voicetest.WithPorts(0),
		voicetest.WithFeeRetry(-1, 0),
		voicetest.WithPushClient(nil),
		voicetest.WithClock(nil),
		voicetest.WithAddr("256.0.0.1:0"),
	} {
		srv, err := voicetest.NewServer(o)
		require.Error(t, err)
		assert.Nil(t, srv)
		assert.True(t, strings.HasPrefix(err.Error(), "voicetest: "), err.Error())
	}
	_, err := voicetest.NewServer(voicetest.WithApp(voicetest.App{Key: "k", Secret: "s"}), voicetest.WithApp(voicetest.App{Key: "k", Secret: "t"}))
	assert.Error(t, err)
}

// A statusUrl or feeUrl on another host is never contacted by default:
// the delivery fails before any name lookup or connection.
func TestNoRemotePushes(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	client, err := srv.NewClient()
	require.NoError(t, err)
	resp, err := client.CallVerify(context.Background(), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2,
		PreTone: "p.wav", VerifyCode: "1234", StatusURL: "https://example.com/status", FeeURL: "http://10.1.2.3:8080/fee",
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Has(resp.SessionID) })
	require.NoError(t, err)
	assert.False(t, d.OK())
	require.Error(t, d.Err)
	assert.Contains(t, d.Err.Error(), "non-loopback")
	for _, d := range srv.Deliveries() {
		assert.Contains(t, d.Err.Error(), "non-loopback", d.URL)
	}
}

// TestMaxRecords checks that the server keeps only the most recent
// records, so that a long-running sandbox does not grow without bound.
func TestMaxRecords(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	ended := make(chan string, 6)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithMaxRecords(3),
		voicetest.WithHooks(voicetest.Hooks{Call: func(c voicetest.Call) {
			if c.Ended {
				ended <- c.SessionID
			}
		}}))
	var ids []string
	for i := 0; i < 6; i++ {
		body := validBody()
		body["statusUrl"] = b64(rc.URL)
		ids = append(ids, placeRaw(t, srv, voicetest.CallVerifyPath, body))
	}
	ctx := testCtx(t)
	for range ids {
		select {
		case <-ended:
		case <-ctx.Done():
			t.Fatal("calls did not end")
		}
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []int{4, 5, 6}, []int{reqs[0].Seq, reqs[1].Seq, reqs[2].Seq}, "the newest, in order")
	calls := srv.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, ids[3:], []string{calls[0].SessionID, calls[1].SessionID, calls[2].SessionID})
	assert.Len(t, srv.Deliveries(), 3)
	assert.Len(t, rc.got(), 6*4, "every push was still made")

	// A call in progress that dropped out of the list can still be stopped.
	srv2 := voicetest.Start(t, voicetest.WithMaxRecords(1), voicetest.WithScenario(voicetest.ScenarioLongCall))
	first := placeRaw(t, srv2, voicetest.CallVerifyPath, validBody())
	placeRaw(t, srv2, voicetest.CallVerifyPath, validBody())
	require.Len(t, srv2.Calls(), 1)
	a := send(t, signedRequest(t, srv2, http.MethodPost, voicetest.CallStopPath, map[string]any{"sessionid": first, "signal": "call_stop"}))
	assert.Equal(t, "0", a.ResultCode)
}

func TestWithMaxRecordsRefusesZero(t *testing.T) {
	t.Parallel()
	_, err := voicetest.NewServer(voicetest.WithMaxRecords(0))
	assert.Error(t, err)
}

func TestUserDataRule(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	for _, tc := range []struct {
		userData string
		ok       bool
	}{{"José", true}, {"a+b/c=", true}, {"订单", false}, {"{x}", false}, {strings.Repeat("é", 256), true}, {strings.Repeat("a", 257), false}} {
		body := validBody()
		body["userData"] = tc.userData
		a := send(t, rawRequest(t, srv, body))
		if tc.ok {
			assert.Equal(t, "0", a.ResultCode, tc.userData)
		} else {
			assert.Contains(t, a.ResultDesc, "userData:", tc.userData)
		}
	}
}
