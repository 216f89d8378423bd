package voicecall

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var signTime = time.Date(2018, 2, 12, 15, 30, 20, 0, time.UTC)

// wireRequest sends req through a real Client to a raw server and returns
// the exact bytes that reached the server.
func wireRequest(t *testing.T, req *CallVerifyRequest, opts ...Option) []byte {
	t.Helper()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c, err := NewClient(srv.URL()+"/", "myAppKey", "myAppSecret", opts...)
	require.NoError(t, err)
	pinClock(c, signTime)
	_, err = c.CallVerify(context.Background(), req)
	require.NoError(t, err)
	return srv.Last()
}

var (
	hostLine  = regexp.MustCompile(`(?m)^Host: 127\.0\.0\.1:\d+\r$`)
	akskValue = regexp.MustCompile(`PasswordDigest="([^"]*)",Nonce="([0-9a-f]{32})",Created="([^"]*)"`)
)

// normalise replaces the per-run parts of a request (port, nonce, digest)
// after checking that the digest is right for the nonce.
func normalise(t *testing.T, raw []byte) []byte {
	t.Helper()
	m := akskValue.FindSubmatch(raw)
	require.NotNil(t, m, "X-AKSK with a 32-hex-digit nonce")
	want := aksk.Sign("myAppKey", "myAppSecret", string(m[2]), string(m[3])).PasswordDigest
	require.Equal(t, want, string(m[1]), "digest matches the documented formula")
	raw = hostLine.ReplaceAll(raw, []byte("Host: 127.0.0.1:PORT\r"))
	raw = bytes.Replace(raw, m[1], []byte("DIGEST"), 1)
	return bytes.Replace(raw, m[2], []byte("NONCE"), 1)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func fullRequest() *CallVerifyRequest {
	return &CallVerifyRequest{
		DisplayNumber:  "+8675528000088",
		CalleeNumber:   "+8613500000001",
		LanguageType:   LanguageChinese,
		PreTone:        "pretone.wav",
		VerifyCode:     "12345678",
		PostTone:       "postone.wav",
		Times:          PlayTimes(0),
		StatusURL:      "https://example.com:9330/status",
		FeeURL:         "https://www.huawei.com:9330/fee",
		ReturnIdlePort: true,
		UserData:       "customerId123",
		BindNumber:     "+8675512345678",
	}
}

func TestCallVerifyWireGolden(t *testing.T) {
	t.Parallel()
	t.Run("every field", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, "callverify_full.http", normalise(t, wireRequest(t, fullRequest(), WithUserAgent("voicecall-test"))))
	})
	t.Run("required fields only", func(t *testing.T) {
		t.Parallel()
		req := validRequest()
		checkGolden(t, "callverify_minimal.http", normalise(t, wireRequest(t, req, WithUserAgent("voicecall-test"))))
	})
	t.Run("beijing created", func(t *testing.T) {
		t.Parallel()
		raw := wireRequest(t, validRequest(), WithCreatedLocation(BeijingTime()))
		assert.Contains(t, string(raw), `Created="2018-02-12T23:30:20Z"`)
	})
}

func TestCallVerifyBodyEncoding(t *testing.T) {
	t.Parallel()
	raw := wireRequest(t, fullRequest())
	_, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	assert.Equal(t, "aHR0cHM6Ly93d3cuaHVhd2VpLmNvbTo5MzMwL2ZlZQ==", m["feeUrl"], "the documented Base64 example")
	status, err := base64.StdEncoding.DecodeString(m["statusUrl"].(string))
	require.NoError(t, err)
	assert.Equal(t, "https://example.com:9330/status", string(status))
	assert.Equal(t, float64(0), m["times"], "times 0 (loop until hang-up) is sent")
	assert.Equal(t, "true", m["returnIdlePort"], "booleans are strings on the wire")
	assert.Equal(t, float64(2), m["languageType"])

	zero := fullRequest()
	zero.LanguageType = 0
	_, body, ok = bytes.Cut(wireRequest(t, zero), []byte("\r\n\r\n"))
	require.True(t, ok)
	require.NoError(t, json.Unmarshal(body, &m))
	assert.Equal(t, float64(LanguageChinese), m["languageType"], "LanguageType 0 sends Chinese")

	req := validRequest()
	raw = wireRequest(t, req)
	_, body, _ = bytes.Cut(raw, []byte("\r\n\r\n"))
	m = nil
	require.NoError(t, json.Unmarshal(body, &m))
	assert.NotContains(t, m, "times", "nil Times leaves the platform default")
	assert.NotContains(t, m, "posTone")
	assert.NotContains(t, m, "bindNbr")
	assert.Equal(t, "false", m["returnIdlePort"])
}

