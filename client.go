package voicecall

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
)

// The SDK's version and the Client's defaults.
const (
	// Version is the SDK's version, sent in the default User-Agent.
	Version = "0.2.0"

	// DefaultTimeout bounds a whole request method, retries included;
	// see [WithTimeout].
	DefaultTimeout = 10 * time.Second

	// DefaultMaxRecordingBytes bounds a [Client.DownloadRecording] when
	// the caller gives no bound: 64 MiB, over two hours of the platform's
	// 8 kHz A-law mono WAV (8,000 bytes a second).
	DefaultMaxRecordingBytes = 64 << 20
)

// Client calls the platform for one app. Create it with [NewClient]; it
// is immutable and safe for concurrent use. Printing a Client, with fmt or
// slog, never shows the app secret.
//
// Each capability of Voice Call (voice verification code, voice
// notification, click-to-call) is its own app on the console, with its
// own APP_Key and APP_Secret, and an app's type cannot be changed: a
// request sent with the credentials of another capability's app fails
// (the call ends with stateCode 7105, service type mismatch, or is
// refused). A backend that uses several capabilities holds one Client per
// app.
type Client struct {
	baseURL         string // scheme, host and path prefix, without a trailing slash
	host            string // host[:port] of the base URL, for hooks
	appKey          string
	secret          func() string // a closure, so that no printing of the struct shows the secret
	signer          *aksk.Signer  // the X-AKSK values, with the secret
	hc              *http.Client
	userAgentValues []string // {the User-Agent}, shared read-only by every request
	logger          *slog.Logger
	timeout         time.Duration
	retry           RetryPolicy
	budget          *retryBudget
	hooks           ClientHooks

	// Test seams.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	jit   func(n int64) int64 // uniform in [0, n)
}

// Option configures a [Client].
type Option func(*config)

type config struct {
	httpClient *http.Client
	tlsConfig  *tls.Config
	userAgent  string
	logger     *slog.Logger
	timeout    time.Duration
	location   *time.Location
	retry      RetryPolicy
	hooks      ClientHooks
	errs       []FieldError
}

// fail records that option (named as the caller wrote it, such as
// "WithTimeout") cannot apply, for NewClient's [*ValidationError].
func (c *config) fail(option, problem string) {
	c.errs = append(c.errs, FieldError{Field: option, Problem: problem})
}

// WithHTTPClient makes the client send requests with a copy of hc; hc
// itself is not modified. The copy never follows redirects (a 307 would
// send the request, and X-AKSK, again, possibly to another host). hc's
// Transport is used as it is: build it with [NewTransport] to keep the
// SDK's settings (short connections, timeouts, TLS verification). Combined
// with [WithTLSConfig], NewClient fails: configure TLS on hc's transport.
//
// No request the SDK builds can be replayed by a transport: request
// bodies have no GetBody, so even Go's HTTP/2 transport, which resends a
// request it can rewind after a stream reset, cannot send a call twice.
// A RoundTripper that retries on its own (a retrying wrapper) defeats
// this: don't use one.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.fail("WithHTTPClient", "must not be nil")
			return
		}
		c.httpClient = hc
	}
}

// WithTLSConfig makes the default transport ([NewTransport]) use a clone
// of cfg, for example to trust a private CA (RootCAs). Certificate
// verification stays on unless cfg turns it off. It cannot be combined
// with [WithHTTPClient].
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) {
		if cfg == nil {
			c.fail("WithTLSConfig", "must not be nil")
			return
		}
		c.tlsConfig = cfg
	}
}

// WithUserAgent sets the User-Agent header (default "voicecall-go/<Version>").
func WithUserAgent(ua string) Option {
	return func(c *config) {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			c.fail("WithUserAgent", "must be non-empty and on one line")
			return
		}
		c.userAgent = ua
	}
}

// WithLogger makes the client log each attempt and its result at debug
// level. The default logs nothing. Logs never contain the app secret, the
// X-AKSK header, its digest or nonce, the verification code or other
// sensitive request values (even when a server echoes them back), and
// phone numbers keep only their last four digits.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.fail("WithLogger", "must not be nil")
			return
		}
		c.logger = l
	}
}

// WithTimeout bounds each request method, retries included (default
// [DefaultTimeout]). A context deadline that comes earlier wins. Zero
// means no bound other than the context's.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.fail("WithTimeout", "must not be negative")
			return
		}
		c.timeout = d
	}
}

