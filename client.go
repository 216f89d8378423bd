// Package voicecall is a client for Huawei Cloud Voice Call's voice
// verification code API (语音验证码, POST /rest/httpsessions/callVerify/v1.0)
// and a receiver for the notifications the platform pushes back: call-status
// events and CDR (fee) records.
//
// A [Client] holds the app access address and the app's credentials and
// places calls:
//
//	c, err := voicecall.NewClient("https://rtccall.cn-north-1.myhuaweicloud.cn:443", appKey, appSecret)
//	...
//	resp, err := c.CallVerify(ctx, &voicecall.CallVerifyRequest{
//		DisplayNumber: "+8675528000088",
//		CalleeNumber:  "+8613500000001",
//		LanguageType:  voicecall.LanguageChinese,
//		PreTone:       "pretone.wav",
//		VerifyCode:    "123456",
//	})
//
// # Authentication
//
// Every request carries the three headers the platform requires:
// Content-Type "application/json;charset=UTF-8", the fixed Authorization
// value [AuthorizationValue], and an X-AKSK [Token] whose PasswordDigest is
// Base64(HMAC-SHA256(app secret, Nonce+Created)). Each HTTP attempt gets a
// fresh 32-hex-digit nonce from crypto/rand and a fresh Created time.
// [Sign] and [ParseToken] expose the scheme as pure functions.
//
// Created is formatted as "2006-01-02T15:04:05Z" in UTC. Huawei's pages
// disagree on its zone: older pages and the Node.js and PHP demos use UTC,
// the 2026 pages say Beijing time (still with a literal Z). If the platform
// answers 1010013 (Time out limit) while this machine's clock is right,
// construct the client with WithCreatedLocation(voicecall.BeijingTime()).
//
// # Errors
//
// A call ends in one of three outcomes ([OutcomeOf]):
//
//   - accepted: CallVerify returns a response with the session id;
//   - rejected: a [*ValidationError] (nothing was sent), an [*APIError]
//     (the platform answered with a result code other than "0", even on
//     HTTP 200), or a [*RequestError] whose request provably never left
//     this process;
//   - unknown: a [*RequestError] matching [ErrOutcomeUnknown]: the request
//     may have reached the platform (connection lost after sending, timeout,
//     HTTP 5xx, HTML or truncated answer), so the phone may ring.
//
// The SDK retries on its own only when the request provably never left
// this process (DNS, dial and TLS handshake failures other than certificate
// errors), and, if asked with [WithRetry], when the platform refused it for
// flow control or call limits. It never retries after a connection was
// obtained, because a second request rings the phone a second time.
//
// # Correlation
//
// When a request leaves UserData empty the SDK sets a unique token and
// returns it in the response and on every error ([UserDataOf]). The
// platform echoes userData in every status event and CDR of the call. To
// settle an unknown outcome, keep the token, and wait for a status event or
// CDR that carries it: if one arrives, the call was placed; if none arrives
// within a few minutes, it was not (the CDR is re-pushed for hours if your
// receiver was down, status events are not). Only then decide whether to
// call again.
//
// # Notifications
//
// The platform POSTs call-status events to the statusUrl and CDR batches
// to the feeUrl of the request (or those configured on the console).
// [ParseNotification] turns a body into a typed [Notification]: a
// [StatusEvent], up to 50 [FeeRecord]s, or an [UnknownEvent] kept as raw
// JSON. [NewHandler] returns an [net/http.Handler] that receives both with
// the callbacks of a [HandlerConfig]. A CDR the application failed to
// handle is answered 5xx so that the platform pushes the batch again (up to
// 6 times, an hour apart), and CDRs already handled are skipped through a
// [DedupStore]; a status event is never pushed again, so a failed status
// callback is logged and answered 200. A [CorrelationIndex] finds a call by
// its userData (see Correlation).
//
// # Testing
//
// Package [github.com/voicecall-go/voicecall/voicetest] runs a fake of the
// platform on loopback that checks requests as the platform does and plays
// each call back through the notifications. A [Client] accepts http base
// URLs only for loopback hosts, so that such fakes work.
//
// # Concurrency
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// many goroutines; so are the notification handler and parsers.
package voicecall

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Version is the SDK's version, sent in the default User-Agent.
const Version = "0.1.0"

