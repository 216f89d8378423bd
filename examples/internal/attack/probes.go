package attack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
)

// Expect checks an answer's status and drains it.
func Expect(resp *http.Response, err error, want int) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	return nil
}

// Signer signs pushes to one URL as the platform does, for [PushProbe].
type Signer struct {
	AppKey, AppSecret string
	// URL is the push URL as configured at the platform (what the
	// receiver verifies the signature against).
	URL string
}

// PushProbe posts body to url and expects 200. With sign, each push
// carries a fresh X-AKSK signature (newline layout, Created in UTC).
func PushProbe(name, url string, body []byte, sign *Signer) Probe {
	return Probe{Name: name, Do: func(ctx context.Context, c *http.Client) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		if sign != nil {
			nonce, err := aksk.NewNonce()
			if err != nil {
				return err
			}
			req.Header.Set(aksk.Header, aksk.SignPush(sign.AppKey, sign.AppSecret, sign.URL, nonce, aksk.FormatCreated(time.Now(), nil), aksk.PushLayoutNewline).HeaderValue())
		}
		resp, err := c.Do(req)
		return Expect(resp, err, http.StatusOK)
	}}
}

// CodesProbe asks otpserver at base for a code every every-th round and
// expects 202; each number is of a range of its own (the first 7 digits
// of the national number), since the guard rightly refuses the 11th
// unverified code of one range.
func CodesProbe(base string, every int) Probe {
	var phone atomic.Int64
	phone.Store(13700000000)
	return Probe{Name: "POST /codes", Every: every, Do: func(ctx context.Context, c *http.Client) error {
		body := strings.NewReader(fmt.Sprintf(`{"phone":"+86%d"}`, phone.Add(10_000)))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/codes", body)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		return Expect(resp, err, http.StatusAccepted)
	}}
}