func TestValidate(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		modify func(r *CallVerifyRequest)
		field  string // "" means valid
	}{
		{"valid", func(*CallVerifyRequest) {}, ""},
		{"every field", func(r *CallVerifyRequest) { *r = *fullRequest() }, ""},
		{"display missing", func(r *CallVerifyRequest) { r.DisplayNumber = "" }, "displayNbr"},
		{"display without plus", func(r *CallVerifyRequest) { r.DisplayNumber = "8675528000088" }, "displayNbr"},
		{"callee missing", func(r *CallVerifyRequest) { r.CalleeNumber = "" }, "calleeNbr"},
		{"callee with spaces", func(r *CallVerifyRequest) { r.CalleeNumber = "+86 135 0000 0001" }, "calleeNbr"},
		{"callee with dash", func(r *CallVerifyRequest) { r.CalleeNumber = "+86-13500000001" }, "calleeNbr"},
		{"callee too short", func(r *CallVerifyRequest) { r.CalleeNumber = "+12" }, "calleeNbr"},
		{"callee shortest", func(r *CallVerifyRequest) { r.CalleeNumber = "+123" }, ""},
		{"callee longest", func(r *CallVerifyRequest) { r.CalleeNumber = "+" + strings.Repeat("1", 30) }, ""},
		{"callee too long", func(r *CallVerifyRequest) { r.CalleeNumber = "+" + strings.Repeat("1", 31) }, "calleeNbr"},
		{"callee only plus", func(r *CallVerifyRequest) { r.CalleeNumber = "++++" }, "calleeNbr"},
		{"callee full-width digits", func(r *CallVerifyRequest) { r.CalleeNumber = "+861３５00000001" }, "calleeNbr"},
		{"language zero means Chinese", func(r *CallVerifyRequest) { r.LanguageType = 0 }, ""},
		{"language negative", func(r *CallVerifyRequest) { r.LanguageType = -2 }, "languageType"},
		{"pretone missing", func(r *CallVerifyRequest) { r.PreTone = "" }, "preTone"},
		{"pretone 128", func(r *CallVerifyRequest) { r.PreTone = long(124) + ".wav" }, ""},
		{"pretone 128 chinese characters", func(r *CallVerifyRequest) { r.PreTone = strings.Repeat("音", 124) + ".wav" }, ""},
		{"pretone 129", func(r *CallVerifyRequest) { r.PreTone = long(125) + ".wav" }, "preTone"},
		{"pretone invalid utf8", func(r *CallVerifyRequest) { r.PreTone = "a\xffb.wav" }, "preTone"},
		{"posttone 129", func(r *CallVerifyRequest) { r.PostTone = long(129) }, "posTone"},
		{"code missing", func(r *CallVerifyRequest) { r.VerifyCode = "" }, "verifyCode"},
		{"code one digit", func(r *CallVerifyRequest) { r.VerifyCode = "7" }, ""},
		{"code eight digits", func(r *CallVerifyRequest) { r.VerifyCode = "12345678" }, ""},
		{"code nine digits", func(r *CallVerifyRequest) { r.VerifyCode = "123456789" }, "verifyCode"},
		{"code letters", func(r *CallVerifyRequest) { r.VerifyCode = "12a4" }, "verifyCode"},
		{"code arabic-indic digits", func(r *CallVerifyRequest) { r.VerifyCode = "١٢٣" }, "verifyCode"},
		{"times 0", func(r *CallVerifyRequest) { r.Times = PlayTimes(0) }, ""},
		{"times 9", func(r *CallVerifyRequest) { r.Times = PlayTimes(9) }, ""},
		{"times 10", func(r *CallVerifyRequest) { r.Times = PlayTimes(10) }, "times"},
		{"times -1", func(r *CallVerifyRequest) { r.Times = PlayTimes(-1) }, "times"},
		{"status url relative", func(r *CallVerifyRequest) { r.StatusURL = "/status" }, "statusUrl"},
		{"status url ftp", func(r *CallVerifyRequest) { r.StatusURL = "ftp://example.com/x" }, "statusUrl"},
		{"status url http", func(r *CallVerifyRequest) { r.StatusURL = "http://218.4.33.55:8888/test" }, ""},
		{"status url 96 bytes", func(r *CallVerifyRequest) { r.StatusURL = "https://e.com/" + long(96-14) }, ""},
		{"status url 97 bytes", func(r *CallVerifyRequest) { r.StatusURL = "https://e.com/" + long(97-14) }, "statusUrl"},
		{"fee url no host", func(r *CallVerifyRequest) { r.FeeURL = "https:///fee" }, "feeUrl"},
		{"user data 256", func(r *CallVerifyRequest) { r.UserData = long(256) }, ""},
		{"user data 257", func(r *CallVerifyRequest) { r.UserData = long(257) }, "userData"},
		{"user data brace", func(r *CallVerifyRequest) { r.UserData = `{"id":1}` }, "userData"},
		{"user data chinese", func(r *CallVerifyRequest) { r.UserData = "订单" }, "userData"},
		{"user data base64 of chinese", func(r *CallVerifyRequest) { r.UserData = base64.StdEncoding.EncodeToString([]byte("订单")) }, ""},
		{"user data accented", func(r *CallVerifyRequest) { r.UserData = "José Müller" }, ""},
		{"user data 256 accented characters", func(r *CallVerifyRequest) { r.UserData = strings.Repeat("é", 256) }, ""},
		{"user data 257 accented characters", func(r *CallVerifyRequest) { r.UserData = strings.Repeat("é", 257) }, "userData"},
		{"user data japanese kana", func(r *CallVerifyRequest) { r.UserData = "カナ" }, ""},
		{"user data invalid utf8", func(r *CallVerifyRequest) { r.UserData = "a\xffb" }, "userData"},
		{"bind number bad", func(r *CallVerifyRequest) { r.BindNumber = "123" }, "bindNbr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			tt.modify(r)
			err := r.Validate()
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Fields, 1, "only the broken field is reported: %v", err)
			assert.Equal(t, tt.field, verr.Fields[0].Field)
			assert.Contains(t, err.Error(), tt.field)
			assert.Equal(t, OutcomeRejected, OutcomeOf(err))
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	t.Parallel()
	err := (&CallVerifyRequest{LanguageType: -1, Times: PlayTimes(12), UserData: "{"}).Validate()
	assert.Equal(t, []string{"displayNbr", "calleeNbr", "languageType", "preTone", "verifyCode", "times", "userData"}, invalidFields(t, err, "CallVerify"))
	assert.True(t, strings.HasPrefix(err.Error(), "voicecall: CallVerify: invalid displayNbr: is required; calleeNbr:"), err.Error())
}

