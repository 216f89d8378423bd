package otp

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"

	"github.com/voicecall-go/voicecall"
)

// Defaults of [Config].
const (
	DefaultTTL       = 5 * time.Minute
	DefaultMaxChecks = 5
	// MinKeyLen is the shortest server key New accepts.
	MinKeyLen = 32
)

// Config configures a [Lifecycle]. Client, Key, DisplayNumber and PreTone
// are required; every other field is optional.
type Config struct {
	// Client places the calls.
	Client *voicecall.Client
	// Key is the server's secret for the MACs of codes and the hashes of
	// numbers and client keys: at least 32 random bytes, the same on every
	// instance that shares the stores, and never stored with them.
	Key []byte

	// DisplayNumber, PreTone, PostTone, LanguageType, Times, StatusURL and
	// FeeURL fill the [voicecall.CallVerifyRequest] of every call (see its
	// fields). LanguageType 0 means [voicecall.LanguageChinese].
	DisplayNumber string
	PreTone       string
	PostTone      string
	LanguageType  int
	Times         *int
	StatusURL     string
	FeeURL        string

	// CodeLength is the number of digits of a code, 4-8 (default 6).
	CodeLength int
	// TTL is how long a code can be checked (default 5 minutes). It also
	// bounds how long a call whose outcome is unknown holds its number.
	TTL time.Duration
	// MaxChecks is how many checks a code allows, right or wrong
	// (default 5).
	MaxChecks int

	// Guard sets the limits applied before any call is placed and any
	// code compared.
	Guard Guard
	// Numbers decides which numbers may be called (nil: [ChinaNumbers]).
	Numbers NumberPolicy
	// Hooks report every step of a verification (see [Hooks]).
	Hooks Hooks

	// Store keeps the state; nil means a [MemoryStore] of this Lifecycle
	// alone. Give every instance of the application the same shared
	// store (for example redisstore's).
	Store Store
	// Now is the clock of ExpiresAt and of the default MemoryStore (nil:
	// time.Now); set it for tests and simulations.
	Now func() time.Time
}

// Lifecycle sends and checks verification codes. It is safe for
// concurrent use. Build it with [New].
type Lifecycle struct {
	client    *voicecall.Client
	tmpl      voicecall.CallVerifyRequest
	keyed     keyed
	length    int
	ttl       time.Duration
	maxChecks int
	guard     resolved
	numbers   NumberPolicy
	hooks     Hooks
	store     Store
	now       func() time.Time
	rand      io.Reader // test seam
}

