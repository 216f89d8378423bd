package aksk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
)

// PushLayout is the message layout of a signed push's PasswordDigest;
// the editions of Huawei's notification API pages disagree.
type PushLayout int

// Push signature layouts.
const (
	// PushLayoutNewline: HMAC over url + "\n" + nonce + "\n" + created
	// (2026 pages).
	PushLayoutNewline PushLayout = iota + 1
	// PushLayoutConcat: HMAC over url + nonce + created (2023 page).
	PushLayoutConcat
)

// SignPush returns the signature of a push to url, as Huawei's
// notification pages describe it: PasswordDigest = Base64(HMAC-SHA256(
// appSecret, message)) with the message laid out as layout says (any
// value other than [PushLayoutConcat] means [PushLayoutNewline]). Test
// servers use it to sign the pushes a voicecall.Handler verifies.
func SignPush(appKey, appSecret, url, nonce, created string, layout PushLayout) Signature {
	m := hmac.New(sha256.New, []byte(appSecret))
	var sum [sha256.Size]byte
	return Signature{
		Username:       appKey,
		PasswordDigest: base64.StdEncoding.EncodeToString(pushMAC(m, sum[:0], url, nonce, created, layout)),
		Nonce:          nonce,
		Created:        created,
	}
}

// VerifyPush reports whether sig's PasswordDigest is the push digest
// (see [SignPush]), under appSecret, of one of urls in either layout,
// compared in constant time. Like [Verify] it checks nothing else.
func VerifyPush(sig Signature, appSecret string, urls ...string) bool {
	got, ok := decodeDigest(sig.PasswordDigest)
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	var want [sha256.Size]byte
	match := 0
	for _, u := range urls {
		for _, layout := range [...]PushLayout{PushLayoutNewline, PushLayoutConcat} {
			if hmac.Equal(got[:], pushMAC(m, want[:0], u, sig.Nonce, sig.Created, layout)) {
				match = 1
			}
		}
	}
	return match == 1
}

// pushMAC resets the keyed HMAC m and appends the MAC of the push
// message to dst.
func pushMAC(m hash.Hash, dst []byte, url, nonce, created string, layout PushLayout) []byte {
	m.Reset()
	_, _ = m.Write([]byte(url))
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
