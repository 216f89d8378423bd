package voicecall

// Paired benchmarks (docs/PERFORMANCE.md): each function's
// sub-benchmarks are named impl=... (or conn=...) so that one run gives
// the ratio with `benchstat -col /impl`.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
)

func BenchmarkSign(b *testing.B) {
	created := aksk.FormatCreated(time.Now(), time.UTC)
	b.Run("impl=floor", func(b *testing.B) {
		// The best by hand: a reused keyed HMAC, a crypto/rand nonce,
		// Base64 into a fixed buffer.
		m := hmac.New(sha256.New, []byte("myAppSecret"))
		var raw [16]byte
		var nonce [32]byte
		var msg [52]byte
		var sum [sha256.Size]byte
		var out [44]byte
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rand.Read(raw[:])
			hex.Encode(nonce[:], raw[:])
			copy(msg[:], nonce[:])
			copy(msg[32:], created)
			m.Reset()
			m.Write(msg[:])
			base64.StdEncoding.Encode(out[:], m.Sum(sum[:0]))
		}
	})
	b.Run("impl=sdk", func(b *testing.B) {
		// Like the floor's Created, the clock is read once: reading it
		// (~25 ns here) is not signing.
		c, err := NewClient("https://example.com", "myAppKey", "myAppSecret")
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			_, _ = c.signer.Sign(now)
		}
	})
}

// benchServer answers every request like the platform, on keep-alive
// loopback.
func benchServer(b *testing.B, tlsServer bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{jsonContentType}
		_, _ = io.WriteString(w, okAnswer)
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
		srv.Config.ErrorLog = discardLogger()
	} else {
		srv = httptest.NewServer(h)
	}
	b.Cleanup(srv.Close)
	return srv
}

// minimalCall is what a careful engineer would write by hand: a
// pre-marshalled body, a pre-signed header, one POST bounded by a
// deadline (a production call needs one; the SDK's default is
// DefaultTimeout), the answer checked for resultcode "0". With deadline
// false it is the bare POST, to show what the deadline itself costs.
func minimalCall(b *testing.B, hc *http.Client, url string, body []byte, xaksk string, deadline bool) {
	ctx := context.Background()
	if deadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header["Content-Type"] = []string{jsonContentType}
	req.Header["Authorization"] = []string{aksk.AuthorizationValue}
	req.Header["X-AKSK"] = []string{xaksk}
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.Contains(data, []byte(`"resultcode":"0"`)) {
		b.Fatalf("minimal call: %v %d", err, resp.StatusCode)
	}
}

// keepAliveTransport is the SDK's transport with keep-alive on, so that
// the benchmarks compare the code of a call rather than TCP handshakes.
func keepAliveTransport(b *testing.B) *http.Transport {
	tr := NewTransport(nil)
	tr.DisableKeepAlives = false
	b.Cleanup(tr.CloseIdleConnections)
	return tr
}

// handwrittenBody is the body struct a careful user declares.
type handwrittenBody struct {
	DisplayNbr     string `json:"displayNbr"`
	CalleeNbr      string `json:"calleeNbr"`
	LanguageType   int    `json:"languageType"`
	PreTone        string `json:"preTone"`
	VerifyCode     string `json:"verifyCode"`
	ReturnIdlePort string `json:"returnIdlePort"`
	UserData       string `json:"userData,omitempty"`
}

// handwrittenAnswer is the answer struct a careful user declares.
type handwrittenAnswer struct {
	ResultCode string `json:"resultcode"`
	ResultDesc string `json:"resultdesc"`
	SessionID  string `json:"sessionId"`
}

// callCodec encodes a hand-written call's body and decodes its answer.
type callCodec struct {
	encode func(handwrittenBody) ([]byte, error)
	decode func([]byte, *handwrittenAnswer) error
}

