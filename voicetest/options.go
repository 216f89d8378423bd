package voicetest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voicecall-go/voicecall/aksk"
)

// Credentials of the app a server knows when no [WithApp] option is given.
// They are fake: use them only against this package's servers.
const (
	DefaultAppKey    = "voicetestAppKey0000000000001"
	DefaultAppSecret = "voicetestAppSecret0000000001"
)

// Defaults of the server's behaviour; see the options that change them.
const (
	DefaultClockSkew   = 5 * time.Minute
	DefaultTimeScale   = 0.01 // 100 times faster than real time
	DefaultPorts       = 1000
	DefaultMergeWindow = 20 * time.Millisecond
	DefaultFeeRetries  = 6
	DefaultPushTimeout = 5 * time.Second
	DefaultHostName    = "callenabler245.huaweicaas.com"
	DefaultSPID        = "voicetest_sp"
	// MaxBatch is the most CDRs the platform puts in one push.
	MaxBatch = 50
	// DefaultMaxRecords is how many requests, calls, deliveries,
	// recordings and downloads the server keeps by default (each kind
	// separately); see [WithMaxRecords].
	DefaultMaxRecords = 1000
)

// App is an application registered on the fake platform, as on the
// console's app management page.
type App struct {
	// Key and Secret are the APP_Key and APP_Secret; both are required.
	Key    string
	Secret string
	// StatusURL and FeeURL are the plain (not Base64) URLs configured on
	// the console for the status and CDR notifications; a request's
	// statusUrl and feeUrl take precedence. Empty means the server's
	// defaults ([WithNotifyURLs]).
	StatusURL string
	FeeURL    string
	// SPID is the customer account carried in CDRs as spId
	// (default [DefaultSPID]).
	SPID string
}

// ConnMode says what the server does with a connection after an answer.
type ConnMode int

const (
	// CloseSilently closes the connection after each answer without a
	// Connection: close header, as the platform does. A pooled client only
	// finds out when it tries to reuse the connection. It is the default.
	CloseSilently ConnMode = iota
	// CloseWithHeader sends Connection: close and closes the connection.
	CloseWithHeader
	// KeepAlive keeps connections open, as net/http servers do.
	KeepAlive
)

// String returns "close-silently", "close-with-header" or "keep-alive".
func (m ConnMode) String() string {
	switch m {
	case CloseSilently:
		return "close-silently"
	case CloseWithHeader:
		return "close-with-header"
	case KeepAlive:
		return "keep-alive"
	}
	return fmt.Sprintf("ConnMode(%d)", int(m))
}

// Hooks are called synchronously, from the server's goroutines, each time
// something is recorded; they must return quickly and must not call
// Close. Any of them may be nil. They receive the same values as
// [Server.Requests], [Server.Calls] and [Server.Deliveries]: a [Call] is
// reported when it is placed and again when it ends.
type Hooks struct {
	Request  func(Request)
	Call     func(Call)
	Delivery func(Delivery)
	// Download is called for each request to the download host.
	Download func(Download)
}

// Option configures a [Server].
type Option func(*config) error

type config struct {
	addr               string
	apps               []App
	statusURL          string
	feeURL             string
	skew               time.Duration
	locations          []*time.Location
	connMode           ConnMode
	scenario           Scenario
	callee             map[string]Scenario
	timeScale          float64
	ports              int
	mergeWindow        time.Duration
	feeRetries         int
	feeInterval        time.Duration
	feeIntervalOK      bool
	pushTimeout        time.Duration
	pushClient         *http.Client
	remotePushes       bool
	signLayout         aksk.PushLayout
	signLocation       *time.Location
	hostName           string
	clock              func() time.Time
	hooks              Hooks
	maxRecords         int
	magic              bool
	control            bool
	digits             map[string][]string
	recordDownloadURLs bool
}

// WithAddr makes the server listen on addr (default "127.0.0.1:0", a free
// loopback port). The server is meant for loopback; listening elsewhere
// exposes a fake that accepts its well-known default credentials.
func WithAddr(addr string) Option {
	return func(c *config) error { c.addr = addr; return nil }
}

// WithApp registers an app. Without it the server knows one app, with
// [DefaultAppKey] and [DefaultAppSecret]; with it, only the apps given.
// The first app is the one [Server.NewClient] uses.
func WithApp(app App) Option {
	return func(c *config) error {
		if app.Key == "" || app.Secret == "" {
			return errors.New("WithApp: Key and Secret are required")
		}
		for _, a := range c.apps {
			if a.Key == app.Key {
				return fmt.Errorf("WithApp: app key %q given twice", app.Key)
			}
		}
		if err := checkPushURL(app.StatusURL); err != nil {
			return fmt.Errorf("WithApp: StatusURL: %w", err)
		}
		if err := checkPushURL(app.FeeURL); err != nil {
			return fmt.Errorf("WithApp: FeeURL: %w", err)
		}
		c.apps = append(c.apps, app)
		return nil
	}
}

