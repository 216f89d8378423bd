package voicecall

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Wire constants of the X-AKSK authentication scheme, as Huawei's API
// pages (for example "语音验证码场景API") state them.
const (
	// ContentType is the Content-Type the platform requires on every request.
	ContentType = "application/json;charset=UTF-8"

	// AuthorizationValue is the fixed value of the Authorization header.
	// The platform checks realm, profile and type (result codes 1023007-1023012).
	AuthorizationValue = `AKSK realm="SDP",profile="UsernameToken",type="Appkey"`

	// HeaderXAKSK is the name of the header that carries the signed [Token].
	HeaderXAKSK = "X-AKSK"

	// CreatedLayout is the [time] layout of Token.Created: seconds
	// precision and a literal "Z", whatever the time zone (see
	// [WithCreatedLocation]).
	CreatedLayout = "2006-01-02T15:04:05Z"

	// MaxNonceLen is the longest nonce the platform accepts.
	MaxNonceLen = 128
)

// beijing is UTC+8, the zone some of Huawei's pages say Created is in.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// BeijingTime returns the fixed UTC+8 zone (China Standard Time, no
// daylight saving). Pass it to [WithCreatedLocation] if the platform
// answers 1010013 with a correct clock; see the package documentation.
func BeijingTime() *time.Location { return beijing }

// FormatCreated formats t in loc (UTC when loc is nil) with [CreatedLayout].
func FormatCreated(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var buf [len(CreatedLayout)]byte
	return string(appendCreated(buf[:0], t.In(loc)))
}

// appendCreated appends t as t.AppendFormat(b, CreatedLayout) would, for
// years 0-9999, without parsing the layout: formatting the layout costs
// as much as the HMAC of a signature. A test checks the two agree.
func appendCreated(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, CreatedLayout)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	for i, v := range [5]int{int(mo), d, h, mi, s} {
		b = append(b, byte('0'+v/10), byte('0'+v%10), "-T::Z"[i])
	}
	return b
}

// Token is the content of an X-AKSK header:
//
//	UsernameToken Username="<app key>",PasswordDigest="<digest>",Nonce="<nonce>",Created="<created>"
//
// A Token is a bearer credential inside the platform's clock-skew window,
// so its String, GoString and LogValue methods redact the digest and the
// nonce. Use [Token.HeaderValue] to obtain the wire form.
type Token struct {
	// Username is the app key (APP_Key on the console).
	Username string
	// PasswordDigest is Base64(HMAC-SHA256(app secret, Nonce+Created)),
	// standard alphabet with padding.
	PasswordDigest string
	// Nonce is a random string of 1-128 characters from [0-9A-Za-z].
	Nonce string
	// Created is the signing time formatted with [CreatedLayout].
	Created string
}

// Sign returns the token for one request. It is a pure function:
// PasswordDigest = Base64(HMAC-SHA256(key = appSecret, message = nonce + created)),
// with the secret used verbatim as the key (not Base64-decoded).
// Use [NewNonce] and [FormatCreated] for the last two arguments.
func Sign(appKey, appSecret, nonce, created string) Token {
	m := hmac.New(sha256.New, []byte(appSecret))
	_, _ = m.Write([]byte(nonce + created)) // hash.Hash.Write never returns an error
	return Token{
		Username:       appKey,
		PasswordDigest: base64.StdEncoding.EncodeToString(m.Sum(nil)),
		Nonce:          nonce,
		Created:        created,
	}
}

// HeaderValue returns the X-AKSK header value in the layout of Huawei's
// examples and demos: no space after the commas, fields in the order
// Username, PasswordDigest, Nonce, Created, each value double-quoted.
func (t Token) HeaderValue() string {
	var b strings.Builder
	b.Grow(64 + len(t.Username) + len(t.PasswordDigest) + len(t.Nonce) + len(t.Created))
	b.WriteString(`UsernameToken Username="`)
	b.WriteString(t.Username)
	b.WriteString(`",PasswordDigest="`)
	b.WriteString(t.PasswordDigest)
	b.WriteString(`",Nonce="`)
	b.WriteString(t.Nonce)
	b.WriteString(`",Created="`)
	b.WriteString(t.Created)
	b.WriteString(`"`)
	return b.String()
}

// String returns the header value with PasswordDigest and Nonce redacted.
func (t Token) String() string {
	return Token{Username: t.Username, PasswordDigest: redacted, Nonce: redacted, Created: t.Created}.HeaderValue()
}

// GoString redacts like [Token.String], so %#v is safe too.
func (t Token) GoString() string {
	return fmt.Sprintf("voicecall.Token{Username:%q, PasswordDigest:%q, Nonce:%q, Created:%q}", t.Username, redacted, redacted, t.Created)
}

// LogValue implements [slog.LogValuer] with the digest and nonce redacted.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", t.Username), slog.String("created", t.Created))
}

const redacted = "REDACTED"

// Token field names as they appear in the header, in wire order.
var tokenFields = [...]string{"Username", "PasswordDigest", "Nonce", "Created"}