// Defaults of the HTTP behaviour; see the options that change them.
const (
	DefaultTimeout               = 10 * time.Second // whole CallVerify, retries included
	DefaultDialTimeout           = 3 * time.Second
	DefaultTLSHandshakeTimeout   = 5 * time.Second
	DefaultResponseHeaderTimeout = 8 * time.Second
	// MaxResponseBytes bounds how much of an answer is read; the
	// platform's answers are a few hundred bytes.
	MaxResponseBytes = 64 << 10
)

// Client calls the platform for one app. Create it with [NewClient]; it
// is immutable and safe for concurrent use. Printing a Client, with fmt or
// slog, never shows the app secret.
type Client struct {
	baseURL         string // as given, without a trailing slash
	callVerifyURL   string // baseURL + CallVerifyPath
	appKey          string
	signer          *signer
	hc              *http.Client
	userAgent       string
	userAgentValues []string // {userAgent}, shared by all requests
	logger          *slog.Logger
	timeout         time.Duration
	location        *time.Location
	retry           RetryPolicy

	// Test seams.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	jit   func(n int64) int64 // uniform in [0, n)
}

// Option configures a [Client].
type Option func(*config)

type config struct {
	httpClient *http.Client
	userAgent  string
	logger     *slog.Logger
	timeout    time.Duration
	location   *time.Location
	pooling    bool
	tlsConfig  *tls.Config
	retry      RetryPolicy
	err        error
}

// WithHTTPClient makes the client send requests with a copy of hc. hc
// itself is not modified. The copy never follows redirects (a 307 would
// send the request, and X-AKSK, again, possibly to another host). hc's
// Transport is used as it is, so connection reuse, proxies and TLS
// settings are the caller's; [WithConnectionReuse] and [WithTLSConfig] do
// not apply to it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.err = errors.New("WithHTTPClient: nil *http.Client")
			return
		}
		c.httpClient = hc
	}
}

// WithUserAgent sets the User-Agent header (default "voicecall-go/<Version>").
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithLogger makes the client log each attempt and its result at debug
// level, and warnings at warn level. The default logs nothing. Logs never
// contain the app secret, the X-AKSK header, its digest or nonce, or the
// verification code, and phone numbers keep only their last four digits.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithTimeout bounds each CallVerify, retries included (default
// [DefaultTimeout]). A context deadline that comes earlier wins. Zero or
// less means no bound other than the context's.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithCreatedLocation sets the time zone in which Created is written
// (default UTC); see "Authentication" in the package documentation and
// [BeijingTime].
func WithCreatedLocation(loc *time.Location) Option {
	return func(c *config) {
		if loc == nil {
			c.err = errors.New("WithCreatedLocation: nil *time.Location")
			return
		}
		c.location = loc
	}
}

// WithConnectionReuse makes the default transport keep connections alive
// and reuse them. The default is one connection per request, because the
// platform closes its side after every answer: a pooled connection that
// the platform has just closed makes the next request fail after it may
// have been sent (measured at about 1% of calls in bursts), and such a
// failure can only be reported as an unknown outcome. Reuse saves a TCP
// and TLS handshake per call; enable it only if you have checked that
// your platform endpoint keeps connections open. TLS session resumption
// is on in both modes.
func WithConnectionReuse() Option { return func(c *config) { c.pooling = true } }

// WithTLSConfig makes the default transport use a clone of cfg, for
// example to trust a private CA (RootCAs) in tests. Certificate
// verification stays on unless cfg turns it off. A session cache is added
// when cfg has none.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) {
		if cfg == nil {
			c.err = errors.New("WithTLSConfig: nil *tls.Config")
			return
		}
		c.tlsConfig = cfg
	}
}

