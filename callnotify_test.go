package voicecall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireCall sends one request through a real Client (signed at signTime,
// user agent "voicecall-test") to a raw server that answers answer, and
// returns the normalised bytes that reached the server.
func wireCall(t *testing.T, answer string, call func(c *Client) error) []byte {
	t.Helper()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		if strings.HasPrefix(answer, "HTTP/") {
			io.WriteString(conn, answer)
			return
		}
		writeJSON(conn, 200, answer)
	})
	c, err := NewClient(srv.URL()+"/", "myAppKey", "myAppSecret", WithUserAgent("voicecall-test"))
	require.NoError(t, err)
	pinClock(c, signTime)
	require.NoError(t, call(c))
	return normalise(t, srv.Last())
}

// wireBody returns the JSON body of a raw request.
func wireBody(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	_, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	return m
}

func fullNotifyRequest() *CallNotifyRequest {
	return &CallNotifyRequest{
		DisplayNumber: "+8675528000088",
		CalleeNumber:  "+8613500000001",
		PlayInfoList: []PlayInfo{
			{NotifyVoice: "welcome.wav"},
			{TemplateID: "tpl-1", TemplateParas: []string{"Friday", "3"}, CollectDigits: 1, ReplayAfterCollection: true, ReplayTrigger: "9"},
		},
		StatusURL:      "https://example.com:9330/status",
		FeeURL:         "https://www.huawei.com:9330/fee",
		ReturnIdlePort: true,
		UserData:       "customerId123",
	}
}

func minimalNotifyRequest() *CallNotifyRequest {
	return &CallNotifyRequest{DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001",
		PlayInfoList: []PlayInfo{{NotifyVoice: "welcome.wav"}}, UserData: "order-42"}
}

func TestCallNotifyWireGolden(t *testing.T) {
	t.Parallel()
	notify := func(req *CallNotifyRequest) func(c *Client) error {
		return func(c *Client) error { _, err := c.CallNotify(context.Background(), req); return err }
	}
	t.Run("every field", func(t *testing.T) {
		t.Parallel()
		raw := wireCall(t, okAnswer, notify(fullNotifyRequest()))
		checkGolden(t, "callnotify_full.http", raw)
		m := wireBody(t, raw)
		assert.Equal(t, "aHR0cHM6Ly93d3cuaHVhd2VpLmNvbTo5MzMwL2ZlZQ==", m["feeUrl"], "Base64 by the SDK")
		items := m["playInfoList"].([]any)
		require.Len(t, items, 2)
		assert.Equal(t, "true", items[1].(map[string]any)["replayAfterCollection"], "booleans are strings")
		assert.Equal(t, float64(1), items[1].(map[string]any)["collectInd"])
	})
	t.Run("required fields only", func(t *testing.T) {
		t.Parallel()
		checkGolden(t, "callnotify_minimal.http", wireCall(t, okAnswer, notify(minimalNotifyRequest())))
	})
}

func TestCallNotifyValidate(t *testing.T) {
	t.Parallel()
	six := make([]PlayInfo, 6)
	for i := range six {
		six[i] = PlayInfo{NotifyVoice: "a.wav"}
	}
	tests := []struct {
		name   string
		modify func(r *CallNotifyRequest)
		fields []string // nil means valid
	}{
		{"minimal", func(*CallNotifyRequest) {}, nil},
		{"every field", func(r *CallNotifyRequest) { *r = *fullNotifyRequest() }, nil},
		{"32 digits", func(r *CallNotifyRequest) { r.PlayInfoList[0].CollectDigits = 32 }, nil},
		{"numbers", func(r *CallNotifyRequest) { r.DisplayNumber, r.CalleeNumber = "", "135" }, []string{"displayNbr", "calleeNbr"}},
		{"no items", func(r *CallNotifyRequest) { r.PlayInfoList = nil }, []string{"playInfoList"}},
		{"six items", func(r *CallNotifyRequest) { r.PlayInfoList = six }, []string{"playInfoList"}},
		{"neither voice nor template", func(r *CallNotifyRequest) { r.PlayInfoList[0] = PlayInfo{} }, []string{"playInfoList[0]"}},
		{"both", func(r *CallNotifyRequest) { r.PlayInfoList[0].TemplateID = "t" }, []string{"playInfoList[0]"}},
		{"paras without template", func(r *CallNotifyRequest) { r.PlayInfoList[0].TemplateParas = []string{"x"} }, []string{"playInfoList[0].templateParas"}},
		{"empty para", func(r *CallNotifyRequest) {
			r.PlayInfoList[0] = PlayInfo{TemplateID: "t", TemplateParas: []string{"a", ""}}
		}, []string{"playInfoList[0].templateParas[1]"}},
		{"33 digits", func(r *CallNotifyRequest) { r.PlayInfoList[0].CollectDigits = 33 }, []string{"playInfoList[0].collectInd"}},
		{"negative digits", func(r *CallNotifyRequest) { r.PlayInfoList[0].CollectDigits = -1 }, []string{"playInfoList[0].collectInd"}},
		{"replay without collection", func(r *CallNotifyRequest) { r.PlayInfoList[0].ReplayAfterCollection = true }, []string{"playInfoList[0].replayAfterCollection"}},
		{"trigger without replay", func(r *CallNotifyRequest) { r.PlayInfoList[0].CollectDigits, r.PlayInfoList[0].ReplayTrigger = 1, "1" }, []string{"playInfoList[0].collectContentTriggerReplaying"}},
		{"trigger not keys", func(r *CallNotifyRequest) {
			r.PlayInfoList[0] = PlayInfo{NotifyVoice: "a.wav", CollectDigits: 1, ReplayAfterCollection: true, ReplayTrigger: "x"}
		}, []string{"playInfoList[0].collectContentTriggerReplaying"}},
		{"trigger longer than collected", func(r *CallNotifyRequest) {
			r.PlayInfoList[0] = PlayInfo{NotifyVoice: "a.wav", CollectDigits: 1, ReplayAfterCollection: true, ReplayTrigger: "12"}
		}, []string{"playInfoList[0].collectContentTriggerReplaying"}},
		{"long voice", func(r *CallNotifyRequest) { r.PlayInfoList[0].NotifyVoice = strings.Repeat("a", 129) }, []string{"playInfoList[0].notifyVoice"}},
		{"second item", func(r *CallNotifyRequest) { r.PlayInfoList = append(r.PlayInfoList, PlayInfo{}) }, []string{"playInfoList[1]"}},
		{"urls", func(r *CallNotifyRequest) {
			r.StatusURL, r.FeeURL = "ftp://x", "https://example.com/"+strings.Repeat("a", 100)
		}, []string{"statusUrl", "feeUrl"}},
		{"userData", func(r *CallNotifyRequest) { r.UserData = "{x}" }, []string{"userData"}},
		{"user data José is fine", func(r *CallNotifyRequest) { r.UserData = "José" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := minimalNotifyRequest()
			tt.modify(r)
			err := r.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.fields, invalidFields(t, err, "CallNotify"))
		})
	}
	var c Client
	_, err := c.CallNotify(context.Background(), nil)
	assert.Equal(t, OutcomeRejected, OutcomeOf(err), "a nil request is a validation error, nothing sent")
}