// New returns a Lifecycle for cfg.
func New(cfg Config) (*Lifecycle, error) {
	switch {
	case cfg.Client == nil:
		return nil, errf("new: Client is required")
	case len(cfg.Key) < MinKeyLen:
		return nil, errf("new: Key must be at least %d bytes", MinKeyLen)
	case cfg.CodeLength != 0 && (cfg.CodeLength < MinCodeLength || cfg.CodeLength > MaxCodeLength):
		return nil, errf("new: CodeLength must be %d-%d", MinCodeLength, MaxCodeLength)
	case cfg.TTL < 0:
		return nil, errf("new: TTL must not be negative")
	case cfg.MaxChecks < 0:
		return nil, errf("new: MaxChecks must not be negative")
	}
	l := &Lifecycle{
		client: cfg.Client,
		tmpl: voicecall.CallVerifyRequest{
			DisplayNumber: cfg.DisplayNumber,
			PreTone:       cfg.PreTone,
			PostTone:      cfg.PostTone,
			LanguageType:  cfg.LanguageType,
			Times:         cfg.Times,
			StatusURL:     cfg.StatusURL,
			FeeURL:        cfg.FeeURL,
		},
		keyed:     keyed{key: append([]byte(nil), cfg.Key...)},
		length:    cfg.CodeLength,
		ttl:       cfg.TTL,
		maxChecks: cfg.MaxChecks,
		guard:     cfg.Guard.resolve(),
		numbers:   cfg.Numbers,
		hooks:     cfg.Hooks,
		store:     cfg.Store,
		now:       cfg.Now,
		rand:      rand.Reader,
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.numbers == nil {
		l.numbers = ChinaNumbers{}
	}
	if l.tmpl.LanguageType == 0 {
		l.tmpl.LanguageType = voicecall.LanguageChinese
	}
	if l.length == 0 {
		l.length = DefaultCodeLength
	}
	if l.ttl == 0 {
		l.ttl = DefaultTTL
	}
	if l.maxChecks == 0 {
		l.maxChecks = DefaultMaxChecks
	}
	if l.store == nil {
		l.store = NewMemoryStoreClock(l.now)
	}
	// Check the fixed fields once, with stand-ins for the per-call ones.
	probe := l.tmpl
	probe.CalleeNumber, probe.VerifyCode = "+8613500000000", "000000"
	if err := probe.Validate(); err != nil {
		return nil, errf("new: %w", err)
	}
	return l, nil
}

// Sent describes a call placed, or possibly placed, by [Lifecycle.Send].
type Sent struct {
	// ID is the verification's id: opaque, 128 random bits, to give the
	// user (or keep in their session) and pass to [Lifecycle.Check]
	// with the code they heard.
	ID string
	// Outcome is [voicecall.OutcomeAccepted], or [voicecall.OutcomeUnknown]
	// when the call may or may not have been placed: the code is pending
	// anyway (the user may hear it), and the number is held until a
	// notification settles the call or the code expires.
	Outcome voicecall.Outcome
	// SessionID is the platform's id of the call ("" when the outcome is
	// unknown).
	SessionID string
	// Token is the correlation token the call carried as userData.
	Token string
	// ExpiresAt is when the code stops working.
	ExpiresAt time.Time
	// Destination is what the [NumberPolicy] found of the number.
	Destination Destination
}

// Send generates a new code for number, stores it, and has the platform
// call number and read it out, if the [NumberPolicy] and the guard allow
// it. clientKey is the client's IP address (counted by exact address and
// by /24 or /64) or any other opaque key (counted as it is); "" for none.
// A send to a number replaces its earlier verification, which stops
// working.
//
// The code is stored before the call is placed, in the same store step
// that reserves the send. When the call is not placed (the platform
// rejected it, or it was never sent) or the store failed, the
// reservation is released before Send returns, so that the user can ask
// again at once.
//
// Errors: a [*DestinationError] matching [ErrInvalidNumber] or
// [ErrDestinationNotAllowed] (nothing sent), a [*RefusedError] (the
// guard refused; nothing sent), the CallVerify error when the platform
// rejected the call or it was never sent (a [*voicecall.APIError], for
// example), or an error of the store (nothing sent). When CallVerify's
// outcome is unknown, Send returns a Sent with Outcome
// [voicecall.OutcomeUnknown] and no error. Once the call is placed Send
// returns its Sent: when the store then fails to lift the number's hold,
// a resend waits until a notification of the call lifts it or the code
// expires.
func (l *Lifecycle) Send(ctx context.Context, number, clientKey string) (*Sent, error) {
	p, err := l.reserve(ctx, number, clientKey)
	if err != nil {
		return nil, err
	}
	req := l.tmpl
	req.CalleeNumber, req.VerifyCode, req.UserData = number, p.code, p.token
	resp, callErr := l.client.CallVerify(ctx, &req)
	// The settling steps must run even when ctx ended with the call.
	return l.finish(context.WithoutCancel(ctx), p, resp, callErr)
}

// pendingSend is a send the guard let through, before its call.
type pendingSend struct {
	number, code, token, id string
	dest                    Destination
	expires                 time.Time
}

// reserve runs every step of Send before the call: the policy, the
// code, the token, the id, the guard's reservation with the code's MAC.
func (l *Lifecycle) reserve(ctx context.Context, number, clientKey string) (*pendingSend, error) {
	dest, err := l.numbers.Check(number)
	if err != nil {
		var de *DestinationError
		detail := "invalid number"
		if errors.As(err, &de) {
			detail = de.Reason
		}
		call(ctx, l.hooks.Refused, RefusedEvent{Detail: detail})
		return nil, err
	}
	code, err := newCode(l.rand, l.length)
	if err != nil {
		return nil, err
	}
	id, err := newID(l.rand)
	if err != nil {
		return nil, err
	}
	p := &pendingSend{number: number, code: code, token: voicecall.NewCorrelationToken(), id: id, dest: dest, expires: l.now().Add(l.ttl)}
	numberID := l.keyed.id("number", number)
	ref, err := l.store.Reserve(ctx, Reservation{
		ID:          id,
		Token:       p.token,
		Number:      numberID,
		MAC:         l.keyed.codeMAC(id, code),
		MaxChecks:   l.maxChecks,
		TTL:         l.ttl,
		Cooldown:    l.guard.cooldown,
		Country:     dest.Country,
		Range:       dest.Range,
		Counters:    l.guard.counters(l.keyed, numberID, clientKey),
		Conversions: l.guard.conversions(l.keyed, dest),
		RecordOnly:  l.guard.recordOnly,
	})
	if err != nil {
		// The reservation may have been made with its reply lost: undo
		// it, so that nothing stays held (Settle is safe to repeat, and a
		// Reserve repeated after it is refused).
		if rerr := l.store.Settle(context.WithoutCancel(ctx), p.token, SettleReleased); rerr != nil {
			return nil, errors.Join(errf("send: store: %w", err), errf("send: release: %w", rerr))
		}
		return nil, errf("send: store: %w", err)
	}
	if ref.Reason != ReasonNone {
		call(ctx, l.hooks.Refused, RefusedEvent{Country: dest.Country, Range: dest.Range, Reason: ref.Reason, Detail: ref.Reason.String(), RecordOnly: ref.Reserved})
		if !ref.Reserved {
			return nil, &RefusedError{Reason: ref.Reason, RetryAfter: ref.RetryAfter}
		}
	}
	return p, nil
}

// finish runs every step of Send after the call: release the
// reservation of a call not placed, or lift the hold of a placed one.
func (l *Lifecycle) finish(ctx context.Context, p *pendingSend, resp *voicecall.CallResponse, callErr error) (*Sent, error) {
	outcome := voicecall.OutcomeOf(callErr)
	if outcome == voicecall.OutcomeRejected {
		if err := l.store.Settle(ctx, p.token, SettleReleased); err != nil {
			return nil, errors.Join(callErr, errf("send: release: %w", err))
		}
		return nil, callErr
	}
	sent := &Sent{ID: p.id, Outcome: outcome, Token: p.token, ExpiresAt: p.expires, Destination: p.dest}
	if outcome == voicecall.OutcomeAccepted {
		sent.SessionID = resp.SessionID
		// The code is stored and the call placed, so the caller must get
		// the verification's id: a failure to lift the hold only delays
		// a resend, until a notification of the call settles it or the
		// code expires.
		_ = l.store.Settle(ctx, p.token, SettlePlaced)
	}
	call(ctx, l.hooks.Sent, SentEvent{VerificationEvent: VerificationEvent{ID: p.id, Country: p.dest.Country, Range: p.dest.Range}, Outcome: outcome, Token: p.token})
	return sent, nil
}

// Check counts one check of code against verification id and returns
// nil when it is that verification's code, still pending; the
// verification is then used up. clientKey is the client's address or key,
// as for Send ("" for none): its checks are capped by
// [Guard].ChecksPerClient.
//
// A code that is not CodeLength digits is refused with
// [ErrMalformedCode] before the store, and not counted. Errors: [ErrNoCode]
// (unknown, expired or used id: one answer for the three),
// a [*WrongCodeError] matching [ErrWrongCode] (counted; it says how many
// checks are left), [ErrTooManyChecks], a [*RefusedError] with
// [ReasonChecks] (the client's checks are capped; nothing counted), or an
// error of the store.
func (l *Lifecycle) Check(ctx context.Context, id, code, clientKey string) error {
	if len(code) != l.length || !allDigits(code) {
		return ErrMalformedCode
	}
	if !validID(id) {
		call(ctx, l.hooks.Checked, CheckedEvent{VerificationEvent: VerificationEvent{ID: id}, Result: CheckUnknown})
		return ErrNoCode
	}
	op, err := newID(l.rand)
	if err != nil {
		return err
	}
	res, err := l.store.Check(ctx, CheckRequest{ID: id, MAC: l.keyed.codeMAC(id, code), Op: op, Client: l.guard.checkCounter(l.keyed, clientKey)})
	if err != nil {
		return errf("check: store: %w", err)
	}
	ev := VerificationEvent{ID: id, Country: res.Country, Range: res.Range}
	call(ctx, l.hooks.Checked, CheckedEvent{VerificationEvent: ev, Result: res.Status, AttemptsLeft: res.AttemptsLeft})
	switch res.Status {
	case CheckValid:
		call(ctx, l.hooks.Approved, ev)
		return nil
	case CheckWrong:
		if res.AttemptsLeft == 0 {
			call(ctx, l.hooks.MaxAttempts, ev)
		}
		return &WrongCodeError{AttemptsLeft: res.AttemptsLeft}
	case CheckExhausted:
		return ErrTooManyChecks
	case CheckExpired:
		call(ctx, l.hooks.Expired, ev)
		return ErrNoCode
	case CheckUnknown, CheckUsed:
		return ErrNoCode
	case CheckRateLimited:
		return &RefusedError{Reason: ReasonChecks, RetryAfter: res.RetryAfter}
	}
	return errf("check: store returned %s", res.Status)
}

// ObserveStatus settles the call ev belongs to, if it carries a
// correlation token: any event shows the call was placed, and a
// disconnect whose stateCode says the callee was never reached
// ([CallFailed]) lifts the number's cooldown. Call it from
// [voicecall.HandlerConfig].OnStatus.
func (l *Lifecycle) ObserveStatus(ctx context.Context, ev *voicecall.StatusEvent) error {
	if ev == nil || !voicecall.IsCorrelationToken(ev.UserData) {
		return nil
	}
	st := SettlePlaced
	if ev.Type == voicecall.EventDisconnect && ev.HasStateCode && CallFailed(ev.StateCode) {
		st = SettleFailed
	}
	if err := l.store.Settle(ctx, ev.UserData, st); err != nil {
		return errf("observe: guard: %w", err)
	}
	return nil
}

// ObserveFee settles the call rec belongs to, if it carries a
// correlation token: a CDR shows the call was placed, and one of a call
// never answered lifts the number's cooldown. Call it from
// [voicecall.HandlerConfig].OnFee.
func (l *Lifecycle) ObserveFee(ctx context.Context, rec *voicecall.FeeRecord) error {
	if rec == nil || !voicecall.IsCorrelationToken(rec.UserData) {
		return nil
	}
	st := SettlePlaced
	if !rec.Answered() {
		st = SettleFailed
	}
	if err := l.store.Settle(ctx, rec.UserData, st); err != nil {
		return errf("observe: guard: %w", err)
	}
	return nil
}

// CallFailed reports whether a disconnect with stateCode c means the
// callee never heard the code: no answer, busy, powered off, not
// reachable, not existing, ringing timed out or refused, or the platform
// could not connect the call. Such a call can be retried at once.
func CallFailed(c voicecall.StateCode) bool {
	switch c {
	case voicecall.StateNotConnected, voicecall.StateFarEndFailureTone, voicecall.StateRingTimeout,
		voicecall.StateHangUpWhileRinging, voicecall.StateNoVoicePorts,
		voicecall.StateCalleeNotExist, voicecall.StateCalleeNoAnswer, voicecall.StateCalleeBusy,
		voicecall.StateCalleeUnreachable, voicecall.StateCalleePoweredOff, voicecall.StateCalleeHungUpOrSuspended:
		return true
	}
	return false
}