func TestCallVerifyInvalidSendsNothing(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	for _, req := range []*CallVerifyRequest{nil, {}, {DisplayNumber: "+8675528000088", CalleeNumber: "13500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234"}} {
		resp, err := c.CallVerify(context.Background(), req)
		assert.Nil(t, resp)
		var verr *ValidationError
		assert.ErrorAs(t, err, &verr)
	}
	assert.Zero(t, srv.received.Load(), "nothing reached the server")
}

func TestCallVerifySuccess(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 200, `{"resultcode":"0","resultdesc":"Success","sessionId":"1200_366_0_20161228102743@callenabler.home1.com","idlePort":17}`)
	})
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	req := validRequest()
	req.ReturnIdlePort = true
	resp, err := c.CallVerify(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "1200_366_0_20161228102743@callenabler.home1.com", resp.SessionID)
	require.NotNil(t, resp.IdlePort)
	assert.Equal(t, 17, *resp.IdlePort)
	assert.Equal(t, CodeSuccess, resp.ResultCode)
	assert.Equal(t, "Success", resp.ResultDesc)
	assert.Equal(t, "order-42", resp.UserData)
}

func TestCallVerifySetsCorrelationToken(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, okAnswer) })
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 3 {
		req := validRequest()
		req.UserData = ""
		resp, err := c.CallVerify(context.Background(), req)
		require.NoError(t, err)
		assert.True(t, IsCorrelationToken(resp.UserData), resp.UserData)
		assert.Empty(t, userDataProblem(resp.UserData))
		assert.False(t, seen[resp.UserData])
		seen[resp.UserData] = true
		assert.Empty(t, req.UserData, "the caller's request is not modified")
	}
	bodies := srv.Seen()
	require.Len(t, bodies, 3)
	for _, b := range bodies {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b.Body, &m))
		assert.True(t, seen[m["userData"].(string)], "the token that was sent is the one returned")
	}
}

