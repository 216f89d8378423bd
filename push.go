package voicecall

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

// PushLayout is the message layout of a signed push's PasswordDigest;
// Huawei's pages disagree (voicecall-api.md §5.2).
type PushLayout int

// Push signature layouts.
const (
	// PushLayoutNewline: HMAC over url + "\n" + nonce + "\n" + created
	// (2026 pages).
	PushLayoutNewline PushLayout = iota + 1
	// PushLayoutConcat: HMAC over url + nonce + created (2023 page).
	PushLayoutConcat
)

// SignPush returns the X-AKSK token of a push to url, as Huawei's
// notification pages describe it: PasswordDigest = Base64(HMAC-SHA256(
// appSecret, message)) with the message laid out as layout says (any
// value other than [PushLayoutConcat] means [PushLayoutNewline]). Test
// servers use it to sign the pushes a [Handler] verifies.
func SignPush(appKey, appSecret, url, nonce, created string, layout PushLayout) Token {
	m := hmac.New(sha256.New, []byte(appSecret))
	var sum [sha256.Size]byte
	return Token{
		Username:       appKey,
		PasswordDigest: base64.StdEncoding.EncodeToString(pushMAC(m, sum[:0], []byte(url), nonce, created, layout)),
		Nonce:          nonce,
		Created:        created,
	}
}

// pushMAC resets the keyed HMAC m and appends the MAC of the push
// message to dst.
func pushMAC(m hash.Hash, dst, url []byte, nonce, created string, layout PushLayout) []byte {
	m.Reset()
	_, _ = m.Write(url)
	if layout != PushLayoutConcat {
		_, _ = m.Write([]byte{'\n'})
	}
	_, _ = m.Write([]byte(nonce))
	if layout != PushLayoutConcat {
		_, _ = m.Write([]byte{'\n'})
	}
	_, _ = m.Write([]byte(created))
	return m.Sum(dst)
}

// PushVerification configures the optional check of signed pushes. Huawei's
// FAQ says pushes carry no authentication at all, while its 2023 and
// 2026 API pages describe an X-AKSK header on pushes with
// PasswordDigest = Base64(HMAC-SHA256(app secret, url + nonce + created)),
// with or without "\n" between the parts (voicecall-api.md §5.2). Turn it
// on only after checking that your pushes carry the header.
//
// A push passes when it carries exactly one X-AKSK header that
// [ParseToken] accepts, whose Username is AppKey (when set), whose
// Created (layout [CreatedLayout]) minus CreatedOffset is within
// Tolerance of the receiver's clock, in either direction, whose
// PasswordDigest decodes to the 32-byte HMAC-SHA256 of one of URLs in
// either layout (compared with [hmac.Equal]), and whose Nonce and Created
// were not seen in another passing push within the tolerance window
// (replay). Anything else is answered 401.
type PushVerification struct {
	// AppSecret is the HMAC key, the app's secret (required).
	AppSecret string

	// AppKey, when set, must equal the token's Username.
	AppKey string

	// URLs are the push URLs exactly as configured at the platform (the
	// statusUrl and feeUrl of the requests, or the console's addresses),
	// e.g. "https://hooks.example.com:9330/fee" (at least one). The
	// request URL is never used: proxies rewrite it. Each URL is also
	// tried with its default port added or removed (":443" for https,
	// ":80" for http), because senders differ on that.
	URLs []string

	// Tolerance is how far Created may be from the receiver's clock;
	// 0 means [DefaultPushTolerance] (5 minutes).
	Tolerance time.Duration

	// CreatedOffset is how far the sender's Created clock runs ahead of
	// UTC: 8*time.Hour if the platform writes Beijing time with a "Z", as
	// its 2026 pages say; 0 for UTC, as its 2023 pages say.
	CreatedOffset time.Duration

	// AllowUnsigned accepts pushes without an X-AKSK header (a header
	// that is present must still be valid). It protects nothing; use it
	// to find out from the logs whether the platform signs pushes.
	AllowUnsigned bool
}

// pushVerifier is a compiled PushVerification.
type pushVerifier struct {
	appKey        string
	urls          [][]byte
	tolerance     time.Duration
	offset        time.Duration
	allowUnsigned bool
	macs          sync.Pool // of hash.Hash keyed with the secret

	mu     sync.Mutex
	replay fifoMap[struct{}]
}