// jsonCodec is encoding/json, what a careful user writes.
var jsonCodec = callCodec{
	encode: func(body handwrittenBody) ([]byte, error) { return json.Marshal(body) },
	decode: func(data []byte, ans *handwrittenAnswer) error { return json.Unmarshal(data, ans) },
}

// handwrittenCall is what a careful user writes by hand without the SDK:
// sign with a fresh nonce, json.Marshal the body, POST it with a
// deadline, read the answer with a bound and json.Unmarshal it.
func handwrittenCall(b *testing.B, hc *http.Client, url string, req *CallVerifyRequest) {
	handwrittenCallWith(b, hc, url, req, jsonCodec)
}

// handwrittenCallWith is handwrittenCall with the body and the answer
// coded by codec.
func handwrittenCallWith(b *testing.B, hc *http.Client, url string, req *CallVerifyRequest, codec callCodec) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	nonce, err := aksk.NewNonce()
	if err != nil {
		b.Fatal(err)
	}
	xaksk := aksk.Sign("myAppKey", "myAppSecret", nonce, aksk.FormatCreated(time.Now(), time.UTC)).HeaderValue()
	body, err := codec.encode(handwrittenBody{
		DisplayNbr: req.DisplayNumber, CalleeNbr: req.CalleeNumber, LanguageType: req.LanguageType,
		PreTone: req.PreTone, VerifyCode: req.VerifyCode, ReturnIdlePort: "false", UserData: req.UserData,
	})
	if err != nil {
		b.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	hreq.Header.Set("Content-Type", jsonContentType)
	hreq.Header.Set("Authorization", aksk.AuthorizationValue)
	hreq.Header["X-AKSK"] = []string{xaksk}
	resp, err := hc.Do(hreq)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		b.Fatal(err)
	}
	var ans handwrittenAnswer
	if err := codec.decode(data, &ans); err != nil || ans.ResultCode != "0" || ans.SessionID == "" {
		b.Fatalf("handwritten call: %v %q", err, data)
	}
}

func BenchmarkCallVerify(b *testing.B) {
	srv := benchServer(b, false)
	hc := &http.Client{Transport: keepAliveTransport(b)} // the same settings for all, keep-alive
	req := validRequest()
	body, err := marshalBody(req.wire(req.UserData))
	if err != nil {
		b.Fatal(err)
	}
	xaksk := aksk.Sign("myAppKey", "myAppSecret", "66C92B11FF8A425FB8D4CCFE0ED9ED1F", aksk.FormatCreated(time.Now(), nil)).HeaderValue()
	b.Run("impl=minimal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			minimalCall(b, hc, srv.URL+callVerifyPath, body, xaksk, true)
		}
	})
	b.Run("impl=handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			handwrittenCall(b, hc, srv.URL+callVerifyPath, req)
		}
	})
	b.Run("impl=sdk", func(b *testing.B) {
		c, err := NewClient(srv.URL, "myAppKey", "myAppSecret", WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.CallVerify(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			minimalCall(b, hc, srv.URL+callVerifyPath, body, xaksk, false)
		}
	})
}