// RetryPolicy bounds the retries of requests that provably never left
// this process (see the package documentation). The zero value means the
// defaults.
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
	// control or call limits (1010010, 1020165, 1013001-1013003). Those
	// were refused before processing, so a retry cannot place a second
	// call; they are not retried by default because the limits usually
	// last longer than a caller wants to wait.
	Throttled bool
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

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// NewClient returns a client for the app with the given key and secret
// (APP_Key and APP_Secret on the console).
//
// baseURL is the app access address from the console, for example
// "https://rtccall.cn-north-1.myhuaweicloud.cn:443". It must be an
// absolute https URL; http is accepted only for loopback hosts
// (127.0.0.0/8, ::1, localhost) so that local fakes work. A path prefix
// is kept: the API path is appended to it.
func NewClient(baseURL, appKey, appSecret string, opts ...Option) (*Client, error) {
	var fs []FieldError
	base, problem := parseBaseURL(baseURL)
	if problem != "" {
		fs = append(fs, FieldError{Field: "baseURL", Problem: problem})
	}
	if appKey == "" {
		fs = append(fs, FieldError{Field: "appKey", Problem: "is required"})
	} else if strings.ContainsAny(appKey, "\"\r\n") {
		fs = append(fs, FieldError{Field: "appKey", Problem: "must not contain quotes or line breaks"})
	}
	if appSecret == "" {
		fs = append(fs, FieldError{Field: "appSecret", Problem: "is required"})
	}
	if fs != nil {
		return nil, newValidationError("NewClient", fs...)
	}

	cfg := config{timeout: DefaultTimeout, location: time.UTC}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, errf("NewClient: %v", cfg.err)
	}

	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		hc.Transport = newTransport(cfg.pooling, cfg.tlsConfig)
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		baseURL:   base,
		appKey:    appKey,
		signer:    newSigner(appKey, appSecret),
		hc:        &hc,
		userAgent: cfg.userAgent,
		logger:    cfg.logger,
		timeout:   cfg.timeout,
		location:  cfg.location,
		retry:     cfg.retry.withDefaults(),
		now:       time.Now,
		sleep:     sleepCtx,
		jit:       randInt63n,
	}
	if c.userAgent == "" {
		c.userAgent = "voicecall-go/" + Version
	}
	c.userAgentValues = []string{c.userAgent}
	c.callVerifyURL = c.baseURL + CallVerifyPath
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// parseBaseURL checks the base URL and returns it without a trailing slash.
func parseBaseURL(s string) (string, string) {
	if s == "" {
		return "", "is required"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "", "must be an absolute URL such as https://rtccall.cn-north-1.myhuaweicloud.cn:443"
	case u.User != nil:
		return "", "must not contain user information"
	case u.RawQuery != "" || u.Fragment != "":
		return "", "must not contain a query or fragment"
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return "", "must use https (http is allowed only for loopback hosts)"
	default:
		return "", "must use https"
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// newTransport returns the default transport: TLS verification on, TLS
// session resumption, explicit timeouts, no proxy (the library never
// reads the environment), and one connection per request unless pooling.
func newTransport(pooling bool, tlsCfg *tls.Config) *http.Transport {
	if tlsCfg == nil {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsCfg = tlsCfg.Clone()
	}
	if tlsCfg.ClientSessionCache == nil {
		tlsCfg.ClientSessionCache = tls.NewLRUClientSessionCache(16)
	}
	return &http.Transport{
		DialContext:            (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        tlsCfg,
		TLSHandshakeTimeout:    DefaultTLSHandshakeTimeout,
		ResponseHeaderTimeout:  DefaultResponseHeaderTimeout,
		DisableKeepAlives:      !pooling,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// String describes the client without its secret.
func (c *Client) String() string {
	return fmt.Sprintf("voicecall.Client{baseURL: %q, appKey: %q}", c.baseURL, c.appKey)
}

// GoString is like String, for %#v.
func (c *Client) GoString() string { return c.String() }

// LogValue implements [slog.LogValuer] without the secret.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("baseURL", c.baseURL), slog.String("appKey", c.appKey))
}

// Close releases the idle connections of the client's transport; the
// client stays usable and opens new connections when needed. It matters
// only with [WithConnectionReuse] or a pooled [WithHTTPClient] transport.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

var (
	contentTypeValues   = []string{ContentType}
	authorizationValues = []string{AuthorizationValue}
	acceptValues        = []string{"application/json"}
)

// call is one API operation for do.
type call struct {
	op       string
	url      string
	body     []byte
	userData string
	logAttrs slog.LogValuer
}

// answer is the decoded body of a successful platform answer.
type answer struct {
	SessionID  string
	IdlePort   *int
	ResultDesc string
}

// do sends the call, signing every attempt afresh, retries only what
// provably never left this process, and classifies the answer.
func (c *Client) do(ctx context.Context, cl call) (answer, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var backoff time.Duration
	for attempt := 1; ; attempt++ {
		ans, err, retryable := c.attempt(ctx, cl, attempt)
		if err == nil {
			return ans, nil
		}
		if !retryable || attempt >= c.retry.MaxAttempts {
			return ans, err
		}
		ceiling := c.retry.BaseDelay << (attempt - 1)
		wait := time.Duration(c.jit(int64(ceiling)))
		if backoff+wait > c.retry.MaxBackoff {
			return ans, err
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			return ans, err
		}
		backoff += wait
		if c.logger.Enabled(ctx, slog.LevelDebug) {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "voicecall: retrying", slog.String("op", cl.op),
				slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		}
		if c.sleep(ctx, wait) != nil {
			return ans, err
		}
	}
}

// attempt makes one HTTP attempt. It reports whether the failure may be
// retried: only when no connection was obtained (so no byte of the
// request was written), or for a throttling code when the policy says so.
func (c *Client) attempt(ctx context.Context, cl call, n int) (answer, error, bool) {
	start := c.now()
	fail := func(outcome Outcome, status int, ct string, body []byte, err error) *RequestError {
		e := newRequestError(cl.op, cl.userData, outcome, status, ct, body, err)
		e.Attempts = n
		return e
	}
	xaksk, err := c.signer.headerValue(start, c.location)
	if err != nil {
		return answer{}, fail(OutcomeRejected, 0, "", nil, err), false
	}
	tr := connTraces.Get().(*connTrace)
	tr.got.Store(false)
	// The transport calls GotConn inside Do, on this goroutine, so the
	// trace is free again once Do has returned.
	defer connTraces.Put(tr)
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &tr.ClientTrace), http.MethodPost, cl.url, bytes.NewReader(cl.body))
	if err != nil {
		return answer{}, fail(OutcomeRejected, 0, "", nil, err), false
	}
	h := req.Header
	h["Content-Type"] = contentTypeValues // shared read-only slices: the transport never modifies them
	h["Authorization"] = authorizationValues
	h["Accept"] = acceptValues
	h["User-Agent"] = c.userAgentValues
	h[HeaderXAKSK] = []string{xaksk} // written as documented, not canonicalised to X-Aksk
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "voicecall: sending", slog.String("op", cl.op),
			slog.Int("attempt", n), slog.String("userData", cl.userData), slog.Any("request", cl.logAttrs))
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		if !tr.got.Load() {
			// No connection, so not a byte of the request was written.
			err = unwrapURLError(err)
			c.logResult(ctx, cl, n, start, 0, "", err)
			return answer{}, fail(OutcomeRejected, 0, "", nil, err), retryableBeforeConn(ctx, err)
		}
		err = unwrapURLError(err)
		c.logResult(ctx, cl, n, start, 0, "", err)
		return answer{}, fail(OutcomeUnknown, 0, "", nil, fmt.Errorf("no answer after the request was sent: %w", err)), false
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	buf := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(buf)
	body, err := readAtMost(resp.Body, (*buf)[:0], MaxResponseBytes+1)
	*buf = body[:0]
	if err != nil {
		err = fmt.Errorf("reading the answer: %w", unwrapURLError(err))
		c.logResult(ctx, cl, n, start, resp.StatusCode, "", err)
		return answer{}, fail(OutcomeUnknown, resp.StatusCode, ct, body, err), false
	}
	if len(body) > MaxResponseBytes {
		err = fmt.Errorf("answer larger than %d bytes", MaxResponseBytes)
		c.logResult(ctx, cl, n, start, resp.StatusCode, "", err)
		return answer{}, fail(OutcomeUnknown, resp.StatusCode, ct, body, err), false
	}
	ans, err := classify(cl.op, resp.StatusCode, ct, body, cl.userData)
	if err == nil {
		c.logResult(ctx, cl, n, start, resp.StatusCode, string(CodeSuccess), nil)
		return ans, nil, false
	}
	if reqErr, ok := err.(*RequestError); ok {
		reqErr.Attempts = n
	}
	code := ""
	if apiErr := (*APIError)(nil); errors.As(err, &apiErr) {
		code = string(apiErr.Code)
	}
	c.logResult(ctx, cl, n, start, resp.StatusCode, code, err)
	return ans, err, c.retry.Throttled && isThrottled(err)
}

func (c *Client) logResult(ctx context.Context, cl call, n int, start time.Time, status int, code string, err error) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", cl.op), slog.Int("attempt", n), slog.String("userData", cl.userData),
		slog.Duration("elapsed", c.now().Sub(start)),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if code != "" {
		attrs = append(attrs, slog.String("resultcode", code))
	}
	if err != nil {
		attrs = append(attrs, slog.String("outcome", OutcomeOf(err).String()), slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "voicecall: result", attrs...)
}

// connTrace records whether the attempt obtained a connection: before
// that, not a byte of the request can have been written.
type connTrace struct {
	httptrace.ClientTrace
	got atomic.Bool
}

var connTraces = sync.Pool{New: func() any {
	t := &connTrace{}
	t.GotConn = func(httptrace.GotConnInfo) { t.got.Store(true) }
	return t
}}

// unwrapURLError drops the *url.Error layer, whose text repeats the
// method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// retryableBeforeConn reports whether an error that happened before a
// connection was obtained is worth another attempt: temporary DNS
// failures, dial failures and TLS handshake failures, but not a missing
// host (NXDOMAIN), a certificate error, or the caller's context ending.
func retryableBeforeConn(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if isCertificateError(err) {
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
		return false // not a TLS server at all: a configuration error
	}
	// TLS handshake failures (timeouts, resets, alerts) also end here:
	// no HTTP byte was written.
	return true
}

// readBuffers holds buffers for reading answers: an answer is decoded
// (copied) before its buffer goes back.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// readAtMost appends r's content to buf until EOF or until buf holds max
// bytes, and returns it. Reading stops at max: the caller treats a full
// buffer as too large.
func readAtMost(r io.Reader, buf []byte, max int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= max {
				return buf, nil
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), max)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) >= max {
			return buf, nil
		}
	}
}

