package aksk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	signTime = time.Date(2018, 2, 12, 15, 30, 20, 0, time.UTC)
	beijing  = time.FixedZone("UTC+8", 8*60*60)
)

// Known-answer vectors of the X-AKSK digest, computed independently with
// Python's hmac, Node.js's crypto.createHmac (the body of the official
// Node.js demo's buildAKSKHeader) and openssl dgst -hmac (docs/PLATFORM.md).
var signVectors = []struct {
	appKey, appSecret, nonce, created, digest string
}{
	{"myAppKey", "myAppSecret", "66C92B11FF8A425FB8D4CCFE0ED9ED1F", "2018-02-12T15:30:20Z", "qDAKD6vQUHYxBBujjIJcYUT7LppgspTk74XMwDuxyz8="},
	{"ZRBRz4bAXoFgEH7o4Ew308eXc1RA", "testAppSecret1234567890", "ac1c911c4792492687f8f6b2264a491e", "2018-05-26T00:35:30Z", "kduDkbPccoB2JXihuMUaHj/NjszUsA0TYWRmzxxThi0="},
}

func TestSignKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, v := range signVectors {
		t.Run(v.appKey, func(t *testing.T) {
			t.Parallel()
			tok := Sign(v.appKey, v.appSecret, v.nonce, v.created)
			assert.Equal(t, v.digest, tok.PasswordDigest)
			assert.Equal(t, v.appKey, tok.Username)
			assert.Equal(t, v.nonce, tok.Nonce)
			assert.Equal(t, v.created, tok.Created)
		})
	}
}

func TestHeaderValueLayout(t *testing.T) {
	t.Parallel()
	v := signVectors[0]
	got := Sign(v.appKey, v.appSecret, v.nonce, v.created).HeaderValue()
	assert.Equal(t, `UsernameToken Username="myAppKey",PasswordDigest="qDAKD6vQUHYxBBujjIJcYUT7LppgspTk74XMwDuxyz8=",Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"`, got)
}

func TestNewNonceIsFreshHex(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		n, err := NewNonce()
		require.NoError(t, err)
		require.Len(t, n, 32)
		require.Equal(t, "", strings.Trim(n, "0123456789abcdef"), "lowercase hex only")
		require.False(t, seen[n], "nonce repeated")
		seen[n] = true
	}
}

func TestFormatCreated(t *testing.T) {
	t.Parallel()
	ts := time.Date(2018, 2, 12, 15, 30, 20, 999_000_000, time.UTC)
	assert.Equal(t, "2018-02-12T15:30:20Z", FormatCreated(ts, nil))
	assert.Equal(t, "2018-02-12T15:30:20Z", FormatCreated(ts, time.UTC))
	assert.Equal(t, "2018-02-12T23:30:20Z", FormatCreated(ts, beijing), "Beijing time keeps the literal Z")
	assert.Equal(t, "2018-02-12T15:30:20Z", FormatCreated(ts.In(beijing), time.UTC))
}

func TestParse(t *testing.T) {
	t.Parallel()
	full := Signature{Username: "k", PasswordDigest: "d=", Nonce: "n1", Created: "2018-02-12T15:30:20Z"}
	tests := []struct {
		name    string
		in      string
		want    Signature
		missing []string // fields named in the error; nil for success
	}{
		{"demo layout", `UsernameToken Username="k",PasswordDigest="d=",Nonce="n1",Created="2018-02-12T15:30:20Z"`, full, nil},
		{"template layout with spaces", `UsernameToken Username="k", PasswordDigest="d=", Nonce="n1", Created="2018-02-12T15:30:20Z"`, full, nil},
		{"any order and case", `UsernameToken Created="2018-02-12T15:30:20Z",nonce="n1",UserName="k",passworddigest="d="`, full, nil},
		{"unknown field ignored", `UsernameToken Username="k",PasswordDigest="d=",Nonce="n1",Created="2018-02-12T15:30:20Z",Extra="x"`, full, nil},
		{"no nonce", `UsernameToken Username="k",PasswordDigest="d=",Created="2018-02-12T15:30:20Z"`, Signature{Username: "k", PasswordDigest: "d=", Created: full.Created}, []string{"Nonce"}},
		{"empty username", `UsernameToken Username="",PasswordDigest="d=",Nonce="n1",Created="c"`, Signature{PasswordDigest: "d=", Nonce: "n1", Created: "c"}, []string{"Username"}},
		{"only scheme", `UsernameToken `, Signature{}, []string{"X-AKSK"}},
		{"wrong scheme", `WSSE Username="k"`, Signature{}, []string{"X-AKSK"}},
		{"unquoted", `UsernameToken Username=k`, Signature{}, []string{"X-AKSK"}},
		{"unterminated", `UsernameToken Username="k`, Signature{}, []string{"X-AKSK"}},
		{"trailing comma", `UsernameToken Username="k",`, Signature{Username: "k"}, []string{"X-AKSK"}},
		{"duplicate", `UsernameToken Username="k",Username="j"`, Signature{Username: "k"}, []string{"Username"}},
		{"missing comma", `UsernameToken Username="k" Nonce="n"`, Signature{Username: "k"}, []string{"X-AKSK"}},
		{"empty", ``, Signature{}, []string{"X-AKSK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			assert.Equal(t, tt.want, got)
			if tt.missing == nil {
				require.NoError(t, err)
				return
			}
			var perr *ParseError
			require.ErrorAs(t, err, &perr)
			for _, f := range tt.missing {
				assert.True(t, perr.Has(f), "error %q should name %s", err, f)
			}
		})
	}
}

