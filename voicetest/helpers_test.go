package voicetest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

// jsonContentType is the Content-Type the platform sends and requires.
const jsonContentType = "application/json;charset=UTF-8"

// testCtx bounds every wait of a test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// receiver is a notification receiver on loopback that records what it
// gets and answers with status(n), n counting pushes from 1.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	pushes []push
	status func(kind string, n int) int
}

type push struct {
	Header http.Header
	Body   []byte
	Kind   string // "status" or "fee"
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: func(string, int) int { return http.StatusOK }}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct {
			EventType string `json:"eventType"`
		}
		_ = json.Unmarshal(body, &env)
		kind := "status"
		if env.EventType == "fee" {
			kind = "fee"
		}
		rc.mu.Lock()
		rc.pushes = append(rc.pushes, push{Header: r.Header.Clone(), Body: body, Kind: kind})
		n := 0
		for _, p := range rc.pushes {
			if p.Kind == kind {
				n++
			}
		}
		st := rc.status
		rc.mu.Unlock()
		w.WriteHeader(st(kind, n))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []push {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]push(nil), rc.pushes...)
}

// statusEvent and feeBatch decode the pushes independently of the SDK,
// with the fields of every service.
type statusEvent struct {
	EventType  string `json:"eventType"`
	StatusInfo struct {
		SessionID string  `json:"sessionId"`
		Timestamp string  `json:"timestamp"`
		Caller    string  `json:"caller"`
		Called    string  `json:"called"`
		StateCode *int    `json:"stateCode"`
		StateDesc string  `json:"stateDesc"`
		PartyType string  `json:"partyType"`
		DigitInfo *string `json:"digitInfo"`
		UserData  string  `json:"userData"`
	} `json:"statusInfo"`
}

type cdr struct {
	Direction             int    `json:"direction"`
	SpID                  string `json:"spId"`
	AppKey                string `json:"appKey"`
	ICID                  string `json:"icid"`
	BindNum               string `json:"bindNum"`
	SessionID             string `json:"sessionId"`
	CallerNum             string `json:"callerNum"`
	CalleeNum             string `json:"calleeNum"`
	FwdDisplayNum         string `json:"fwdDisplayNum"`
	FwdDstNum             string `json:"fwdDstNum"`
	FwdStartTime          string `json:"fwdStartTime"`
	FwdAlertingTime       string `json:"fwdAlertingTime"`
	FwdAnswerTime         string `json:"fwdAnswerTime"`
	FwdUnaswRsn           *int   `json:"fwdUnaswRsn"`
	CallEndTime           string `json:"callEndTime"`
	FailTime              string `json:"failTime"`
	ULFailReason          int    `json:"ulFailReason"`
	SIPStatusCode         int    `json:"sipStatusCode"`
	CallOutStartTime      string `json:"callOutStartTime"`
	CallOutAlertingTime   string `json:"callOutAlertingTime"`
	CallOutAnswerTime     string `json:"callOutAnswerTime"`
	CallOutUnaswRsn       int    `json:"callOutUnaswRsn"`
	RecordFlag            int    `json:"recordFlag"`
	RecordStartTime       string `json:"recordStartTime"`
	RecordObjectName      string `json:"recordObjectName"`
	RecordBucketName      string `json:"recordBucketName"`
	RecordDomain          string `json:"recordDomain"`
	RecordFileDownloadURL string `json:"recordFileDownloadUrl"`
	DynIVRPath            string `json:"dynIVRPath"`
	TTSPlayTimes          int    `json:"ttsPlayTimes"`
	ServiceType           string `json:"serviceType"`
	HostName              string `json:"hostName"`
	UserData              string `json:"userData"`
}

type feeBatch struct {
	EventType string `json:"eventType"`
	FeeLst    []cdr  `json:"feeLst"`
}

// validBody returns a body the platform accepts, as a map that tests can
// change.
func validBody() map[string]any {
	return map[string]any{
		"displayNbr":   "+8675528000088",
		"calleeNbr":    "+8613500000001",
		"languageType": 2,
		"preTone":      "pretone.wav",
		"verifyCode":   "123456",
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// rawRequest builds a correctly signed callVerify request for the default
// app; tests then break what they test.
func rawRequest(t *testing.T, srv *voicetest.Server, body any) *http.Request {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+voicetest.CallVerifyPath, bytes.NewReader(raw))
	require.NoError(t, err)
	nonce, err := aksk.NewNonce()
	require.NoError(t, err)
	tok := aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, nonce, aksk.FormatCreated(time.Now(), nil))
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("Authorization", aksk.AuthorizationValue)
	req.Header.Set(aksk.Header, tok.HeaderValue())
	return req
}

// platformAnswer is the decoded answer of the fake.
type platformAnswer struct {
	Status      int
	ContentType string
	ResultCode  string `json:"resultcode"`
	ResultDesc  string `json:"resultdesc"`
	SessionID   string `json:"sessionId"`
	IdlePort    *int   `json:"idlePort"`
}

// send sends req on a fresh connection and decodes the answer.
func send(t *testing.T, req *http.Request) platformAnswer {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := platformAnswer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	require.NoError(t, json.Unmarshal(raw, &a), "body %q", raw)
	return a
}

// signedRequest builds a correctly signed request to path for the
// default app; body is marshalled (nil for none).
func signedRequest(t *testing.T, srv *voicetest.Server, method, path string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, ok := body.([]byte)
		if !ok {
			var err error
			raw, err = json.Marshal(body)
			require.NoError(t, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	nonce, err := aksk.NewNonce()
	require.NoError(t, err)
	tok := aksk.Sign(voicetest.DefaultAppKey, voicetest.DefaultAppSecret, nonce, aksk.FormatCreated(time.Now(), nil))
	if body != nil {
		req.Header.Set("Content-Type", jsonContentType)
	}
	req.Header.Set("Authorization", aksk.AuthorizationValue)
	req.Header.Set(aksk.Header, tok.HeaderValue())
	return req
}

// statusEvents decodes the status pushes a receiver got, in order.
func statusEvents(t *testing.T, rc *receiver) []statusEvent {
	t.Helper()
	var out []statusEvent
	for _, p := range rc.got() {
		if p.Kind != "status" {
			continue
		}
		var ev statusEvent
		require.NoError(t, json.Unmarshal(p.Body, &ev))
		out = append(out, ev)
	}
	return out
}

// onlyCDR decodes the single CDR a receiver got.
func onlyCDR(t *testing.T, rc *receiver) cdr {
	t.Helper()
	var fees []cdr
	for _, p := range rc.got() {
		if p.Kind != "fee" {
			continue
		}
		var batch feeBatch
		require.NoError(t, json.Unmarshal(p.Body, &batch))
		fees = append(fees, batch.FeeLst...)
	}
	require.Len(t, fees, 1)
	return fees[0]
}

func eventTypes(evs []statusEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.EventType
	}
	return out
}

// placeRaw sends a signed request and requires it to be accepted; it
// returns the session id.
func placeRaw(t *testing.T, srv *voicetest.Server, path string, body map[string]any) string {
	t.Helper()
	a := send(t, signedRequest(t, srv, http.MethodPost, path, body))
	require.Equal(t, "0", a.ResultCode, "%+v", a)
	require.NotEmpty(t, a.SessionID)
	return a.SessionID
}