var errThrottled = errors.New("too many requests")

// isThrottled reports whether err is a rejection for flow control or a
// call limit: a throttling result code, or an HTTP 429 without one.
func isThrottled(err error) bool {
	if OutcomeOf(err) != OutcomeRejected {
		return false
	}
	var apiErr *APIError
	return errors.Is(err, errThrottled) || errors.As(err, &apiErr) && apiErr.IsThrottled()
}

// newRequestError builds the error of a failed request, with a bounded
// and sanitised snippet of the answer's body.
func newRequestError(op, userData string, outcome Outcome, status int, contentType string, body []byte, err error) *RequestError {
	return &RequestError{Op: op, Outcome: outcome, HTTPStatus: status, ContentType: contentType,
		Body: snippet(body), UserData: userData, Err: err}
}

// classify turns an HTTP answer into the decoded success or an error. It
// is pure: it never returns a nil error unless resultcode is "0", the
// session id is non-empty and the status is 2xx.
func classify(op string, status int, contentType string, body []byte, userData string) (answer, error) {
	fail := func(outcome Outcome, err error) (answer, error) {
		return answer{}, newRequestError(op, userData, outcome, status, contentType, body, err)
	}
	unknown := func(err error) (answer, error) { return fail(OutcomeUnknown, err) }
	if status >= 300 && status < 400 {
		return fail(OutcomeRejected, errors.New("redirect not followed: check the base URL"))
	}
	// Absent and empty strings are alike here: neither is a valid
	// resultcode or sessionId. A field of another JSON type fails.
	var w answerWire
	decodeErr := decodeAnswer(body, &w)
	if status == http.StatusTooManyRequests && (decodeErr != nil || w.ResultCode == "") {
		// Refused before processing, by the platform or a gateway in front.
		return fail(OutcomeRejected, errThrottled)
	}
	if isHTML(contentType) {
		return unknown(errors.New("the answer is an HTML page, not a platform answer"))
	}
	if decodeErr != nil {
		return unknown(fmt.Errorf("the answer is not a platform answer: %w", decodeErr))
	}
	if w.ResultCode == "" {
		return unknown(errors.New("the answer has no resultcode"))
	}
	if code := ResultCode(w.ResultCode); code != CodeSuccess {
		apiErr := &APIError{Op: op, HTTPStatus: status, Code: ResultCode(sanitizeCode(w.ResultCode)), Description: snippetString(w.ResultDesc),
			Body: snippet(body), UserData: userData}
		if status >= 500 {
			return unknown(apiErr)
		}
		return answer{}, apiErr
	}
	if status < 200 || status >= 300 {
		return unknown(fmt.Errorf("resultcode 0 with http status %d", status))
	}
	if w.SessionID == "" {
		return unknown(errors.New("the answer has resultcode 0 but no sessionId"))
	}
	return answer{SessionID: w.SessionID, IdlePort: w.IdlePort, ResultDesc: w.ResultDesc}, nil
}