func TestSignaturePrintingRedacts(t *testing.T) {
	t.Parallel()
	v := signVectors[0]
	tok := Sign(v.appKey, v.appSecret, v.nonce, v.created)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "token", tok)
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%s|%v", tok, tok), logged.String()} {
		assert.NotContains(t, out, v.digest)
		assert.NotContains(t, out, v.nonce)
		assert.Contains(t, out, v.appKey)
	}
}

func TestValidNonce(t *testing.T) {
	t.Parallel()
	assert.True(t, ValidNonce("a"))
	assert.True(t, ValidNonce(strings.Repeat("Z9", 64)))
	assert.False(t, ValidNonce(""))
	assert.False(t, ValidNonce(strings.Repeat("a", 129)))
	assert.False(t, ValidNonce("abc-def"))
	assert.False(t, ValidNonce("abc def"))
}

// FuzzParse: the X-AKSK parser never panics, and what it accepts
// survives a format/parse round trip.
func FuzzParse(f *testing.F) {
	for _, v := range signVectors {
		f.Add(Sign(v.appKey, v.appSecret, v.nonce, v.created).HeaderValue())
	}
	f.Add(`UsernameToken Username="k", PasswordDigest="d", Nonce="n", Created="c"`)
	f.Add(`UsernameToken Created="c",nonce="n",USERNAME="k",PasswordDigest="d",X="y"`)
	f.Add(`UsernameToken Username="k",,Nonce="n"`)
	f.Add(`UsernameToken Username="`)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		if tok.Username == "" || tok.PasswordDigest == "" || tok.Nonce == "" || tok.Created == "" {
			t.Fatalf("accepted a token with an empty field: %q", s)
		}
		again, err := Parse(tok.HeaderValue())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", tok.HeaderValue(), err)
		}
		if again != tok {
			t.Fatalf("round trip changed %+v into %+v", tok, again)
		}
	})
}

// appendCreated is time's formatting of CreatedLayout, done by hand.
func TestAppendCreatedMatchesTimeFormat(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		signTime, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 0, beijing), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC(),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*7919*3607, 0).UTC())
	}
	for _, tm := range times {
		assert.Equal(t, tm.Format(CreatedLayout), string(appendCreated(nil, tm)), "%v", tm)
	}
}

// Push signature vectors: computed independently (Python hmac, Node.js
// crypto) for the example values of Huawei's notification pages.
const (
	pushSecret  = "myAppSecret"
	pushNonce   = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
	pushCreated = "2018-02-12T15:30:20Z"
	pushURL     = "https://www.huawei.com:9330/fee"
)

