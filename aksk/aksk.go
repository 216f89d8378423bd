// Package aksk implements Huawei Cloud's X-AKSK authentication scheme,
// as the Voice Call API pages (for example "语音验证码场景API") and the
// notification API pages describe it: signing a request ([Sign],
// [Signer]), signing a push ([SignPush]), parsing an X-AKSK header value
// ([Parse]) and checking a digest ([Verify], [VerifyPush]).
//
// The voicecall client and Handler use it; so do the fake platform in
// voicetest and anyone writing a proxy or a test server. Users of the
// voicecall client never need it: the client signs every request.
//
// An X-AKSK value is a [Signature]:
//
//	UsernameToken Username="<app key>",PasswordDigest="<digest>",Nonce="<nonce>",Created="<created>"
//
// with PasswordDigest = Base64(HMAC-SHA256(app secret, Nonce + Created))
// for a request. It is a bearer credential inside the platform's
// clock-skew window: errors of this package never contain one, and a
// Signature prints with its digest and nonce redacted.
package aksk

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

// Wire constants of the scheme, as Huawei's API pages state them.
const (
	// Header is the name of the header that carries the [Signature].
	Header = "X-AKSK"

	// AuthorizationValue is the fixed value of the Authorization header
	// sent with every signed request. The platform checks realm, profile
	// and type (result codes 1023007-1023012).
	AuthorizationValue = `AKSK realm="SDP",profile="UsernameToken",type="Appkey"`

	// CreatedLayout is the [time] layout of Signature.Created: seconds
	// precision and a literal "Z", whatever the time zone.
	CreatedLayout = "2006-01-02T15:04:05Z"

	// MaxNonceLen is the longest nonce the platform accepts.
	MaxNonceLen = 128
)

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

// Signature is the content of an X-AKSK header (see the package
// documentation for its layout). Its String, GoString and LogValue
// methods redact the digest and the nonce; use [Signature.HeaderValue]
// to obtain the wire form.
type Signature struct {
	// Username is the app key (APP_Key on the console).
	Username string
	// PasswordDigest is Base64(HMAC-SHA256(app secret, message)),
	// standard alphabet with padding; the message is Nonce+Created for a
	// request (see [Sign]) and includes the URL for a push (see [SignPush]).
	PasswordDigest string
	// Nonce is a random string of 1-128 characters from [0-9A-Za-z].
	Nonce string
	// Created is the signing time formatted with [CreatedLayout].
	Created string
}

// Sign returns the signature of one request. It is a pure function:
// PasswordDigest = Base64(HMAC-SHA256(key = appSecret, message = nonce + created)),
// with the secret used verbatim as the key (not Base64-decoded).
// Use [NewNonce] and [FormatCreated] for the last two arguments, or a
// [Signer], which does all three.
func Sign(appKey, appSecret, nonce, created string) Signature {
	m := hmac.New(sha256.New, []byte(appSecret))
	_, _ = m.Write([]byte(nonce + created)) // hash.Hash.Write never returns an error
	return Signature{
		Username:       appKey,
		PasswordDigest: base64.StdEncoding.EncodeToString(m.Sum(nil)),
		Nonce:          nonce,
		Created:        created,
	}
}

// Verify reports whether sig's PasswordDigest is the request digest of
// sig's Nonce and Created under appSecret (see [Sign]), compared in
// constant time. It checks nothing else: the caller checks that Created
// is fresh, that the nonce was not used before and that Username is the
// app of appSecret.
func Verify(sig Signature, appSecret string) bool {
	got, ok := decodeDigest(sig.PasswordDigest)
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	_, _ = m.Write([]byte(sig.Nonce + sig.Created))
	var want [sha256.Size]byte
	return hmac.Equal(got[:], m.Sum(want[:0]))
}

// decodeDigest decodes a PasswordDigest that is the padded standard
// Base64 of exactly 32 bytes.
func decodeDigest(s string) ([sha256.Size]byte, bool) {
	var out [sha256.Size]byte
	// 44 Base64 characters decode to up to 33 bytes (without padding):
	// Decode needs room for DecodedLen, then exactly 32 must come out.
	var got [sha256.Size + 1]byte
	if len(s) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return out, false
	}
	if n, err := base64.StdEncoding.Decode(got[:], []byte(s)); err != nil || n != sha256.Size {
		return out, false
	}
	copy(out[:], got[:])
	return out, true
}

// HeaderValue returns the X-AKSK header value in the layout of Huawei's
// examples and demos: no space after the commas, fields in the order
// Username, PasswordDigest, Nonce, Created, each value double-quoted.
func (s Signature) HeaderValue() string {
	var b strings.Builder
	b.Grow(64 + len(s.Username) + len(s.PasswordDigest) + len(s.Nonce) + len(s.Created))
	b.WriteString(`UsernameToken Username="`)
	b.WriteString(s.Username)
	b.WriteString(`",PasswordDigest="`)
	b.WriteString(s.PasswordDigest)
	b.WriteString(`",Nonce="`)
	b.WriteString(s.Nonce)
	b.WriteString(`",Created="`)
	b.WriteString(s.Created)
	b.WriteString(`"`)
	return b.String()
}

// String returns the header value with PasswordDigest and Nonce redacted.
func (s Signature) String() string {
	return Signature{Username: s.Username, PasswordDigest: redacted, Nonce: redacted, Created: s.Created}.HeaderValue()
}

// GoString redacts like [Signature.String], so %#v is safe too.
func (s Signature) GoString() string {
	return fmt.Sprintf("aksk.Signature{Username:%q, PasswordDigest:%q, Nonce:%q, Created:%q}", s.Username, redacted, redacted, s.Created)
}

