package voicecall

import (
	"encoding/json"
	"testing"
)

// FuzzParseToken: the X-AKSK parser never panics, and what it accepts
// survives a format/parse round trip.
func FuzzParseToken(f *testing.F) {
	for _, v := range signVectors {
		f.Add(Sign(v.appKey, v.appSecret, v.nonce, v.created).HeaderValue())
	}
	f.Add(`UsernameToken Username="k", PasswordDigest="d", Nonce="n", Created="c"`)
	f.Add(`UsernameToken Created="c",nonce="n",USERNAME="k",PasswordDigest="d",X="y"`)
	f.Add(`UsernameToken Username="k",,Nonce="n"`)
	f.Add(`UsernameToken Username="`)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if tok.Username == "" || tok.PasswordDigest == "" || tok.Nonce == "" || tok.Created == "" {
			t.Fatalf("accepted a token with an empty field: %q", s)
		}
		again, err := ParseToken(tok.HeaderValue())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", tok.HeaderValue(), err)
		}
		if again != tok {
			t.Fatalf("round trip changed %+v into %+v", tok, again)
		}
	})
}

// FuzzClassify: an answer is never accepted unless it says resultcode
// "0" with a non-empty session id and a 2xx status, and a rejection is
// never reported for a 5xx.
func FuzzClassify(f *testing.F) {
	f.Add(200, "application/json;charset=UTF-8", []byte(okAnswer))
	f.Add(200, "application/json", []byte(`{"resultcode":"0","resultdesc":"Success","sessionId":""}`))
	f.Add(400, "application/json", []byte(`{"resultcode":"1023006","resultdesc":"x"}`))
	f.Add(500, "application/json", []byte(`{"resultcode":"1010001"}`))
	f.Add(502, "text/html", []byte(`<html>bad gateway</html>`))
	f.Add(200, "", []byte(`{"resultcode":0,"sessionId":"x"}`))
	f.Add(429, "", []byte(``))
	f.Add(307, "", []byte(``))
	f.Add(200, "application/json", []byte(`{"resultcode":"0","sessionId":"s","resultcode":"1"}`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		ans, err := classify("CallVerify", status, contentType, body, "tok")
		switch OutcomeOf(err) {
		case OutcomeAccepted:
			var w struct {
				ResultCode string `json:"resultcode"`
				SessionID  string `json:"sessionId"`
			}
			if json.Unmarshal(body, &w) != nil || w.ResultCode != "0" || w.SessionID == "" || ans.SessionID != w.SessionID {
				t.Fatalf("accepted %d %q %q", status, contentType, body)
			}
			if status < 200 || status > 299 {
				t.Fatalf("accepted status %d", status)
			}
		case OutcomeRejected:
			if status >= 500 {
				t.Fatalf("rejected (certain) on status %d: %v", status, err)
			}
		}
		if err != nil && UserDataOf(err) != "tok" {
			t.Fatalf("error lost the correlation token: %v", err)
		}
	})
}

// FuzzDecodeAnswer: the one-pass decoder of the platform's answers agrees
// with encoding/json on every input it accepts.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(okAnswer))
	f.Add([]byte(` { "resultcode" : "0" , "resultdesc":"Success","sessionId":"s","idlePort":-0 } `))
	f.Add([]byte(`{"resultcode":"1010002","resultdesc":"Invalid request. calleeNbr"}`))
	f.Add([]byte(`{"resultcode":"0","resultcode":"1"}`))
	f.Add([]byte(`{"ResultCode":"0","sessionid":"s"}`))
	f.Add([]byte(`{"resultdesc":"\u6210\u529f","idlePort":1e3}`))
	f.Add([]byte(`{"idlePort":007}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast answerWire
		if !fastAnswer(body, &fast) {
			return
		}
		var ref answerWire
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", body, err)
		}
		if fast.ResultCode != ref.ResultCode || fast.ResultDesc != ref.ResultDesc || fast.SessionID != ref.SessionID ||
			(fast.IdlePort == nil) != (ref.IdlePort == nil) || fast.IdlePort != nil && *fast.IdlePort != *ref.IdlePort {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, ref)
		}
	})
}