func TestSignPushVectors(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ=", SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutNewline).PasswordDigest)
	assert.Equal(t, "RTbVvFrV4Ou9k4XJOkUnTdp43hklwbbcONn4Jbpz5FY=", SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutConcat).PasswordDigest)
	assert.Equal(t, SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, PushLayoutNewline), SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, 0))
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, v := range signVectors {
		sig := Signature{Username: v.appKey, PasswordDigest: v.digest, Nonce: v.nonce, Created: v.created}
		assert.True(t, Verify(sig, v.appSecret), "vector %s", v.appKey)
		assert.False(t, Verify(sig, v.appSecret+"x"), "another secret")
		other := sig
		other.Created = "2018-02-12T15:30:21Z"
		assert.False(t, Verify(other, v.appSecret), "another Created")
		unpadded := sig
		unpadded.PasswordDigest = strings.TrimRight(v.digest, "=")
		assert.False(t, Verify(unpadded, v.appSecret), "unpadded digest")
	}
	short := Signature{PasswordDigest: base64.StdEncoding.EncodeToString(make([]byte, 31))}
	assert.False(t, Verify(short, ""), "31-byte digest")
}

func TestVerifyPush(t *testing.T) {
	t.Parallel()
	for _, layout := range []PushLayout{PushLayoutNewline, PushLayoutConcat} {
		sig := SignPush("k", pushSecret, pushURL, pushNonce, pushCreated, layout)
		assert.True(t, VerifyPush(sig, pushSecret, pushURL), "layout %d", layout)
		assert.True(t, VerifyPush(sig, pushSecret, "https://a.example/status", pushURL), "second URL, layout %d", layout)
		assert.False(t, VerifyPush(sig, pushSecret, "https://www.huawei.com:9330/status"), "another URL")
		assert.False(t, VerifyPush(sig, pushSecret), "no URL")
		assert.False(t, VerifyPush(sig, "other", pushURL), "another secret")
		// A request signature of the same nonce and Created is not a push's.
		assert.False(t, VerifyPush(Sign("k", pushSecret, pushNonce, pushCreated), pushSecret, pushURL))
	}
}

func TestParseErrorNamesFieldsNotValues(t *testing.T) {
	t.Parallel()
	_, err := Parse(`UsernameToken Username="secretish",PasswordDigest="qDAKD6vQUHYxBBujjIJcYUT7LppgspTk74XMwDuxyz8="`)
	var perr *ParseError
	require.True(t, errors.As(err, &perr))
	assert.Equal(t, []string{"Nonce", "Created"}, perr.Fields)
	assert.False(t, perr.Has("Username"))
	assert.Equal(t, "aksk: parse X-AKSK: Nonce, Created: missing or empty", err.Error())
	assert.NotContains(t, err.Error(), "qDAKD6")
}

func TestSignerMatchesSign(t *testing.T) {
	t.Parallel()
	s := NewSigner("myAppKey", "myAppSecret", nil)
	seen := map[string]bool{}
	for range 20 {
		hv, sig := s.Sign(signTime)
		parsed, err := Parse(hv)
		require.NoError(t, err)
		assert.Equal(t, parsed, sig, "the returned fields are the value's")
		assert.Equal(t, hv, sig.HeaderValue(), "the signer's layout is the documented one")
		assert.Equal(t, Sign("myAppKey", "myAppSecret", sig.Nonce, sig.Created), sig)
		assert.True(t, Verify(sig, "myAppSecret"))
		assert.Equal(t, "2018-02-12T15:30:20Z", sig.Created, "nil location is UTC")
		assert.Len(t, sig.Nonce, 32)
		assert.True(t, ValidNonce(sig.Nonce))
		assert.False(t, seen[sig.Nonce], "nonce repeated")
		seen[sig.Nonce] = true
	}
	_, sig := NewSigner("k", "s", beijing).Sign(signTime.Add(time.Second))
	assert.Equal(t, "2018-02-12T23:30:21Z", sig.Created, "Created in the signer's zone, literal Z")
}

// The signer's scratch space is shared: concurrent signatures must not
// corrupt each other (run with -race).
func TestSignerConcurrent(t *testing.T) {
	t.Parallel()
	s := NewSigner("k", "s", nil)
	var wg sync.WaitGroup
	errs := make(chan string, 8*50)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				hv, sig := s.Sign(signTime)
				m := hmac.New(sha256.New, []byte("s"))
				m.Write([]byte(sig.Nonce + sig.Created))
				if sig.PasswordDigest != base64.StdEncoding.EncodeToString(m.Sum(nil)) || hv != sig.HeaderValue() {
					errs <- hv
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for hv := range errs {
		t.Errorf("corrupt signature %s", hv)
	}
}

var sinkSig Signature

func BenchmarkSigner(b *testing.B) {
	s := NewSigner("myAppKey", "myAppSecret", nil)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, sinkSig = s.Sign(now)
	}
}