// WithCreatedLocation sets the time zone in which Created is written
// (default UTC); see "Authentication" in the package documentation and
// [BeijingTime].
func WithCreatedLocation(loc *time.Location) Option {
	return func(c *config) {
		if loc == nil {
			c.fail("WithCreatedLocation", "must not be nil")
			return
		}
		c.location = loc
	}
}

// WithRetry sets the retry policy; see [RetryPolicy]. Retries also draw
// on a per-Client budget: each failed call takes a token and each
// successful call gives back a tenth of one, and retries stop while half
// of the 10 tokens are gone, so a failing platform never sees more than a
// few retries in a row.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) {
		if p.MaxAttempts < 0 || p.MaxBackoff < 0 || p.BaseDelay < 0 {
			c.fail("WithRetry", "MaxAttempts, MaxBackoff and BaseDelay must not be negative")
			return
		}
		c.retry = p
	}
}

// WithHooks makes the client call h's functions as each request runs;
// see [ClientHooks]. A later WithHooks replaces an earlier one.
func WithHooks(h ClientHooks) Option { return func(c *config) { c.hooks = h } }

// NewClient returns a client for the app with the given key and secret
// (APP_Key and APP_Secret on the console).
//
// baseURL is the app access address from the console, for example
// "https://rtccall.cn-north-1.myhuaweicloud.cn:443". It must be an
// absolute https URL; http is accepted only for loopback hosts
// (127.0.0.0/8, ::1, localhost) so that local fakes work. It is the
// address alone: a path (other than "/"), a query or a fragment is
// refused, since each method appends its API's path (an address copied
// with an API path would make every call fail with 1010006).
//
// Every problem is reported in one [*ValidationError]: a bad baseURL,
// appKey or appSecret (empty or blank) by its argument's name, and an
// option that cannot apply (a nil value, [WithTLSConfig] together with
// [WithHTTPClient], a negative duration) by the option's name, such as
// "WithTimeout"; no option is silently ignored.
func NewClient(baseURL, appKey, appSecret string, opts ...Option) (*Client, error) {
	var fs fieldErrors
	u, problem := parseBaseURL(baseURL)
	fs.add("baseURL", problem)
	switch {
	case strings.TrimSpace(appKey) == "":
		fs.add("appKey", "is required")
	case strings.ContainsAny(appKey, "\"\r\n"):
		fs.add("appKey", "must not contain quotes or line breaks")
	}
	if strings.TrimSpace(appSecret) == "" {
		fs.add("appSecret", "is required")
	}
	if err := fs.err("NewClient"); err != nil {
		return nil, err
	}

	cfg := config{timeout: DefaultTimeout, location: time.UTC, userAgent: "voicecall-go/" + Version}
	for _, o := range opts {
		if o == nil {
			cfg.fail("opts", "must not contain nil")
			continue
		}
		o(&cfg)
	}
	if cfg.httpClient != nil && cfg.tlsConfig != nil {
		cfg.fail("WithTLSConfig", "cannot apply to the transport of WithHTTPClient: configure TLS on that transport (see NewTransport)")
	}
	if len(cfg.errs) > 0 {
		return nil, newValidationError("NewClient", cfg.errs...)
	}

	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		hc.Transport = NewTransport(cfg.tlsConfig)
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		baseURL:         u.Scheme + "://" + u.Host,
		host:            u.Host,
		appKey:          appKey,
		secret:          func() string { return appSecret },
		signer:          aksk.NewSigner(appKey, appSecret, cfg.location),
		hc:              &hc,
		userAgentValues: []string{cfg.userAgent},
		logger:          cfg.logger,
		timeout:         cfg.timeout,
		retry:           cfg.retry.withDefaults(),
		budget:          newRetryBudget(),
		hooks:           cfg.hooks,
		now:             time.Now,
		sleep:           sleepCtx,
		jit:             randInt63n,
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// parseBaseURL checks the base URL.
func parseBaseURL(s string) (*url.URL, string) {
	if s == "" {
		return nil, "is required"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return nil, "must be an absolute URL such as https://rtccall.cn-north-1.myhuaweicloud.cn:443"
	case u.User != nil:
		return nil, "must not contain user information"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, "must not contain a query or fragment"
	case u.Path != "" && u.Path != "/":
		return nil, "must not contain a path: give the app access address alone, such as https://rtccall.cn-north-1.myhuaweicloud.cn:443 (each method adds its API's path)"
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, "must use https (http is allowed only for loopback hosts)"
	default:
		return nil, "must use https"
	}
	return u, ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
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
// only for a [WithHTTPClient] transport that keeps connections alive.
func (c *Client) Close() { c.hc.CloseIdleConnections() }