// BenchmarkCallVerifyPaired measures the pairs of BenchmarkCallVerify
// call by call: each iteration makes one minimal, one hand-written and
// one SDK call, in an order that rotates every iteration, and times each
// call alone. Every SDK call is then compared with baselines made within
// the same microseconds, so the drift of a shared machine cancels out
// (its ratios vary by about 1 % between runs, against 10-20 % for the
// sub-benchmarks), and each implementation follows each other one as
// often. No implementation runs in a hot loop of its own, so caches hold
// a little of each, as in a server where a call is one task among many;
// the ratios come out lower than in BenchmarkCallVerify, whose loops keep
// the smallest implementation hottest. It reports the time of each call
// and the ratios; docs/PERFORMANCE.md gives both benchmarks.
func BenchmarkCallVerifyPaired(b *testing.B) {
	srv := benchServer(b, false)
	hc := &http.Client{Transport: keepAliveTransport(b)}
	req := validRequest()
	body, err := marshalBody(req.wire(req.UserData))
	if err != nil {
		b.Fatal(err)
	}
	xaksk := aksk.Sign("myAppKey", "myAppSecret", "66C92B11FF8A425FB8D4CCFE0ED9ED1F", aksk.FormatCreated(time.Now(), nil)).HeaderValue()
	c, err := NewClient(srv.URL, "myAppKey", "myAppSecret", WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	calls := [...]func(){
		func() { minimalCall(b, hc, srv.URL+callVerifyPath, body, xaksk, true) },
		func() { handwrittenCall(b, hc, srv.URL+callVerifyPath, req) },
		func() {
			if _, err := c.CallVerify(ctx, req); err != nil {
				b.Fatal(err)
			}
		},
	}
	spent, n := timeInTurn(b, calls[:]...)
	minimal, handwritten, sdk := float64(spent[0]), float64(spent[1]), float64(spent[2])
	b.ReportMetric(minimal/float64(n), "ns/minimal")
	b.ReportMetric(handwritten/float64(n), "ns/handwritten")
	b.ReportMetric(sdk/float64(n), "ns/sdk")
	b.ReportMetric(sdk/handwritten, "sdk/handwritten")
	b.ReportMetric(sdk/minimal, "sdk/minimal")
	b.ReportMetric(handwritten/minimal, "handwritten/minimal")
}

// timeInTurn runs calls until b.Loop ends, one of each per iteration in
// an order that rotates every iteration, and times each call alone. It
// returns the time spent in each call and the number of iterations.
func timeInTurn(b *testing.B, calls ...func()) ([]time.Duration, int) {
	spent := make([]time.Duration, len(calls))
	n := 0
	for b.Loop() {
		for k := range calls {
			i := (k + n) % len(calls)
			start := time.Now()
			calls[i]()
			spent[i] += time.Since(start)
		}
		n++
	}
	return spent, n
}

// BenchmarkCallVerifyConn measures what connection handling costs over
// TLS: a pooled connection, the default short connection with and without
// TLS session resumption, and a new transport per call (what the PHP demo
// does with file_get_contents).
func BenchmarkCallVerifyConn(b *testing.B) {
	srv := benchServer(b, true)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	req := validRequest()
	run := func(b *testing.B, newClient func() *Client) {
		c := newClient()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.CallVerify(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("conn=pooled", func(b *testing.B) {
		run(b, func() *Client {
			tr := NewTransport(&tls.Config{RootCAs: roots})
			tr.DisableKeepAlives = false
			b.Cleanup(tr.CloseIdleConnections)
			c, _ := NewClient(srv.URL, "k", "s", WithHTTPClient(&http.Client{Transport: tr}))
			return c
		})
	})
	b.Run("conn=new", func(b *testing.B) {
		// A short connection with a full handshake every time.
		run(b, func() *Client {
			c, _ := NewClient(srv.URL, "k", "s", WithTLSConfig(&tls.Config{RootCAs: roots, ClientSessionCache: noSessionCache{}}))
			return c
		})
	})
	b.Run("conn=new-resumed", func(b *testing.B) {
		// The default: a short connection resuming the TLS session.
		run(b, func() *Client {
			c, _ := NewClient(srv.URL, "k", "s", WithTLSConfig(&tls.Config{RootCAs: roots}))
			return c
		})
	})
	b.Run("conn=transport-per-call", func(b *testing.B) {
		c, _ := NewClient(srv.URL, "k", "s")
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			c.hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
			if _, err := c.CallVerify(ctx, req); err != nil {
				b.Fatal(err)
			}
			c.hc.CloseIdleConnections()
		}
	})
}

// noSessionCache disables TLS resumption: it never returns a session.
type noSessionCache struct{}

func (noSessionCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (noSessionCache) Put(string, *tls.ClientSessionState)        {}