// WithNotifyURLs sets the status and CDR URLs used when neither the
// request nor the app gives one. Empty means none: the notifications of
// such calls are not pushed.
func WithNotifyURLs(statusURL, feeURL string) Option {
	return func(c *config) error {
		if err := checkPushURL(statusURL); err != nil {
			return fmt.Errorf("WithNotifyURLs: status URL: %w", err)
		}
		if err := checkPushURL(feeURL); err != nil {
			return fmt.Errorf("WithNotifyURLs: fee URL: %w", err)
		}
		c.statusURL, c.feeURL = statusURL, feeURL
		return nil
	}
}

func checkPushURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http or https URL")
	}
	return nil
}

// WithClockSkew sets how far Created may be from the server's clock, in
// either direction (default [DefaultClockSkew]; the platform does not
// document its value). Nonces are remembered for as long as their Created
// could be accepted.
func WithClockSkew(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("WithClockSkew: must be positive")
		}
		c.skew = d
		return nil
	}
}

// WithCreatedLocations sets the time zones in which Created may be
// written. The default accepts UTC and Beijing time (UTC+8), because
// Huawei's pages say either and publish demos of both kinds as working;
// WithCreatedLocations(time.UTC) makes the server strict.
func WithCreatedLocations(locs ...*time.Location) Option {
	return func(c *config) error {
		if len(locs) == 0 {
			return errors.New("WithCreatedLocations: at least one location is required")
		}
		for _, l := range locs {
			if l == nil {
				return errors.New("WithCreatedLocations: nil location")
			}
		}
		c.locations = append([]*time.Location(nil), locs...)
		return nil
	}
}

// WithConnMode sets what the server does with connections after an answer
// (default [CloseSilently], like the platform).
func WithConnMode(m ConnMode) Option {
	return func(c *config) error {
		if m < CloseSilently || m > KeepAlive {
			return fmt.Errorf("WithConnMode: unknown mode %d", int(m))
		}
		c.connMode = m
		return nil
	}
}

// WithScenario sets the scenario of calls whose callee has none of its
// own (default [ScenarioAnswered]).
func WithScenario(s Scenario) Option {
	return func(c *config) error {
		if !s.valid() {
			return fmt.Errorf("WithScenario: unknown scenario %q", string(s))
		}
		c.scenario = s
		return nil
	}
}

// WithCalleeScenario sets the scenario of calls to callee (a calleeNbr as
// sent, e.g. "+8613500000002").
func WithCalleeScenario(callee string, s Scenario) Option {
	return func(c *config) error {
		if !s.valid() {
			return fmt.Errorf("WithCalleeScenario: unknown scenario %q", string(s))
		}
		if c.callee == nil {
			c.callee = make(map[string]Scenario)
		}
		c.callee[callee] = s
		return nil
	}
}

// WithTimeScale sets how fast calls are played: a call that would take
// 20 s on the platform takes 20 s × f here. The default is
// [DefaultTimeScale]; 1 plays calls in real time; 0 plays them as fast as
// the notifications can be delivered. The timestamps in notifications
// follow the simulated timeline whatever the scale.
func WithTimeScale(f float64) Option {
	return func(c *config) error {
		if f < 0 || f > 10 {
			return errors.New("WithTimeScale: must be between 0 and 10")
		}
		c.timeScale = f
		return nil
	}
}

// WithPorts sets how many calls may be in progress at once (default
// [DefaultPorts]). A request beyond it is answered 1020165, and idlePort
// is this number minus the calls in progress.
func WithPorts(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 65535 {
			return errors.New("WithPorts: must be 1-65535")
		}
		c.ports = n
		return nil
	}
}

// WithMergeWindow sets how long a CDR waits for others with the same end
// time before it is pushed (default [DefaultMergeWindow]). A batch that
// reaches [MaxBatch] CDRs is pushed at once.
func WithMergeWindow(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithMergeWindow: must not be negative")
		}
		c.mergeWindow = d
		return nil
	}
}

// WithFeeRetry sets how many times a CDR push that was not answered with
// HTTP 200 is tried again, and how long to wait before each retry. The
// platform retries 6 times, 1 hour apart; the default is 6 retries, 1 hour
// apart scaled by the time scale ([WithTimeScale]), i.e. 36 s by default.
// retries 0 disables retries.
func WithFeeRetry(retries int, interval time.Duration) Option {
	return func(c *config) error {
		if retries < 0 || interval < 0 {
			return errors.New("WithFeeRetry: must not be negative")
		}
		c.feeRetries, c.feeInterval, c.feeIntervalOK = retries, interval, true
		return nil
	}
}