func newPushVerifier(c *PushVerification) (*pushVerifier, error) {
	const op = "new handler: invalid Verification."
	if c.AppSecret == "" {
		return nil, errf(op + "AppSecret: missing")
	}
	if len(c.URLs) == 0 {
		return nil, errf(op + "URLs: missing")
	}
	if c.Tolerance < 0 {
		return nil, errf(op + "Tolerance: must not be negative")
	}
	v := &pushVerifier{
		appKey:        c.AppKey,
		tolerance:     c.Tolerance,
		offset:        c.CreatedOffset,
		allowUnsigned: c.AllowUnsigned,
		replay:        newFIFOMap[struct{}](maxReplayEntries),
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultPushTolerance
	}
	seen := map[string]bool{}
	for i, raw := range c.URLs {
		variants, err := urlVariants(raw)
		if err != nil {
			return nil, errf(op+"URLs[%d]: %s", i, err)
		}
		for _, u := range variants {
			if !seen[u] {
				seen[u] = true
				v.urls = append(v.urls, []byte(u))
			}
		}
	}
	key := []byte(c.AppSecret)
	v.macs.New = func() any { return hmac.New(sha256.New, key) }
	return v, nil
}

// urlVariants returns raw, and raw with its default port removed or
// added.
func urlVariants(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("must be an absolute http or https URL")
	}
	def := "443"
	if u.Scheme == "http" {
		def = "80"
	}
	out := []string{raw}
	host, port, err := net.SplitHostPort(u.Host)
	alt := *u
	switch {
	case err == nil && port == def:
		alt.Host = host
		if strings.Contains(host, ":") {
			alt.Host = "[" + host + "]"
		}
	case err != nil:
		alt.Host = net.JoinHostPort(strings.Trim(u.Host, "[]"), def)
	default:
		return out, nil
	}
	return append(out, alt.String()), nil
}

// Reasons a push fails verification; logged, and sent in the 401 body.
var (
	errPushUnsigned = errors.New("push verification: no X-AKSK header")
	errPushHeaders  = errors.New("push verification: more than one X-AKSK header")
	errPushToken    = errors.New("push verification: X-AKSK cannot be parsed")
	errPushAppKey   = errors.New("push verification: X-AKSK Username is not the app key")
	errPushCreated  = errors.New("push verification: X-AKSK Created is not of the layout 2006-01-02T15:04:05Z")
	errPushStale    = errors.New("push verification: X-AKSK Created is outside the tolerance window")
	errPushDigest   = errors.New("push verification: X-AKSK PasswordDigest does not match")
	errPushReplay   = errors.New("push verification: X-AKSK Nonce was already used")
)

// verify checks the X-AKSK header values of a push at time now.
func (v *pushVerifier) verify(values []string, now time.Time) error {
	switch len(values) {
	case 0:
		if v.allowUnsigned {
			return nil
		}
		return errPushUnsigned
	case 1:
	default:
		return errPushHeaders
	}
	tok, err := ParseToken(values[0])
	if err != nil || len(tok.Nonce) > MaxNonceLen {
		return errPushToken
	}
	if v.appKey != "" && tok.Username != v.appKey {
		return errPushAppKey
	}
	created, err := time.Parse(CreatedLayout, tok.Created)
	if err != nil {
		return errPushCreated
	}
	if d := now.Sub(created.Add(-v.offset)); d > v.tolerance || d < -v.tolerance {
		return errPushStale
	}
	// 44 Base64 characters decode to up to 33 bytes (without padding):
	// Decode needs room for DecodedLen, then exactly 32 must come out.
	var got [sha256.Size + 1]byte
	if len(tok.PasswordDigest) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return errPushDigest
	}
	if n, err := base64.StdEncoding.Decode(got[:], []byte(tok.PasswordDigest)); err != nil || n != sha256.Size {
		return errPushDigest
	}
	m, _ := v.macs.Get().(hash.Hash)
	ok := false
	var want [sha256.Size]byte
	for _, u := range v.urls {
		for _, layout := range [...]PushLayout{PushLayoutNewline, PushLayoutConcat} {
			if hmac.Equal(got[:sha256.Size], pushMAC(m, want[:0], u, tok.Nonce, tok.Created, layout)) {
				ok = true
			}
		}
	}
	v.macs.Put(m)
	if !ok {
		return errPushDigest
	}
	key := tok.Nonce + "\x00" + tok.Created
	v.mu.Lock()
	defer v.mu.Unlock()
	v.replay.purge(now)
	if _, seen := v.replay.get(key, now); seen {
		return errPushReplay
	}
	v.replay.put(key, struct{}{}, now.Add(2*v.tolerance))
	return nil
}
