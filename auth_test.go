package voicecall

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, "2018-02-12T23:30:20Z", FormatCreated(ts, BeijingTime()), "Beijing time keeps the literal Z")
	assert.Equal(t, "2018-02-12T15:30:20Z", FormatCreated(ts.In(BeijingTime()), time.UTC))
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	full := Token{Username: "k", PasswordDigest: "d=", Nonce: "n1", Created: "2018-02-12T15:30:20Z"}
	tests := []struct {
		name    string
		in      string
		want    Token
		missing []string // fields named in the error; nil for success
	}{
		{"demo layout", `UsernameToken Username="k",PasswordDigest="d=",Nonce="n1",Created="2018-02-12T15:30:20Z"`, full, nil},
		{"template layout with spaces", `UsernameToken Username="k", PasswordDigest="d=", Nonce="n1", Created="2018-02-12T15:30:20Z"`, full, nil},
		{"any order and case", `UsernameToken Created="2018-02-12T15:30:20Z",nonce="n1",UserName="k",passworddigest="d="`, full, nil},
		{"unknown field ignored", `UsernameToken Username="k",PasswordDigest="d=",Nonce="n1",Created="2018-02-12T15:30:20Z",Extra="x"`, full, nil},
		{"no nonce", `UsernameToken Username="k",PasswordDigest="d=",Created="2018-02-12T15:30:20Z"`, Token{Username: "k", PasswordDigest: "d=", Created: full.Created}, []string{"Nonce"}},
		{"empty username", `UsernameToken Username="",PasswordDigest="d=",Nonce="n1",Created="c"`, Token{PasswordDigest: "d=", Nonce: "n1", Created: "c"}, []string{"Username"}},
		{"only scheme", `UsernameToken `, Token{}, []string{"X-AKSK"}},
		{"wrong scheme", `WSSE Username="k"`, Token{}, []string{"X-AKSK"}},
		{"unquoted", `UsernameToken Username=k`, Token{}, []string{"X-AKSK"}},
		{"unterminated", `UsernameToken Username="k`, Token{}, []string{"X-AKSK"}},
		{"trailing comma", `UsernameToken Username="k",`, Token{Username: "k"}, []string{"X-AKSK"}},
		{"duplicate", `UsernameToken Username="k",Username="j"`, Token{Username: "k"}, []string{"Username"}},
		{"missing comma", `UsernameToken Username="k" Nonce="n"`, Token{Username: "k"}, []string{"X-AKSK"}},
		{"empty", ``, Token{}, []string{"X-AKSK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseToken(tt.in)
			assert.Equal(t, tt.want, got)
			if tt.missing == nil {
				require.NoError(t, err)
				return
			}
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			for _, f := range tt.missing {
				assert.True(t, verr.Has(f), "error %q should name %s", err, f)
			}
		})
	}
}

func TestTokenPrintingRedacts(t *testing.T) {
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

// appendCreated is time's formatting of CreatedLayout, done by hand.
func TestAppendCreatedMatchesTimeFormat(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		signTime, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 9, 5, 7, 0, BeijingTime()), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC(),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*7919*3607, 0).UTC())
	}
	for _, tm := range times {
		assert.Equal(t, tm.Format(CreatedLayout), string(appendCreated(nil, tm)), "%v", tm)
	}
}