// faultsAfterSending are the fault-matrix rows that apply after the
// request was sent, for every API: each answer is "unknown".
func faultsAfterSending() []struct {
	name string
	h    rawHandler
} {
	return []struct {
		name string
		h    rawHandler
	}{
		{"C7 read then reset", func(conn net.Conn, _ *http.Request, _ []byte) { _ = conn.(*net.TCPConn).SetLinger(0) }},
		{"C8 processed, answer lost", func(net.Conn, *http.Request, []byte) {}},
		{"C9 reset mid-answer", func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"resultcode\":\"0\",")
			_ = conn.(*net.TCPConn).SetLinger(0)
		}},
		{"C10 truncated JSON", func(conn net.Conn, _ *http.Request, _ []byte) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n"+okAnswer[:40])
		}},
		{"C13 502 HTML", func(conn net.Conn, _ *http.Request, _ []byte) {
			fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>")
		}},
		{"C14 200 HTML", func(conn net.Conn, _ *http.Request, _ []byte) {
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>")
		}},
		{"C16 empty object", func(conn net.Conn, _ *http.Request, _ []byte) { writeJSON(conn, 200, `{}`) }},
		{"5xx platform answer", func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 500, `{"resultcode":"1010001","resultdesc":"Internal system error."}`)
		}},
	}
}

// TestPlacingCallsAtMostOnce runs the fault rows against the APIs that
// place a call: each is received exactly once and ends unknown, with the
// correlation token.
func TestPlacingCallsAtMostOnce(t *testing.T) {
	t.Parallel()
	ops := map[string]func(c *Client) error{
		"CallNotify": func(c *Client) error {
			_, err := c.CallNotify(context.Background(), minimalNotifyRequest())
			return err
		},
		"Click2Call": func(c *Client) error {
			_, err := c.Click2Call(context.Background(), minimalCallbackRequest())
			return err
		},
	}
	for op, call := range ops {
		for _, f := range append(faultsAfterSending(), struct {
			name string
			h    rawHandler
		}{"C16 no sessionId", func(conn net.Conn, _ *http.Request, _ []byte) {
			writeJSON(conn, 200, `{"resultcode":"0","resultdesc":"Success"}`)
		}}) {
			t.Run(op+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				srv := newRawServer(t, f.h)
				c := newTestClient(t, srv.URL())
				noSleep(c)
				err := call(c)
				reqErr := assertUnknownOnce(t, err, srv)
				assert.Equal(t, op, reqErr.Op)
			})
		}
	}
}

func TestCallNotifyAnswers(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 200, `{"resultcode":"0","resultdesc":"Success","sessionId":"1201_1_0_x@h","idlePort":7}`)
	})
	c := newTestClient(t, srv.URL())
	req := minimalNotifyRequest()
	req.UserData = ""
	resp, err := c.CallNotify(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "1201_1_0_x@h", resp.SessionID)
	require.NotNil(t, resp.IdlePort)
	assert.Equal(t, 7, *resp.IdlePort)
	assert.True(t, IsCorrelationToken(resp.UserData), "a token when the caller gave none")
	assert.Equal(t, resp.UserData, wireBodyOf(t, srv)["userData"])

	srv2 := newRawServer(t, func(conn net.Conn, _ *http.Request, _ []byte) {
		writeJSON(conn, 200, `{"resultcode":"1012004","resultdesc":"templateParas mismatch +8613500000001 Friday"}`)
	})
	c2 := newTestClient(t, srv2.URL())
	r := fullNotifyRequest()
	_, err = c2.CallNotify(context.Background(), r)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, ResultCode("1012004"), apiErr.Code)
	assert.Equal(t, OutcomeRejected, OutcomeOf(err))
	assert.NotContains(t, err.Error(), "+8613500000001", "echoed numbers are scrubbed")
	assert.NotContains(t, err.Error(), "Friday", "echoed template values are scrubbed")
}

func wireBodyOf(t *testing.T, srv *rawServer) map[string]any {
	t.Helper()
	seen := srv.Seen()
	require.NotEmpty(t, seen)
	var m map[string]any
	require.NoError(t, json.Unmarshal(seen[len(seen)-1].Body, &m))
	return m
}
