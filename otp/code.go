package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
)

// Code lengths.
const (
	MinCodeLength     = 4 // shortest code Send generates
	MaxCodeLength     = 8 // longest code: the platform reads out at most 8 digits
	DefaultCodeLength = 6
)

// pow10 holds 10^n for n in 0..8.
var pow10 = [...]uint32{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000}

// NewCode returns a code of n digits (MinCodeLength to MaxCodeLength)
// from crypto/rand, every value from 0...0 to 9...9 equally likely.
func NewCode(n int) (string, error) { return newCode(rand.Reader, n) }

// newCode draws a uniform number below 10^n by rejection: a 32-bit value
// at or above the largest multiple of 10^n is drawn again, so that no
// value is more likely than another (taking v % 10^n of every v would
// favour the low values).
func newCode(r io.Reader, n int) (string, error) {
	if n < MinCodeLength || n > MaxCodeLength {
		return "", errf("invalid code length: must be %d-%d", MinCodeLength, MaxCodeLength)
	}
	m := pow10[n]
	limit := (1 << 32) / uint64(m) * uint64(m) // values below limit map uniformly
	var b [4]byte
	for range 64 { // each draw is rejected with probability < 0.03
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", errf("generate code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); uint64(v) < limit {
			return formatCode(v%m, n), nil
		}
	}
	return "", errf("generate code: random source keeps failing the uniformity bound")
}

func formatCode(v uint32, n int) string {
	var b [MaxCodeLength]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:n])
}

// keyed derives the opaque ids and MACs the stores see from the server
// key; the stores never see a phone number, a client key or a code.
type keyed struct{ key []byte }

func (k keyed) sum(kind, a, b string) []byte {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(a))
	h.Write([]byte{0})
	h.Write([]byte(b))
	return h.Sum(nil)
}

// id returns a 128-bit hex id for a number or a client key.
func (k keyed) id(kind, s string) string { return hex.EncodeToString(k.sum(kind, s, "")[:16]) }

// codeMAC returns the MAC stored for code of verification id.
func (k keyed) codeMAC(id, code string) []byte { return k.sum("code", id, code) }

// idLen is the length of a verification id: 16 random bytes in
// unpadded base64url.
const idLen = 22

// newID returns a fresh verification (or operation) id of 128 random
// bits.
func newID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", errf("generate id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validID reports whether id has the shape of an id of newID.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}
