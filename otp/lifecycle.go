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

	// Guard sets the limits applied before any call is placed.
	Guard Guard

	// Codes and Guards keep the state; nil means a [MemoryCodeStore] and
	// a [MemoryGuardStore] of this Lifecycle alone. Give every instance
	// of the application the same shared stores (for example Redis).
	Codes  CodeStore
	Guards GuardStore
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
	codes     CodeStore
	guards    GuardStore
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
		codes:     cfg.Codes,
		guards:    cfg.Guards,
		rand:      rand.Reader,
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
	if l.codes == nil {
		l.codes = NewMemoryCodeStore()
	}
	if l.guards == nil {
		l.guards = NewMemoryGuardStore()
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
}

// Send generates a new code for number and has the platform call number
// and read it out, if the guard allows it. clientKey (an IP address, an
// account id; "" for none) is counted against [Guard].PerClient.
//
// Errors: [ErrInvalidNumber] and [ErrDestinationNotAllowed] (nothing
// sent), a [*RefusedError] (the guard refused; nothing sent), the
// CallVerify error when the platform rejected the call or it was never
// sent (a [*voicecall.APIError], for example; no call was placed and the
// number's cooldown is lifted), or an error of a store. When CallVerify's
// outcome is unknown, Send returns a Sent with Outcome
// [voicecall.OutcomeUnknown] and no error.
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
	number, numberID, code, token string
}

// reserve runs every step of Send before the call: validation, the
// code, the token, the guard.
func (l *Lifecycle) reserve(ctx context.Context, number, clientKey string) (*pendingSend, error) {
	if !validNumber(number) {
		return nil, ErrInvalidNumber
	}
	if !l.guard.allowed(number) {
		return nil, ErrDestinationNotAllowed
	}
	code, err := newCode(l.rand, l.length)
	if err != nil {
		return nil, err
	}
	token := voicecall.NewCorrelationToken()
	p := &pendingSend{number: number, numberID: l.keyed.id("number", number), code: code, token: token}
	clientID := ""
	if clientKey != "" {
		clientID = l.keyed.id("client", clientKey)
	}
	ref, err := l.guards.Reserve(ctx, Reservation{
		Number:   p.numberID,
		Token:    token,
		Cooldown: l.guard.cooldown,
		Hold:     l.ttl,
		Counters: l.guard.counters(p.numberID, clientID),
	})
	if err != nil {
		return nil, errf("send: guard: %w", err)
	}
	if ref.Reason != ReasonNone {
		return nil, &RefusedError{Reason: ref.Reason, RetryAfter: ref.RetryAfter}
	}
	return p, nil
}

// finish runs every step of Send after the call: store the code and
// settle the guard by the call's outcome.
func (l *Lifecycle) finish(ctx context.Context, p *pendingSend, resp *voicecall.CallVerifyResponse, callErr error) (*Sent, error) {
	outcome := voicecall.OutcomeOf(callErr)
	if outcome == voicecall.OutcomeRejected {
		if err := l.guards.Settle(ctx, p.token, SettleFailed); err != nil {
			return nil, errors.Join(callErr, errf("send: guard: %w", err))
		}
		return nil, callErr
	}
	expires := time.Now().Add(l.ttl)
	if err := l.codes.Put(ctx, p.numberID, l.keyed.codeMAC(p.number, p.code), l.ttl); err != nil {
		return nil, errf("send: the call was %s but the code could not be stored: %w", outcome, err)
	}
	sent := &Sent{Outcome: outcome, Token: p.token, ExpiresAt: expires}
	if outcome == voicecall.OutcomeAccepted {
		sent.SessionID = resp.SessionID
		if err := l.guards.Settle(ctx, p.token, SettlePlaced); err != nil {
			return nil, errf("send: guard: %w", err)
		}
	}
	return sent, nil
}

// Check counts one check of the code typed for number and returns nil
// when it is the code last sent and still pending; the code is then
// used up. Errors: [ErrInvalidNumber], [ErrNoCode], [ErrWrongCode],
// [ErrTooManyChecks], or an error of the store.
func (l *Lifecycle) Check(ctx context.Context, number, code string) error {
	if !validNumber(number) {
		return ErrInvalidNumber
	}
	res, err := l.codes.Check(ctx, l.keyed.id("number", number), l.keyed.codeMAC(number, code), l.maxChecks)
	if err != nil {
		return errf("check: %w", err)
	}
	switch res {
	case CheckValid:
		return nil
	case CheckWrong:
		return ErrWrongCode
	case CheckExhausted:
		return ErrTooManyChecks
	case CheckNone:
		return ErrNoCode
	}
	return errf("check: store returned %s", res)
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
	if err := l.guards.Settle(ctx, ev.UserData, st); err != nil {
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
	if err := l.guards.Settle(ctx, rec.UserData, st); err != nil {
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

// validNumber applies the platform's rule for calleeNbr: "+" and digits,
// 4-31 characters.
func validNumber(s string) bool {
	if len(s) < voicecall.MinNumberLen || len(s) > voicecall.MaxNumberLen || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