// answerWire is the platform's answer as sent. Absent and empty strings
// are alike: neither is a valid resultcode or sessionId.
type answerWire struct {
	ResultCode string `json:"resultcode"`
	ResultDesc string `json:"resultdesc"`
	SessionID  string `json:"sessionId"`
	IdlePort   *int   `json:"idlePort"`
}

// decodeAnswer decodes an answer exactly as json.Unmarshal(body, w)
// would. The platform's answers are flat objects of plain strings and one
// integer: fastAnswer decodes those in one pass, and anything else (escapes,
// other keys, other types, malformed JSON) goes to encoding/json. A fuzz
// target checks that the two never disagree.
func decodeAnswer(body []byte, w *answerWire) error {
	if fastAnswer(body, w) {
		return nil
	}
	*w = answerWire{}
	return json.Unmarshal(body, w)
}

// fastAnswer decodes body into w if it is a JSON object whose members are
// only resultcode, resultdesc and sessionId as strings without escapes or
// control characters and with valid UTF-8, and idlePort as a plain
// integer, each at most once, with JSON white space anywhere between
// tokens. It reports false, with w partly written, for anything else.
func fastAnswer(b []byte, w *answerWire) bool {
	var seen [4]bool
	i := skipJSONSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipJSONSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipJSONSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainJSONString(b, i)
		if !ok {
			return false
		}
		i = skipJSONSpace(b, next)
		if i == len(b) || b[i] != ':' {
			return false
		}
		i = skipJSONSpace(b, i+1)
		var field *string
		k := 0
		switch string(key) {
		case "resultcode":
			field, k = &w.ResultCode, 0
		case "resultdesc":
			field, k = &w.ResultDesc, 1
		case "sessionId":
			field, k = &w.SessionID, 2
		case "idlePort":
			k = 3
		default:
			return false // encoding/json also matches other spellings
		}
		if seen[k] {
			return false
		}
		seen[k] = true
		if field != nil {
			v, next, ok := plainJSONString(b, i)
			if !ok {
				return false
			}
			*field, i = string(v), next
		} else {
			n, next, ok := plainJSONInt(b, i)
			if !ok {
				return false
			}
			w.IdlePort, i = &n, next
		}
		i = skipJSONSpace(b, i)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return skipJSONSpace(b, i+1) == len(b)
		case ',':
			i = skipJSONSpace(b, i+1)
		default:
			return false
		}
	}
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainJSONString returns the content of the string at b[i:] if it has
// no escape, no control character and valid UTF-8, and the index after
// its closing quote.
func plainJSONString(b []byte, i int) ([]byte, int, bool) {
	if i == len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			v := b[i+1 : j]
			return v, j + 1, utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainJSONInt returns the integer at b[i:] if it is a JSON number without
// fraction or exponent and of at most 18 digits.
func plainJSONInt(b []byte, i int) (int, int, bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	n := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}

// isHTML reports whether a Content-Type is text/html, without the
// allocations of mime.ParseMediaType.
func isHTML(contentType string) bool {
	const html = "text/html"
	ct := strings.TrimLeft(contentType, " \t")
	if len(ct) < len(html) || !strings.EqualFold(ct[:len(html)], html) {
		return false
	}
	rest := strings.TrimLeft(ct[len(html):], " \t")
	return rest == "" || rest[0] == ';'
}

// sanitizeCode keeps a result code printable; codes are short decimal
// strings, anything else is cut and cleaned.
func sanitizeCode(s string) string {
	if len(s) <= 16 && allDigits(s) {
		return s
	}
	return snippetString(s)
}

func snippetString(s string) string { return snippet([]byte(s)) }

// isCertificateError reports whether err is a failed certificate check,
// which no retry can fix.
func isCertificateError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invErr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uaErr) || errors.As(err, &hostErr) || errors.As(err, &invErr)
}

func randInt63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}

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
