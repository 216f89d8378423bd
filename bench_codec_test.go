package voicecall

// What a hand-written JSON codec would save of a whole call. The SDK
// codes its bodies and answers with encoding/json (docs/PERFORMANCE.md,
// "What was optimised, and what was taken out"): a hand-written codec may
// come back only if a benchmark shows it saves at least 10 % of a whole
// call.
// BenchmarkCallVerifyCodec is that benchmark: the hand-written call of
// BenchmarkCallVerify with encoding/json, and the same call with the
// codec below, which TestHandCodec holds to encoding/json's bytes and
// values. The codec exists for this measurement only.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
)

// handCodec is the fastest simple codec for the hand-written call: the
// body appended field by field, the answer read in one pass. Anything
// unusual (an escape, a non-ASCII byte, another field or value type) goes
// to encoding/json, so that its results are encoding/json's.
var handCodec = callCodec{encode: handEncode, decode: handDecode}

func handEncode(body handwrittenBody) ([]byte, error) {
	b := make([]byte, 0, 192)
	b = append(b, `{"displayNbr":`...)
	b = appendHandString(b, body.DisplayNbr)
	b = append(b, `,"calleeNbr":`...)
	b = appendHandString(b, body.CalleeNbr)
	b = append(b, `,"languageType":`...)
	b = strconv.AppendInt(b, int64(body.LanguageType), 10)
	b = append(b, `,"preTone":`...)
	b = appendHandString(b, body.PreTone)
	b = append(b, `,"verifyCode":`...)
	b = appendHandString(b, body.VerifyCode)
	b = append(b, `,"returnIdlePort":`...)
	b = appendHandString(b, body.ReturnIdlePort)
	if body.UserData != "" {
		b = append(b, `,"userData":`...)
		b = appendHandString(b, body.UserData)
	}
	return append(b, '}'), nil
}

// appendHandString appends s as json.Marshal writes it: printable ASCII
// other than the characters it escapes is copied, anything else is
// encoded by encoding/json.
func appendHandString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// errHandFallback sends handDecode's input to encoding/json.
var errHandFallback = errors.New("not the simple case")

func handDecode(data []byte, ans *handwrittenAnswer) error {
	var got handwrittenAnswer
	if handDecodeFlat(data, &got) == nil {
		*ans = got
		return nil
	}
	return json.Unmarshal(data, ans)
}

// handDecodeFlat reads an object whose members are the answer's three
// fields with plain string values.
func handDecodeFlat(data []byte, ans *handwrittenAnswer) error {
	i := 0
	space := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
	}
	str := func() (string, error) {
		if i >= len(data) || data[i] != '"' {
			return "", errHandFallback
		}
		i++
		for start := i; i < len(data); i++ {
			switch c := data[i]; {
			case c == '"':
				i++
				return string(data[start : i-1]), nil
			case c == '\\' || c < 0x20 || c >= 0x80:
				return "", errHandFallback
			}
		}
		return "", errHandFallback
	}
	space()
	if i >= len(data) || data[i] != '{' {
		return errHandFallback
	}
	i++
	for {
		space()
		key, err := str()
		if err != nil {
			return err
		}
		space()
		if i >= len(data) || data[i] != ':' {
			return errHandFallback
		}
		i++
		space()
		val, err := str()
		if err != nil {
			return err
		}
		switch key {
		case "resultcode":
			ans.ResultCode = val
		case "resultdesc":
			ans.ResultDesc = val
		case "sessionId":
			ans.SessionID = val
		default:
			return errHandFallback
		}
		space()
		switch {
		case i < len(data) && data[i] == ',':
			i++
		case i < len(data) && data[i] == '}':
			i++
			space()
			if i != len(data) {
				return errHandFallback
			}
			return nil
		default:
			return errHandFallback
		}
	}
}

func TestHandCodec(t *testing.T) {
	for _, s := range []string{"", "+8613800000000", "José", `a"b\c`, "<&>", "tab\there", "\x7f", "\u2028", "\xff", "中文"} {
		body := handwrittenBody{DisplayNbr: s, CalleeNbr: "+86" + s, LanguageType: 2, PreTone: s, VerifyCode: "1234", ReturnIdlePort: "false", UserData: s}
		want, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := handEncode(body)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("handEncode(%q) = %s, %v; encoding/json writes %s", s, got, err, want)
		}
	}
	// The benchmark measures the fast paths: its answer is read in one
	// pass, and its body is written without encoding/json (one
	// allocation, the buffer).
	var fast handwrittenAnswer
	if err := handDecodeFlat([]byte(okAnswer), &fast); err != nil || fast.SessionID == "" {
		t.Errorf("handDecodeFlat(okAnswer) = %+v, %v; want the fast path", fast, err)
	}
	if !raceEnabled {
		req := validRequest()
		body := handwrittenBody{DisplayNbr: req.DisplayNumber, CalleeNbr: req.CalleeNumber, LanguageType: req.LanguageType,
			PreTone: req.PreTone, VerifyCode: req.VerifyCode, ReturnIdlePort: "false", UserData: req.UserData}
		if n := testing.AllocsPerRun(100, func() { _, _ = handEncode(body) }); n != 1 {
			t.Errorf("handEncode of the benchmark's body: %v allocations, want 1 (the fast path)", n)
		}
	}
	for _, answer := range []string{
		okAnswer,
		` { "resultcode" : "0" , "sessionId" : "s" } `,
		`{"resultcode":"0","resultcode":"1"}`,
		`{"resultcode":"1010002","resultdesc":"Invalid request.","idlePort":3}`,
		`{"ResultCode":"0","sessionId":"s"}`,
		`{"resultcode":"0","resultdesc":"caf\u00e9","sessionId":"s"}`,
		`{"resultcode":"0","resultdesc":"café"}`,
		`{"resultcode":"0"} x`, `{"resultcode":"0"`, `{"resultcode":0}`, `[]`, ``,
	} {
		var want, got handwrittenAnswer
		wantErr := json.Unmarshal([]byte(answer), &want)
		gotErr := handDecode([]byte(answer), &got)
		if (gotErr == nil) != (wantErr == nil) || (wantErr == nil && got != want) {
			t.Errorf("handDecode(%s) = %+v, %v; encoding/json gives %+v, %v", answer, got, gotErr, want, wantErr)
		}
	}
}

// BenchmarkCallVerifyCodec makes the hand-written call of
// BenchmarkCallVerify with encoding/json and with handCodec, one of each
// per iteration in alternating order, each timed alone (as
// BenchmarkCallVerifyPaired does). hand/json is the hand-written codec's
// share of the encoding/json call: 1 - hand/json is what it saves of a
// whole call, to hold against the 10 % rule.
func BenchmarkCallVerifyCodec(b *testing.B) {
	srv := benchServer(b, false)
	hc := &http.Client{Transport: keepAliveTransport(b)}
	req := validRequest()
	call := func(codec callCodec) func() {
		return func() { handwrittenCallWith(b, hc, srv.URL+callVerifyPath, req, codec) }
	}
	spent, n := timeInTurn(b, call(jsonCodec), call(handCodec))
	std, hand := float64(spent[0]), float64(spent[1])
	b.ReportMetric(std/float64(n), "ns/json")
	b.ReportMetric(hand/float64(n), "ns/hand")
	b.ReportMetric(hand/std, "hand/json")
}
