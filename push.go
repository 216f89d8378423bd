package voicecall

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/internal/expiring"
	"github.com/voicecall-go/voicecall/internal/redact"
)

// PushVerification configures the optional check of signed pushes.
// Huawei's FAQ says pushes carry no authentication at all, while its
// voice-call notification API pages (2023 and 2026 editions) describe an
// X-AKSK header on pushes with PasswordDigest = Base64(HMAC-SHA256(app
// secret, url + nonce + created)), with or without "\n" between the parts.
// Turn it on only after checking that your pushes carry the header.
//
// A push passes when it carries exactly one X-AKSK header that
// [aksk.Parse] accepts, whose Username is an app key configured here
// (any Username, when only AppSecret is set without AppKey), whose
// Created (layout [aksk.CreatedLayout]) minus CreatedOffset (or one of
// CreatedOffsets) is within
// Tolerance of the receiver's clock, in either direction, whose
// PasswordDigest decodes to the 32-byte HMAC-SHA256, under one of that
// app's secrets, of one of URLs in either layout (compared with
// [hmac.Equal]), and whose Username, Nonce and Created were not seen in
// another passing push within the tolerance window (replay). Anything
// else is answered 401. The replay cache keeps every nonce of its
// window, up to 131,072 (2^17); when it is full, pushes are answered
// 503 (the platform re-pushes CDRs) rather than a nonce being forgotten.
type PushVerification struct {
	// AppSecret is the HMAC key of a receiver that serves one app, with
	// AppKey its key (when AppKey is empty, any Username is accepted with
	// this secret). Set AppSecret or Secrets.
	AppSecret string

	// AppKey, when set, must equal the token's Username.
	AppKey string

	// Secrets maps each app key the receiver serves to its secrets: a
	// receiver often serves several apps (each Voice Call capability is
	// an app with its own key and secret), and during a rotation an app
	// has two secrets. The push's Username chooses the app; any of its
	// secrets may have signed it. Set AppSecret or Secrets.
	Secrets map[string][]string

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

	// CreatedOffsets lists further readings of Created, each tried like
	// CreatedOffset: with CreatedOffset 0 and CreatedOffsets
	// []time.Duration{0, 8 * time.Hour}, a push passes whether the
	// platform writes UTC (Huawei's 2023 pages) or Beijing time with a
	// "Z" (its 2026 pages). Each reading widens the
	// window in which a captured push can be replayed elsewhere by
	// nothing (the replay cache still refuses it here).
	CreatedOffsets []time.Duration

	// AllowUnsigned accepts pushes without an X-AKSK header (a header
	// that is present must still be valid). It protects nothing; use it
	// to find out from the logs whether the platform signs pushes.
	AllowUnsigned bool
}

// maxReplayNonces bounds the nonces push verification remembers: every
// passing push of the last 2 × Tolerance, at 68 bytes each (8.9 MB).
const maxReplayNonces = 1 << 17

// pushVerifier is a compiled PushVerification.
type pushVerifier struct {
	secrets       map[string][]string // app key -> HMAC keys
	anyKey        []string            // HMAC keys for any Username
	urls          []string
	tolerance     time.Duration
	offsets       []time.Duration
	allowUnsigned bool

	mu     sync.Mutex
	replay *expiring.Map[DedupKey, struct{}]
}

func newPushVerifier(c *PushVerification) (*pushVerifier, error) {
	const op = "new handler: invalid Verification."
	switch {
	case c.AppSecret == "" && len(c.Secrets) == 0:
		return nil, errf(op + "AppSecret: missing (set AppSecret or Secrets)")
	case c.AppSecret != "" && len(c.Secrets) > 0:
		return nil, errf(op + "Secrets: set AppSecret or Secrets, not both")
	case c.AppSecret == "" && c.AppKey != "":
		return nil, errf(op + "AppSecret: missing for AppKey")
	}
	if len(c.URLs) == 0 {
		return nil, errf(op + "URLs: missing")
	}
	if c.Tolerance < 0 {
		return nil, errf(op + "Tolerance: must not be negative")
	}
	v := &pushVerifier{
		secrets:       map[string][]string{},
		tolerance:     c.Tolerance,
		offsets:       []time.Duration{c.CreatedOffset},
		allowUnsigned: c.AllowUnsigned,
		replay:        expiring.New[DedupKey, struct{}](int64(maxReplayNonces)*int64(expiring.EntryOverhead[DedupKey, struct{}]()), nil, expiring.Refuse),
	}
	switch {
	case c.AppSecret != "" && c.AppKey == "":
		v.anyKey = []string{c.AppSecret}
	case c.AppSecret != "":
		v.secrets[c.AppKey] = []string{c.AppSecret}
	}
	for key, secrets := range c.Secrets {
		if key == "" {
			return nil, errf(op + "Secrets: empty app key")
		}
		if len(secrets) == 0 {
			return nil, errf(op+"Secrets[%q]: no secret", redact.Text(key, 32))
		}
		for _, sec := range secrets {
			if sec == "" {
				return nil, errf(op+"Secrets[%q]: empty secret", redact.Text(key, 32))
			}
			v.secrets[key] = append(v.secrets[key], sec)
		}
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultPushTolerance
	}
	for _, off := range c.CreatedOffsets {
		if !slices.Contains(v.offsets, off) {
			v.offsets = append(v.offsets, off)
		}
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
				v.urls = append(v.urls, u)
			}
		}
	}
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
	errPushAppKey   = errors.New("push verification: X-AKSK Username is not a configured app key")
	errPushCreated  = errors.New("push verification: X-AKSK Created is not of the layout 2006-01-02T15:04:05Z")
	errPushStale    = errors.New("push verification: X-AKSK Created is outside the tolerance window")
	errPushDigest   = errors.New("push verification: X-AKSK PasswordDigest does not match")
	errPushReplay   = errors.New("push verification: X-AKSK Nonce was already used")
	errReplayFull   = errors.New("push verification: the replay cache is full; retry later")
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
	tok, err := aksk.Parse(values[0])
	if err != nil || len(tok.Nonce) > aksk.MaxNonceLen {
		return errPushToken
	}
	keys := v.anyKey
	if keys == nil {
		keys = v.secrets[tok.Username]
	}
	if len(keys) == 0 {
		return errPushAppKey
	}
	created, err := time.Parse(aksk.CreatedLayout, tok.Created)
	if err != nil {
		return errPushCreated
	}
	fresh := false
	for _, off := range v.offsets {
		if d := now.Sub(created.Add(-off)); d <= v.tolerance && d >= -v.tolerance {
			fresh = true
		}
	}
	if !fresh {
		return errPushStale
	}
	ok := false
	for _, k := range keys {
		if aksk.VerifyPush(tok, k, v.urls...) {
			ok = true
		}
	}
	if !ok {
		return errPushDigest
	}
	var buf [256]byte
	d := digest{buf: buf[:0]}
	d.str(tok.Username)
	d.str(tok.Nonce)
	d.str(tok.Created)
	key := d.key()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.replay.Purge(now)
	if _, seen := v.replay.Get(key, now); seen {
		return errPushReplay
	}
	if !v.replay.Put(key, struct{}{}, now.Add(2*v.tolerance), now) {
		return errReplayFull
	}
	return nil
}