// LogValue implements [slog.LogValuer] with the digest and nonce redacted.
func (s Signature) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", s.Username), slog.String("created", s.Created))
}

const redacted = "REDACTED"

// Field names of a signature as they appear in the header, in wire order.
var fieldNames = [...]string{"Username", "PasswordDigest", "Nonce", "Created"}

// ParseError is the error of [Parse]: it names the missing or malformed
// fields, so that a server can answer with the matching result code.
type ParseError struct {
	// Fields are "Username", "PasswordDigest", "Nonce" or "Created" for a
	// missing, empty or repeated field, or "X-AKSK" ([Header]) when the
	// value is not of the scheme's syntax.
	Fields []string
	// Problem says what is wrong with them.
	Problem string
}

// Error implements error. It names fields, never their values.
func (e *ParseError) Error() string {
	return "aksk: parse X-AKSK: " + strings.Join(e.Fields, ", ") + ": " + e.Problem
}

// Has reports whether the error names field.
func (e *ParseError) Has(field string) bool {
	for _, f := range e.Fields {
		if f == field {
			return true
		}
	}
	return false
}

func syntaxError(problem string) *ParseError {
	return &ParseError{Fields: []string{Header}, Problem: problem}
}

// Parse parses an X-AKSK header value. It is the inverse of
// [Signature.HeaderValue] and accepts what the platform documents or
// shows: the "UsernameToken" scheme word, fields separated by commas with
// optional spaces (Huawei's template has a space after each comma, its
// examples have none), field names matched case-insensitively (the
// platform's own messages say "UserName"), in any order. Values must be
// double-quoted and contain no quote. Unknown fields are ignored.
//
// On error the returned Signature holds the fields that were parsed, and
// the error is a *[ParseError] naming the missing or malformed fields.
func Parse(value string) (Signature, error) {
	var s Signature
	rest, ok := cutWord(strings.TrimSpace(value), "UsernameToken")
	if !ok {
		return s, syntaxError(`must start with "UsernameToken "`)
	}
	var seen [len(fieldNames)]bool
	for rest = strings.TrimLeft(rest, " \t"); rest != ""; {
		name, after, found := strings.Cut(rest, "=")
		name = strings.TrimSpace(name)
		if !found || name == "" || !strings.HasPrefix(after, `"`) {
			return s, syntaxError("expected name=\"value\" pairs separated by commas")
		}
		val, tail, closed := strings.Cut(after[1:], `"`)
		if !closed {
			return s, syntaxError("unterminated quoted value")
		}
		for i, f := range fieldNames {
			if !strings.EqualFold(name, f) {
				continue
			}
			if seen[i] {
				return s, &ParseError{Fields: []string{f}, Problem: "appears twice"}
			}
			seen[i] = true
			*s.field(i) = val
		}
		tail = strings.TrimLeft(tail, " \t")
		if tail != "" {
			if tail[0] != ',' {
				return s, syntaxError("expected a comma between fields")
			}
			tail = strings.TrimLeft(tail[1:], " \t")
			if tail == "" {
				return s, syntaxError("trailing comma")
			}
		}
		rest = tail
	}
	var missing []string
	for i, f := range fieldNames {
		if *s.field(i) == "" {
			missing = append(missing, f)
		}
	}
	if missing != nil {
		return s, &ParseError{Fields: missing, Problem: "missing or empty"}
	}
	return s, nil
}

func (s *Signature) field(i int) *string {
	switch i {
	case 0:
		return &s.Username
	case 1:
		return &s.PasswordDigest
	case 2:
		return &s.Nonce
	default:
		return &s.Created
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
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("aksk: generate nonce: %w", err)
	}
	var buf [32]byte
	hex.Encode(buf[:], u[:])
	return string(buf[:]), nil
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

// Signer signs requests for one app: [Sign] and [Signature.HeaderValue]
// with a fresh nonce, without their allocations. It keeps one keyed HMAC,
// reset for each signature (building the key schedule anew, as Sign
// does, costs more than the signature itself), and its scratch space,
// under a mutex. It is safe for concurrent use.
type Signer struct {
	appKey string
	loc    *time.Location

	mu  sync.Mutex
	mac hash.Hash
	raw [16]byte
	msg []byte // Nonce + Created
	sum [sha256.Size]byte
	out []byte // the header value
}

// NewSigner returns a Signer for the app appKey with secret appSecret
// that writes Created in loc (UTC when loc is nil; Huawei's pages
// disagree on the zone, see the voicecall package documentation).
func NewSigner(appKey, appSecret string, loc *time.Location) *Signer {
	if loc == nil {
		loc = time.UTC
	}
	return &Signer{appKey: appKey, loc: loc, mac: hmac.New(sha256.New, []byte(appSecret))}
}

// Sign returns the X-AKSK value for a fresh nonce (32 hex digits from
// crypto/rand) and Created at now, and its fields, which are substrings
// of value (one allocation in all).
func (s *Signer) Sign(now time.Time) (value string, sig Signature) {
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
	u := len(b)
	b = append(b, s.appKey...)
	ue := len(b)
	b = append(b, `",PasswordDigest="`...)
	d := len(b)
	b = base64.StdEncoding.AppendEncode(b, sum)
	de := len(b)
	b = append(b, `",Nonce="`...)
	n := len(b)
	b = append(b, nonce[:]...)
	b = append(b, `",Created="`...)
	c := len(b)
	b = append(b, s.msg[len(nonce):]...)
	ce := len(b)
	b = append(b, '"')
	s.out = b
	h := string(b)
	return h, Signature{Username: h[u:ue], PasswordDigest: h[d:de], Nonce: h[n : n+len(nonce)], Created: h[c:ce]}
}
