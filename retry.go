package voicecall

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// RetryPolicy says which failed attempts the [Client] may send again. The
// zero value means the defaults. Whatever the policy, a request that may
// have reached the platform is never sent again by an operation that can
// place a call (CallVerify, CallNotify, Click2Call): a second request
// could ring the phone a second time.
//
// An attempt is retried when:
//
//   - it provably never left this process: no connection was obtained
//     (temporary DNS failures, refused or failed dials, TLS handshakes
//     that failed for a reason other than the certificate);
//   - Throttled is set and the platform refused it for flow control or a
//     call limit, before processing it;
//   - ClockSkew is set and the platform refused it with 1010013 (Created
//     too far from its clock), which it checks before processing: it is
//     re-signed with the clock corrected by the answer's Date header and
//     sent once more, at once;
//   - the operation cannot place a call (CallStop, the recording URL) and
//     the outcome is unknown (connection lost, timeout of the attempt,
//     HTTP 5xx, malformed answer).
//
// Every retry takes a token from the client's retry budget, which
// successful calls refill: while the platform keeps failing, the client
// stops retrying instead of multiplying its traffic (see [WithRetry]).
type RetryPolicy struct {
	// MaxAttempts is the most HTTP attempts per call, the first included
	// (default 3). 1 disables retries.
	MaxAttempts int
	// MaxBackoff is the most time spent waiting between attempts, summed
	// over the call (default 2s). Waits are never longer than what is left
	// before the context's deadline.
	MaxBackoff time.Duration
	// BaseDelay is the first backoff ceiling, doubled per attempt; each
	// wait is drawn uniformly below the ceiling ("full jitter")
	// (default 100ms).
	BaseDelay time.Duration
	// Throttled also retries answers that refused the request for flow
	// control or call limits (1010010, 1020165, 1013001-1013003, and a bare
	// HTTP 429). Those were refused before processing, so a retry cannot
	// place a second call; they are not retried by default because the
	// limits usually last longer than a caller wants to wait.
	Throttled bool
	// ClockSkew re-signs and resends, once per call, a request the
	// platform refused with 1010013 (clock skew), using the platform's
	// clock from the answer's Date header (this machine's clock, with a
	// fresh nonce, when the answer has none). If the platform expects
	// Beijing time rather than UTC, WithCreatedLocation is the fix.
	ClockSkew bool
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 2 * time.Second
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 100 * time.Millisecond
	}
	return p
}

// retryKind is why an attempt may be sent again.
type retryKind int

const (
	noRetry         retryKind = iota
	retryNeverLeft            // no connection was obtained
	retryThrottled            // refused for flow control, before processing
	retryClockSkew            // refused for clock skew, before processing
	retryIdempotent           // unknown outcome of an operation that cannot place a call
	numRetryKinds
)

func (k retryKind) String() string {
	switch k {
	case retryNeverLeft:
		return "not sent"
	case retryThrottled:
		return "throttled"
	case retryClockSkew:
		return "clock skew"
	case retryIdempotent:
		return "idempotent operation"
	}
	return "none"
}

// retryCounts counts the retries of one call by kind.
type retryCounts [numRetryKinds]int

// allow reports whether one more retry of kind is allowed in this call
// (a clock-skew retry happens at most once), and counts it.
func (r *retryCounts) allow(k retryKind) bool {
	if k == retryClockSkew && r[k] > 0 {
		return false
	}
	r[k]++
	return true
}

// classify says whether, and why, a failed attempt may be sent again.
func (p RetryPolicy) classify(ep *endpoint, res attemptResult) retryKind {
	err := res.err
	var reqErr *RequestError
	var apiErr *APIError
	isReq := errors.As(err, &reqErr)
	switch {
	case !res.connected && isReq:
		if retryableBeforeConn(reqErr.Err) {
			return retryNeverLeft
		}
		return noRetry
	case OutcomeOf(err) == OutcomeUnknown:
		if ep.idempotent && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return retryIdempotent
		}
		return noRetry
	case p.Throttled && (errors.Is(err, errThrottled) || errors.As(err, &apiErr) && apiErr.IsThrottled()):
		return retryThrottled
	case p.ClockSkew && errors.As(err, &apiErr) && apiErr.IsClockSkew():
		return retryClockSkew
	}
	return noRetry
}

// retryableBeforeConn reports whether an error that happened before a
// connection was obtained is worth another attempt: temporary DNS
// failures, dial failures and TLS handshake failures, but not a missing
// host (NXDOMAIN), a certificate error, a server that does not speak
// TLS, or the caller's context ending.
func retryableBeforeConn(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if isCertificateError(err) || isClientCertificateRefusal(err) {
		return false
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		// net/http's own error for a server that answered the TLS
		// handshake in plain HTTP; it replaces the tls.RecordHeaderError.
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound && (dnsErr.IsTemporary || dnsErr.IsTimeout)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var recErr tls.RecordHeaderError
	if errors.As(err, &recErr) {
		return false // neither TLS nor HTTP: a configuration error
	}
	// TLS handshake failures (timeouts, resets, alerts) also end here:
	// no HTTP byte was written.
	return true
}

// isCertificateError reports whether err is a failed certificate check,
// which no retry can fix.
func isCertificateError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invErr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uaErr) || errors.As(err, &hostErr) || errors.As(err, &invErr)
}

// isClientCertificateRefusal reports whether err is the server's TLS
// alert refusing this client for want of a certificate (TLS 1.3's
// certificate_required) or for the one it gave (bad_certificate): a
// configuration error that no retry fixes. The alert's type is
// unexported by crypto/tls; its text is stable.
func isClientCertificateRefusal(err error) bool {
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "remote error" || opErr.Err == nil {
		return false
	}
	switch opErr.Err.Error() {
	case "tls: certificate required", "tls: bad certificate":
		return true
	}
	return false
}

// errorClass sorts an attempt's error into a few classes for metrics;
// see [AttemptInfo].ErrorClass.
func errorClass(err error) string {
	if err == nil {
		return ""
	}
	var apiErr *APIError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	var reqErr *RequestError
	switch {
	case errors.As(err, &apiErr) && OutcomeOf(err) == OutcomeRejected:
		return "platform"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case isCertificateError(err), isClientCertificateRefusal(err), errors.Is(err, http.ErrSchemeMismatch):
		return "tls"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "dial"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &reqErr) && reqErr.HTTPStatus != 0:
		return "status"
	case errors.As(err, &reqErr) && reqErr.Outcome == OutcomeUnknown:
		return "connection"
	}
	return "other"
}

// Retry budget: like gRPC's retry throttling, each failed call takes one
// token and each successful call gives back a tenth of one; retries are
// allowed only while more than half of the tokens are left, and each
// retry takes a token. A platform that keeps failing therefore sees at
// most a handful of retries before the client sends each call once.
const (
	retryBudgetTokens = 10
	retryBudgetRefill = 0.1
)

// retryBudget is the per-Client token bucket for retries; safe for
// concurrent use.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
}

func newRetryBudget() *retryBudget { return &retryBudget{tokens: retryBudgetTokens} }

// take reports whether a retry is allowed now, and takes its token.
func (b *retryBudget) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens <= retryBudgetTokens/2 {
		return false
	}
	b.tokens--
	return true
}

// record counts a finished call.
func (b *retryBudget) record(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.tokens = min(retryBudgetTokens, b.tokens+retryBudgetRefill)
	} else {
		b.tokens = max(0, b.tokens-1)
	}
}

// randInt63n returns a uniform int64 in [0, n), 0 when n <= 0.
func randInt63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