// ParseToken parses an X-AKSK header value. It is the inverse of
// [Token.HeaderValue] and accepts what the platform documents or shows:
// the "UsernameToken" scheme word, fields separated by commas with
// optional spaces (Huawei's template has a space after each comma, its
// examples have none), field names matched case-insensitively (the
// platform's own messages say "UserName"), in any order. Values must be
// double-quoted and contain no quote. Unknown fields are ignored.
//
// On error the returned Token holds the fields that were parsed, and the
// error is a *[ValidationError] naming the missing or malformed fields
// ("Username", "PasswordDigest", "Nonce", "Created", or "X-AKSK" for a
// syntax error), so that a server can answer with the matching code.
func ParseToken(value string) (Token, error) {
	var t Token
	rest, ok := cutWord(strings.TrimSpace(value), "UsernameToken")
	if !ok {
		return t, newValidationError("parse X-AKSK", FieldError{Field: HeaderXAKSK, Problem: `must start with "UsernameToken "`})
	}
	var seen [len(tokenFields)]bool
	for rest = strings.TrimLeft(rest, " \t"); rest != ""; {
		name, after, found := strings.Cut(rest, "=")
		name = strings.TrimSpace(name)
		if !found || name == "" || !strings.HasPrefix(after, `"`) {
			return t, newValidationError("parse X-AKSK", FieldError{Field: HeaderXAKSK, Problem: "expected name=\"value\" pairs separated by commas"})
		}
		val, tail, closed := strings.Cut(after[1:], `"`)
		if !closed {
			return t, newValidationError("parse X-AKSK", FieldError{Field: HeaderXAKSK, Problem: "unterminated quoted value"})
		}
		for i, f := range tokenFields {
			if !strings.EqualFold(name, f) {
				continue
			}
			if seen[i] {
				return t, newValidationError("parse X-AKSK", FieldError{Field: f, Problem: "appears twice"})
			}
			seen[i] = true
			*t.field(i) = val
		}
		tail = strings.TrimLeft(tail, " \t")
		if tail != "" {
			if tail[0] != ',' {
				return t, newValidationError("parse X-AKSK", FieldError{Field: HeaderXAKSK, Problem: "expected a comma between fields"})
			}
			tail = strings.TrimLeft(tail[1:], " \t")
			if tail == "" {
				return t, newValidationError("parse X-AKSK", FieldError{Field: HeaderXAKSK, Problem: "trailing comma"})
			}
		}
		rest = tail
	}
	var missing []FieldError
	for i, f := range tokenFields {
		if *t.field(i) == "" {
			missing = append(missing, FieldError{Field: f, Problem: "missing or empty"})
		}
	}
	if missing != nil {
		return t, newValidationError("parse X-AKSK", missing...)
	}
	return t, nil
}

func (t *Token) field(i int) *string {
	switch i {
	case 0:
		return &t.Username
	case 1:
		return &t.PasswordDigest
	case 2:
		return &t.Nonce
	default:
		return &t.Created
	}
}

// cutWord removes the leading word w from s; w must be followed by
// white space.
func cutWord(s, w string) (string, bool) {
	if len(s) <= len(w) || s[:len(w)] != w || (s[len(w)] != ' ' && s[len(w)] != '\t') {
		return s, false
	}
	return s[len(w):], true
}

// NewNonce returns 32 lowercase hexadecimal characters (a version 4 UUID
// without dashes) drawn from crypto/rand through [uuid.NewRandom].
func NewNonce() (string, error) {
	var buf [32]byte
	if err := fillNonce(&buf); err != nil {
		return "", err
	}
	return string(buf[:]), nil
}

// fillNonce writes a fresh nonce (see [NewNonce]) into dst.
func fillNonce(dst *[32]byte) error {
	u, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("voicecall: generate nonce: %w", err)
	}
	hex.Encode(dst[:], u[:])
	return nil
}

// ValidNonce reports whether s is a nonce the platform documents:
// 1-128 characters, each a digit or an ASCII letter.
func ValidNonce(s string) bool {
	if len(s) == 0 || len(s) > MaxNonceLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// signer writes X-AKSK values for one app: [Sign] and
// [Token.HeaderValue] with a fresh nonce, without their allocations. It
// keeps one keyed HMAC, reset for each signature (building the key
// schedule anew, as Sign does, costs more than the signature itself),
// and its scratch space, under a mutex. It is safe for concurrent use.
type signer struct {
	appKey string
	loc    *time.Location

	mu  sync.Mutex
	mac hash.Hash
	raw [16]byte
	msg []byte // Nonce + Created
	sum [sha256.Size]byte
	out []byte // the header value
}

func newSigner(appKey, appSecret string, loc *time.Location) *signer {
	return &signer{appKey: appKey, loc: loc, mac: hmac.New(sha256.New, []byte(appSecret))}
}

// signature is one signed X-AKSK value; nonce and digest are parts of
// header, kept so that they can be scrubbed from echoes.
type signature struct {
	header, nonce, digest string
}

// sign returns the X-AKSK value for a fresh nonce (32 hex digits from
// crypto/rand) and Created at now.
func (s *signer) sign(now time.Time) signature {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = rand.Read(s.raw[:]) // crypto/rand.Read never fails (Go 1.24 and later)
	var nonce [32]byte
	hex.Encode(nonce[:], s.raw[:])
	s.msg = appendCreated(append(s.msg[:0], nonce[:]...), now.In(s.loc))
	s.mac.Reset()
	_, _ = s.mac.Write(s.msg)
	sum := s.mac.Sum(s.sum[:0])

	b := append(s.out[:0], `UsernameToken Username="`...)
	b = append(b, s.appKey...)
	b = append(b, `",PasswordDigest="`...)
	d := len(b)
	b = base64.StdEncoding.AppendEncode(b, sum)
	de := len(b)
	b = append(b, `",Nonce="`...)
	n := len(b)
	b = append(b, nonce[:]...)
	b = append(b, `",Created="`...)
	b = append(b, s.msg[len(nonce):]...)
	b = append(b, '"')
	s.out = b
	h := string(b)
	return signature{header: h, nonce: h[n : n+len(nonce)], digest: h[d:de]}
}