func TestCallVerifyRejected(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 400, `{"resultcode":"1023006","resultdesc":"Authorization not contained in the HTTP header."}`)
	})
	c, err := NewClient(srv.URL(), "k", "s")
	require.NoError(t, err)
	_, err = c.CallVerify(context.Background(), validRequest())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, CodeAuthFailed, apiErr.Code)
	assert.Equal(t, 400, apiErr.HTTPStatus)
	assert.Equal(t, "CallVerify", apiErr.Op)
	assert.Equal(t, "order-42", apiErr.UserData)
	assert.True(t, apiErr.IsAuthFailure())
	assert.Equal(t, OutcomeRejected, OutcomeOf(err))
	assert.False(t, errors.Is(err, ErrOutcomeUnknown))
	assert.Equal(t, "voicecall: CallVerify: rejected by the platform: resultcode 1023006 (Authorization not contained in the HTTP header.), http 400", err.Error())
	assert.Equal(t, int64(1), srv.received.Load(), "authentication failures are never retried")
}

// The body sent must read back, with encoding/json, as the wire struct
// built from the request's fields by hand: Base64 URLs, string booleans.
func checkMarshal(t *testing.T, r *CallVerifyRequest) {
	t.Helper()
	body, err := marshalBody(r.wire(r.UserData))
	require.NoError(t, err)
	var got, want callVerifyWire
	require.NoError(t, json.Unmarshal(body, &got), "%s", body)
	ref, err := json.Marshal(callVerifyWire{
		DisplayNbr: r.DisplayNumber, CalleeNbr: r.CalleeNumber, LanguageType: r.LanguageType, PreTone: r.PreTone,
		VerifyCode: r.VerifyCode, PosTone: r.PostTone, Times: r.Times,
		StatusURL:      base64OrEmpty(r.StatusURL),
		FeeURL:         base64OrEmpty(r.FeeURL),
		ReturnIdlePort: map[bool]string{true: "true", false: "false"}[r.ReturnIdlePort],
		UserData:       r.UserData, BindNbr: r.BindNumber,
	})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ref, &want))
	assert.Equal(t, want, got)
	for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
		assert.NotContains(t, string(body), esc, "<, > and & are sent verbatim")
	}
	assert.True(t, json.Valid(body))
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	require.NoError(t, e.Encode(r.wire(r.UserData)))
	assert.Equal(t, strings.TrimSuffix(enc.String(), "\n"), string(body), "the bytes of an Encoder without HTML escaping")
}

func base64OrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(s))
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	checkMarshal(t, validRequest())
	checkMarshal(t, fullRequest())
	r := fullRequest()
	r.PreTone = "quote\" back\\slash \n\r\t\x01 <&> \u2028\u2029 音.wav"
	r.UserData = "a\"b\\c\x7f"
	checkMarshal(t, r)
}

func FuzzMarshalRequest(f *testing.F) {
	f.Add("pretone.wav", "order-42", 3)
	f.Add("音\u2028\"\\\x00", "x\x1f", 0)
	f.Fuzz(func(t *testing.T, tone, userData string, times int) {
		r := fullRequest()
		r.PreTone, r.UserData, r.Times = tone, userData, &times
		if r.Validate() != nil {
			return
		}
		checkMarshal(t, r)
	})
}