// WithPushTimeout bounds each push, from connecting to reading the answer
// (default [DefaultPushTimeout]).
func WithPushTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("WithPushTimeout: must be positive")
		}
		c.pushTimeout = d
		return nil
	}
}

// WithRemotePushes lets the server push notifications to any host. By
// default it pushes only to loopback hosts (localhost, 127.0.0.0/8, ::1)
// and records a push elsewhere as a failed [Delivery] without sending
// anything, not even a DNS query, so that tests never reach the network
// even when a request names a public statusUrl or feeUrl.
// [WithPushClient] replaces this check with the given client's own.
func WithRemotePushes() Option {
	return func(c *config) error {
		c.remotePushes = true
		return nil
	}
}

// WithPushClient makes the server push notifications with a copy of hc,
// for example one that trusts an httptest TLS server. hc is not modified;
// the copy never follows redirects, and its Timeout is replaced by the
// push timeout when it has none.
func WithPushClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithPushClient: nil *http.Client")
		}
		c.pushClient = hc
		return nil
	}
}

// WithPushSigning makes the server sign its pushes with the headers
// Authorization (the fixed AKSK value) and X-AKSK, whose PasswordDigest is
// Base64(HMAC-SHA256(app secret, message)) with the message laid out as
// layout says ([aksk.PushLayoutNewline]: url, nonce and created
// separated by newlines, as Huawei's 2026 pages say;
// [aksk.PushLayoutConcat]: concatenated, as the 2023 page says), url
// being the push URL exactly as configured or sent (decoded). Created is
// written in loc (UTC when nil) with the layout 2006-01-02T15:04:05Z.
// Layout 0 sends pushes unsigned, as Huawei's FAQ says the platform does
// (the default).
func WithPushSigning(layout aksk.PushLayout, loc *time.Location) Option {
	return func(c *config) error {
		if layout < 0 || layout > aksk.PushLayoutConcat {
			return fmt.Errorf("WithPushSigning: unknown layout %d", int(layout))
		}
		c.signLayout, c.signLocation = layout, loc
		return nil
	}
}

// WithHostName sets the platform host name used in session ids and CDRs
// (default [DefaultHostName]).
func WithHostName(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("WithHostName: empty name")
		}
		c.hostName = name
		return nil
	}
}

// WithClock sets the server's clock (default time.Now). It decides which
// Created values are fresh and where the simulated timeline of each call
// starts; the wall-clock pace of calls is set by [WithTimeScale] only. A
// fixed clock makes notification times reproducible.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("WithClock: nil clock")
		}
		c.clock = now
		return nil
	}
}

// WithHooks sets functions called as requests, calls and deliveries are
// recorded; see [Hooks].
func WithHooks(h Hooks) Option {
	return func(c *config) error { c.hooks = h; return nil }
}

// WithMaxRecords bounds what the server keeps for inspection: at most the
// n most recent requests, calls, deliveries, recordings and downloads,
// each (default [DefaultMaxRecords]). A request or a call takes about
// 4-5 KiB (its headers and raw body are kept), so the default bounds a
// long-running server to a few megabytes. Older records are dropped
// oldest first; a call in progress keeps playing (and can be stopped)
// after it dropped out of [Server.Calls]. Waits see only what is kept.
func WithMaxRecords(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("WithMaxRecords: must be at least 1")
		}
		c.maxRecords = n
		return nil
	}
}

// WithCalleeDigits scripts the keys callee presses in voice
// notifications that collect digits; see [Server.SetDigits].
func WithCalleeDigits(callee string, presses ...string) Option {
	return func(c *config) error {
		if len(presses) == 0 {
			return errors.New("WithCalleeDigits: no presses")
		}
		for _, p := range presses {
			for _, r := range p {
				if !strings.ContainsRune("0123456789*#", r) {
					return errors.New("WithCalleeDigits: keys must be 0-9, * or #")
				}
			}
		}
		if c.digits == nil {
			c.digits = make(map[string][]string)
		}
		c.digits[callee] = append([]string(nil), presses...)
		return nil
	}
}

// WithRecordFileDownloadURLs makes the CDRs of recorded calls carry the
// download address in recordFileDownloadUrl, with recordDomain empty, as
// some CDRs of the platform do, instead of recordDomain and
// recordObjectName for the recording API.
func WithRecordFileDownloadURLs() Option {
	return func(c *config) error { c.recordDownloadURLs = true; return nil }
}
