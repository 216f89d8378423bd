package otp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/internal/fakeclock"
	"github.com/voicecall-go/voicecall/otp"
	"github.com/voicecall-go/voicecall/voicetest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

const phone = "+8613500000001"

// env is a Lifecycle on a voicetest platform whose notifications reach
// the Lifecycle through a voicecall.Handler.
type env struct {
	srv *voicetest.Server
	lc  *otp.Lifecycle

	mu   sync.Mutex    // guards lc and gate for the handler's goroutines
	gate chan struct{} // when set, notifications wait for it to close
}

// holdNotifications makes the receiver wait before it passes a
// notification on, until the returned function is called.
func (e *env) holdNotifications() (release func()) {
	g := make(chan struct{})
	e.mu.Lock()
	e.gate = g
	e.mu.Unlock()
	return sync.OnceFunc(func() { close(g) })
}

func newEnv(t *testing.T, tune func(*otp.Config), opts ...voicetest.Option) *env {
	t.Helper()
	e := &env{}
	lc := func() *otp.Lifecycle {
		e.mu.Lock()
		l, g := e.lc, e.gate
		e.mu.Unlock()
		if g != nil {
			<-g
		}
		return l
	}
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnStatus: func(ctx context.Context, ev *voicecall.StatusEvent) error { return lc().ObserveStatus(ctx, ev) },
		OnFee:    func(ctx context.Context, rec *voicecall.FeeRecord) error { return lc().ObserveFee(ctx, rec) },
	})
	require.NoError(t, err)
	recv := httptest.NewServer(h)
	t.Cleanup(recv.Close)
	e.srv = voicetest.Start(t, append([]voicetest.Option{voicetest.WithNotifyURLs(recv.URL, recv.URL)}, opts...)...)
	client, err := e.srv.NewClient()
	require.NoError(t, err)
	cfg := otp.Config{Client: client, Key: testKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav"}
	if tune != nil {
		tune(&cfg)
	}
	l, err := otp.New(cfg)
	require.NoError(t, err)
	e.mu.Lock()
	e.lc = l
	e.mu.Unlock()
	return e
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// codeOf returns the code the platform read out in the call with token.
func (e *env) codeOf(t *testing.T, token string) string {
	t.Helper()
	c, err := e.srv.WaitCall(ctxT(t), func(c voicetest.Call) bool { return c.UserData == token })
	require.NoError(t, err)
	return c.VerifyCode
}

// waitPush waits until the receiver answered a push of eventType about
// the call with token (the Lifecycle has then seen it).
func (e *env) waitPush(t *testing.T, token string, kind voicetest.Kind, eventType voicecall.EventType) {
	t.Helper()
	c, err := e.srv.WaitCall(ctxT(t), func(c voicetest.Call) bool { return c.UserData == token })
	require.NoError(t, err)
	_, err = e.srv.WaitDelivery(ctxT(t), func(d voicetest.Delivery) bool {
		return d.Kind == kind && d.EventType == eventType && d.Has(c.SessionID) && d.OK()
	})
	require.NoError(t, err)
}

func refusal(t *testing.T, err error) *otp.RefusedError {
	t.Helper()
	var r *otp.RefusedError
	require.ErrorAs(t, err, &r)
	assert.ErrorIs(t, err, otp.ErrRefused)
	return r
}

func TestSendThenCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "203.0.113.7")
	require.NoError(t, err)
	assert.Equal(t, voicecall.OutcomeAccepted, sent.Outcome)
	assert.NotEmpty(t, sent.SessionID)
	assert.True(t, voicecall.IsCorrelationToken(sent.Token))
	assert.WithinDuration(t, time.Now().Add(otp.DefaultTTL), sent.ExpiresAt, 5*time.Second)

	code := e.codeOf(t, sent.Token)
	assert.Len(t, code, otp.DefaultCodeLength)
	calls := e.srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, phone, calls[0].CalleeNbr)
	assert.Equal(t, sent.SessionID, calls[0].SessionID)

	assert.Len(t, sent.ID, 22, "128 bits in base64url")
	assert.Equal(t, otp.Destination{Country: "CN", Range: "+861350000"}, sent.Destination)
	other, err := e.lc.Send(ctx, "+8613500000002", "203.0.113.7")
	require.NoError(t, err)
	assert.NotEqual(t, sent.ID, other.ID)
	assert.ErrorIs(t, e.lc.Check(ctx, other.ID, code, ""), otp.ErrWrongCode, "another verification")
	require.NoError(t, e.lc.Check(ctx, sent.ID, code, ""))
	assert.ErrorIs(t, e.lc.Check(ctx, sent.ID, code, ""), otp.ErrNoCode, "a code works once")
}

func TestCheckCounting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		wrong  int
		target error
	}{
		{"RightOnFifthCheck", 4, nil},
		{"RightAfterFiveWrong", 5, otp.ErrTooManyChecks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			ctx := ctxT(t)
			sent, err := e.lc.Send(ctx, phone, "")
			require.NoError(t, err)
			code := e.codeOf(t, sent.Token)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := range tc.wrong {
				err := e.lc.Check(ctx, sent.ID, wrong, "")
				var w *otp.WrongCodeError
				require.ErrorAs(t, err, &w, "wrong check %d", i+1)
				assert.ErrorIs(t, err, otp.ErrWrongCode)
				assert.Equal(t, otp.DefaultMaxChecks-1-i, w.AttemptsLeft)
			}
			err = e.lc.Check(ctx, sent.ID, code, "")
			if tc.target == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.target)
			}
		})
	}
}

// TestMalformedCodeIsNotCounted: a code of the wrong length or with
// other characters than digits is refused before the store and costs
// no attempt.
func TestMalformedCodeIsNotCounted(t *testing.T) {
	t.Parallel()
	var checked int
	e := newEnv(t, func(c *otp.Config) {
		c.MaxChecks = 2
		c.Hooks.Checked = func(context.Context, otp.CheckedEvent) { checked++ }
	})
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	code := e.codeOf(t, sent.Token)
	for _, bad := range []string{"", code + "0", code[:5], "12345a", " " + code[1:], "１２３４５６"} {
		assert.ErrorIs(t, e.lc.Check(ctx, sent.ID, bad, ""), otp.ErrMalformedCode, "%q", bad)
	}
	assert.Zero(t, checked, "nothing reached the store")
	assert.ErrorIs(t, e.lc.Check(ctx, sent.ID, wrongCode(code), ""), otp.ErrWrongCode)
	assert.NoError(t, e.lc.Check(ctx, sent.ID, code, ""), "one attempt of two was used")
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// plus852 is a NumberPolicy that also allows Hong Kong's 8-digit numbers.
type plus852 struct{}

func (plus852) Check(number string) (otp.Destination, error) {
	if rest, ok := strings.CutPrefix(number, "+852"); ok && len(rest) == 8 {
		return otp.Destination{Country: "HK", Range: "+852" + rest[:7]}, nil
	}
	return otp.ChinaNumbers{}.Check(number)
}

func TestSendRefusedBeforeAnythingIsSent(t *testing.T) {
	t.Parallel()
	var refused []otp.RefusedEvent
	e := newEnv(t, func(c *otp.Config) {
		c.Numbers = plus852{}
		c.Hooks.Refused = func(_ context.Context, ev otp.RefusedEvent) { refused = append(refused, ev) }
	})
	ctx := ctxT(t)
	for _, tc := range []struct {
		number string
		want   error
		reason string
	}{
		{"", otp.ErrInvalidNumber, `"+" followed by digits`},
		{"8613500000001", otp.ErrInvalidNumber, `"+" followed by digits`},
		{"+86135000x0001", otp.ErrInvalidNumber, `"+" followed by digits`},
		{"+86", otp.ErrInvalidNumber, `"+" followed by digits`},
		{"+861", otp.ErrInvalidNumber, "too short for CN"},
		{"+8600135000000", otp.ErrInvalidNumber, "starts with 0"},
		{"+86" + strings.Repeat("0", 27), otp.ErrInvalidNumber, "starts with 0"},
		{"+86" + strings.Repeat("1", 27), otp.ErrInvalidNumber, "too long for CN"},
		{"+" + strings.Repeat("8", 31), otp.ErrInvalidNumber, `"+" followed by digits`},
		{"+8690012345678", otp.ErrDestinationNotAllowed, "premium-rate number"},
		{"+864001234567", otp.ErrDestinationNotAllowed, "shared-cost number"},
		{"+14155550100", otp.ErrDestinationNotAllowed, "only +86"},
		{"+447700900123", otp.ErrDestinationNotAllowed, "only +86"},
	} {
		_, err := e.lc.Send(ctx, tc.number, "")
		assert.ErrorIs(t, err, tc.want, "%q", tc.number)
		var de *otp.DestinationError
		if assert.ErrorAs(t, err, &de, "%q", tc.number) {
			assert.Contains(t, de.Reason, tc.reason, "%q", tc.number)
			assert.True(t, strings.HasPrefix(err.Error(), "otp: "), err.Error())
		}
		if len(tc.number) > 6 {
			assert.NotContains(t, err.Error(), tc.number[4:], "the error does not echo the number")
		}
	}
	assert.Empty(t, e.srv.Requests(), "nothing was sent")
	require.Len(t, refused, 13)
	assert.Equal(t, otp.RefusedEvent{Detail: "premium-rate number"}, refused[9])
	sent, err := e.lc.Send(ctx, "+85291234567", "")
	require.NoError(t, err, "a number the policy allows")
	assert.Equal(t, otp.Destination{Country: "HK", Range: "+8529123456"}, sent.Destination)
}

func TestCooldown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := ctxT(t)
	_, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	_, err = e.lc.Send(ctx, phone, "")
	r := refusal(t, err)
	assert.Equal(t, otp.ReasonCooldown, r.Reason)
	assert.Greater(t, r.RetryAfter, 55*time.Second)
	assert.LessOrEqual(t, r.RetryAfter, otp.DefaultCooldown)
	assert.Contains(t, err.Error(), "cooldown, retry after 60s")
	assert.Len(t, e.srv.Requests(), 1, "the refused send sent nothing")
	_, err = e.lc.Send(ctx, "+8613500000002", "")
	assert.NoError(t, err, "another number is not in the cooldown")
}

func TestResendIssuesANewCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) { c.Guard.Cooldown = -1 })
	ctx := ctxT(t)
	first, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	old := e.codeOf(t, first.Token)
	var second *otp.Sent
	for range 20 { // a new code can equal the old one by chance (1 in a million)
		second, err = e.lc.Send(ctx, phone, "")
		require.NoError(t, err)
		if e.codeOf(t, second.Token) != old {
			break
		}
	}
	assert.ErrorIs(t, e.lc.Check(ctx, first.ID, old, ""), otp.ErrNoCode, "the old verification stopped working")
	assert.ErrorIs(t, e.lc.Check(ctx, second.ID, old, ""), otp.ErrWrongCode, "the old code is not the new one")
	assert.NoError(t, e.lc.Check(ctx, second.ID, e.codeOf(t, second.Token), ""))
}

func TestFailedCallLiftsCooldown(t *testing.T) {
	t.Parallel()
	for _, sc := range []voicetest.Scenario{voicetest.ScenarioBusy, voicetest.ScenarioNoAnswer, voicetest.ScenarioPoweredOff} {
		t.Run(string(sc), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, voicetest.WithCalleeScenario(phone, sc))
			ctx := ctxT(t)
			release := e.holdNotifications()
			t.Cleanup(release)
			sent, err := e.lc.Send(ctx, phone, "")
			require.NoError(t, err)
			_, err = e.lc.Send(ctx, phone, "")
			assert.Equal(t, otp.ReasonCooldown, refusal(t, err).Reason)
			release()
			e.waitPush(t, sent.Token, voicetest.KindStatus, voicecall.EventDisconnect)
			_, err = e.lc.Send(ctx, phone, "")
			assert.NoError(t, err, "a failed call can be resent at once")
		})
	}
}

func TestAnsweredCallKeepsCooldown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	e.waitPush(t, sent.Token, voicetest.KindFee, voicecall.EventFee)
	_, err = e.lc.Send(ctx, phone, "")
	assert.Equal(t, otp.ReasonCooldown, refusal(t, err).Reason)
}

// spyStore records the reservations a Lifecycle makes and can fail its
// operations.
type spyStore struct {
	otp.Store
	mu           sync.Mutex
	reservations []otp.Reservation
	settled      []otp.Settlement
	failReserve  error // returned by Reserve after the reservation was made
	failSettle   error // returned by Settle instead of settling
}

func (s *spyStore) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
	ref, err := s.Store.Reserve(ctx, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reservations = append(s.reservations, r)
	if s.failReserve != nil {
		return otp.Refusal{}, s.failReserve
	}
	return ref, err
}

func (s *spyStore) Settle(ctx context.Context, token string, st otp.Settlement) error {
	s.mu.Lock()
	s.settled = append(s.settled, st)
	fail := s.failSettle
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	return s.Store.Settle(ctx, token, st)
}

func (s *spyStore) last() otp.Reservation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reservations[len(s.reservations)-1]
}

func TestRejectedCallLiftsCooldown(t *testing.T) {
	t.Parallel()
	spy := &spyStore{Store: otp.NewMemoryStore()}
	e := newEnv(t, func(c *otp.Config) { c.Store = spy })
	ctx := ctxT(t)
	require.NoError(t, e.srv.FailNext(1, voicetest.FailCode("1020165")))
	_, err := e.lc.Send(ctx, phone, "")
	var apiErr *voicecall.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, voicecall.OutcomeRejected, voicecall.OutcomeOf(err))
	assert.Empty(t, e.srv.Calls())
	assert.Equal(t, []otp.Settlement{otp.SettleReleased}, spy.settled, "released in the same request")
	assert.ErrorIs(t, e.lc.Check(ctx, spy.last().ID, "123456", ""), otp.ErrNoCode, "no code from a rejected call")
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err, "nothing rang, so no cooldown")
	assert.NoError(t, e.lc.Check(ctx, sent.ID, e.codeOf(t, sent.Token), ""))
}

func TestUnknownOutcomeHoldsUntilSettled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) { c.Guard.Cooldown = -1 })
	ctx := ctxT(t)
	require.NoError(t, e.srv.FailNext(1, voicetest.DropResponse()))
	release := e.holdNotifications()
	t.Cleanup(release)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	assert.Equal(t, voicecall.OutcomeUnknown, sent.Outcome)
	assert.Empty(t, sent.SessionID)
	// Even without a cooldown, nothing is sent while the outcome is unknown.
	_, err = e.lc.Send(ctx, phone, "")
	r := refusal(t, err)
	assert.Equal(t, otp.ReasonPending, r.Reason)
	assert.Greater(t, r.RetryAfter, 4*time.Minute)
	assert.LessOrEqual(t, r.RetryAfter, otp.DefaultTTL)
	release()
	e.waitPush(t, sent.Token, voicetest.KindStatus, voicecall.EventCallout)
	code := e.codeOf(t, sent.Token)
	assert.NoError(t, e.lc.Check(ctx, sent.ID, code, ""), "the code of a call placed despite the unknown outcome works")
	_, err = e.lc.Send(ctx, phone, "")
	assert.NoError(t, err, "settled by the callout")
	assert.Len(t, e.srv.Calls(), 2)
}

func TestCaps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		guard   otp.Guard
		numbers []string
		client  string
		want    otp.Reason
		window  time.Duration
	}{
		{"PerNumberHour", otp.Guard{Cooldown: -1, PerNumberHour: 2}, []string{phone, phone}, "", otp.ReasonNumberHourly, time.Hour},
		{"PerNumberDay", otp.Guard{Cooldown: -1, PerNumberHour: -1, PerNumberDay: 2}, []string{phone, phone}, "", otp.ReasonNumberDaily, 24 * time.Hour},
		{"PerClient", otp.Guard{PerClient: 2, ClientWindow: 10 * time.Minute}, []string{"+8613500000001", "+8613500000002"}, "198.51.100.1", otp.ReasonClient, 10 * time.Minute},
		{"GlobalPerMinute", otp.Guard{GlobalPerMinute: 2}, []string{"+8613500000001", "+8613500000002"}, "", otp.ReasonGlobal, time.Minute},
		{"GlobalPerHour", otp.Guard{GlobalPerHour: 2}, []string{"+8613500000001", "+8613500000002"}, "", otp.ReasonGlobalHourly, time.Hour},
		{"GlobalPerDay", otp.Guard{GlobalPerDay: 2}, []string{"+8613500000001", "+8613500000002"}, "", otp.ReasonGlobalDaily, 24 * time.Hour},
		{"PerNetworkV4", otp.Guard{PerNetwork: 2}, []string{"+8613500000001", "+8613500000002"}, "198.51.100.1", otp.ReasonNetwork, time.Hour},
		{"PerNetworkV6", otp.Guard{PerNetwork: 2}, []string{"+8613500000001", "+8613500000002"}, "2001:db8:1:2::1", otp.ReasonNetwork, time.Hour},
		{"OpaqueClientKey", otp.Guard{PerClient: 2}, []string{"+8613500000001", "+8613500000002"}, "account-17", otp.ReasonClient, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *otp.Config) { c.Guard = tc.guard })
			ctx := ctxT(t)
			for _, n := range tc.numbers {
				_, err := e.lc.Send(ctx, n, tc.client)
				require.NoError(t, err)
			}
			next := tc.numbers[len(tc.numbers)-1]
			if tc.want != otp.ReasonNumberHourly && tc.want != otp.ReasonNumberDaily {
				next = "+8613500000003"
			}
			_, err := e.lc.Send(ctx, next, tc.client)
			r := refusal(t, err)
			assert.Equal(t, tc.want, r.Reason)
			assert.Greater(t, r.RetryAfter, tc.window-time.Minute)
			assert.LessOrEqual(t, r.RetryAfter, tc.window)
			assert.Len(t, e.srv.Requests(), len(tc.numbers))
			if tc.client != "" {
				other := map[otp.Reason]string{otp.ReasonClient: "198.51.100.2", otp.ReasonNetwork: "198.51.101.1"}[tc.want]
				if strings.Contains(tc.client, ":") {
					other = "2001:db8:1:3::1" // another /64
				}
				_, err := e.lc.Send(ctx, next, other)
				assert.NoError(t, err, "another client (network)")
			}
		})
	}
}

// TestConcurrentSendsPlaceOneCall: two instances sharing stores, asked to
// send to one number at the same moment, place one call.
func TestConcurrentSendsPlaceOneCall(t *testing.T) {
	t.Parallel()
	store := otp.NewMemoryStore()
	shared := func(c *otp.Config) { c.Store = store }
	e := newEnv(t, shared)
	client, err := e.srv.NewClient()
	require.NoError(t, err)
	other, err := otp.New(otp.Config{Client: client, Key: testKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav", Store: store})
	require.NoError(t, err)
	ctx := ctxT(t)
	start := make(chan struct{})
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			lc := e.lc
			if i%2 == 1 {
				lc = other
			}
			_, errs[i] = lc.Send(ctx, phone, "")
		}()
	}
	close(start)
	wg.Wait()
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, otp.ErrRefused)
		}
	}
	assert.Equal(t, 1, ok)
	assert.Len(t, e.srv.Requests(), 1, "one call placed")
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	client, err := srv.NewClient()
	require.NoError(t, err)
	good := otp.Config{Client: client, Key: testKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav"}
	for _, tc := range []struct {
		name string
		tune func(*otp.Config)
		want string
	}{
		{"NoClient", func(c *otp.Config) { c.Client = nil }, "Client is required"},
		{"ShortKey", func(c *otp.Config) { c.Key = c.Key[:31] }, "Key must be at least 32 bytes"},
		{"CodeLength3", func(c *otp.Config) { c.CodeLength = 3 }, "CodeLength must be 4-8"},
		{"CodeLength9", func(c *otp.Config) { c.CodeLength = 9 }, "CodeLength must be 4-8"},
		{"NegativeTTL", func(c *otp.Config) { c.TTL = -time.Second }, "TTL"},
		{"NoDisplay", func(c *otp.Config) { c.DisplayNumber = "" }, "displayNbr"},
		{"NoPreTone", func(c *otp.Config) { c.PreTone = "" }, "preTone"},
	} {
		cfg := good
		tc.tune(&cfg)
		_, err := otp.New(cfg)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "voicecall: otp: "), tc.name)
	}
	_, err = otp.New(good)
	assert.NoError(t, err)
}

func TestCodeLengthAndNoSecretsInErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) { c.CodeLength = 8; c.MaxChecks = 1 })
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	code := e.codeOf(t, sent.Token)
	assert.Len(t, code, 8)
	_, err = e.lc.Send(ctx, phone, "")
	require.Error(t, err)
	wrongErr := e.lc.Check(ctx, sent.ID, wrongCode(code)+"00", "")
	exhausted := e.lc.Check(ctx, sent.ID, code, "")
	assert.ErrorIs(t, exhausted, otp.ErrTooManyChecks)
	for _, err := range []error{err, wrongErr, exhausted} {
		assert.NotContains(t, err.Error(), code)
		assert.NotContains(t, err.Error(), "13500000001")
	}
}

func TestObserveIgnoresForeignUserData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	assert.NoError(t, e.lc.ObserveStatus(ctx, nil))
	assert.NoError(t, e.lc.ObserveFee(ctx, nil))
	assert.NoError(t, e.lc.ObserveStatus(ctx, &voicecall.StatusEvent{Type: voicecall.EventDisconnect, UserData: "order-17", HasStateCode: true, StateCode: voicecall.StateCalleeBusy}))
	_, err = e.lc.Send(ctx, phone, "")
	assert.Equal(t, otp.ReasonCooldown, refusal(t, err).Reason)
	// The call's own token settles it.
	require.NoError(t, e.lc.ObserveStatus(ctx, &voicecall.StatusEvent{Type: voicecall.EventDisconnect, UserData: sent.Token, HasStateCode: true, StateCode: voicecall.StateCalleeBusy}))
	_, err = e.lc.Send(ctx, phone, "")
	assert.NoError(t, err)
}

func TestCallFailed(t *testing.T) {
	t.Parallel()
	for c, want := range map[voicecall.StateCode]bool{
		voicecall.StateHangUpAfterAnswer:  false,
		voicecall.StateMaxDurationReached: false,
		voicecall.StateCalleeBusy:         true,
		voicecall.StateCalleeNoAnswer:     true,
		voicecall.StateCalleePoweredOff:   true,
		voicecall.StateRingTimeout:        true,
	} {
		assert.Equal(t, want, otp.CallFailed(c), "%d", c)
	}
}

func TestRefusedErrorAndReason(t *testing.T) {
	t.Parallel()
	err := error(&otp.RefusedError{Reason: otp.ReasonGlobal, RetryAfter: 1500 * time.Millisecond})
	assert.Equal(t, "voicecall: otp: refused by the guard: global, retry after 2s", err.Error())
	assert.True(t, errors.Is(err, otp.ErrRefused))
	assert.Equal(t, int64(1), otp.RetryAfterSeconds(0))
	assert.Equal(t, int64(60), otp.RetryAfterSeconds(time.Minute))
	assert.Equal(t, "Reason(99)", otp.Reason(99).String())
	assert.Equal(t, "exhausted", otp.CheckExhausted.String())
	assert.Equal(t, "range", otp.ReasonRange.String())
	werr := error(&otp.WrongCodeError{AttemptsLeft: 3})
	assert.Equal(t, "voicecall: otp: wrong code: 3 attempts left", werr.Error())
	assert.ErrorIs(t, werr, otp.ErrWrongCode)
}

// TestFailedStoreReleases: when the store fails after it made the
// reservation (its reply lost for good), Send releases it before it
// returns: no call, no code, and the number is free at once.
func TestFailedStoreReleases(t *testing.T) {
	t.Parallel()
	spy := &spyStore{Store: otp.NewMemoryStore(), failReserve: errors.New("connection reset")}
	e := newEnv(t, func(c *otp.Config) { c.Store = spy })
	ctx := ctxT(t)
	_, err := e.lc.Send(ctx, phone, "203.0.113.7")
	require.ErrorContains(t, err, "connection reset")
	assert.True(t, strings.HasPrefix(err.Error(), "voicecall: otp: send: store: "), err.Error())
	assert.Empty(t, e.srv.Requests(), "no call")
	assert.Equal(t, []otp.Settlement{otp.SettleReleased}, spy.settled)
	failed := spy.last()
	assert.ErrorIs(t, e.lc.Check(ctx, failed.ID, "123456", ""), otp.ErrNoCode)
	spy.mu.Lock()
	spy.failReserve = nil
	spy.mu.Unlock()
	sent, err := e.lc.Send(ctx, phone, "203.0.113.7")
	require.NoError(t, err, "nothing held")
	assert.NoError(t, e.lc.Check(ctx, sent.ID, e.codeOf(t, sent.Token), ""))
}

// orderStore checks that the code is stored before its call is placed.
type orderStore struct {
	otp.Store
	srv          *voicetest.Server
	callsAtStore []int
}

func (s *orderStore) Reserve(ctx context.Context, r otp.Reservation) (otp.Refusal, error) {
	s.callsAtStore = append(s.callsAtStore, len(s.srv.Requests()))
	return s.Store.Reserve(ctx, r)
}

func TestCodeStoredBeforeCall(t *testing.T) {
	t.Parallel()
	srv := voicetest.Start(t)
	client, err := srv.NewClient()
	require.NoError(t, err)
	st := &orderStore{Store: otp.NewMemoryStore(), srv: srv}
	lc, err := otp.New(otp.Config{Client: client, Key: testKey, DisplayNumber: "+8675528000088", PreTone: "pretone.wav", Store: st})
	require.NoError(t, err)
	ctx := ctxT(t)
	for _, n := range []string{"+8613500000001", "+8613500000002"} {
		_, err := lc.Send(ctx, n, "")
		require.NoError(t, err)
	}
	assert.Equal(t, []int{0, 1}, st.callsAtStore, "each code was stored before its call was requested")
}

// events records every hook call as a line.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (e *events) add(format string, a ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lines = append(e.lines, fmt.Sprintf(format, a...))
}

func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.lines
	e.lines = nil
	return l
}

func (e *events) hooks() otp.Hooks {
	return otp.Hooks{
		Sent: func(_ context.Context, ev otp.SentEvent) {
			e.add("sent %s %s %s", ev.Country, ev.Range, ev.Outcome)
		},
		Refused: func(_ context.Context, ev otp.RefusedEvent) {
			e.add("refused %q %q %s %q record-only=%v", ev.Country, ev.Range, ev.Reason, ev.Detail, ev.RecordOnly)
		},
		Checked: func(_ context.Context, ev otp.CheckedEvent) {
			e.add("checked %s %s left=%d %s", ev.Result, ev.Country, ev.AttemptsLeft, ev.Range)
		},
		Approved:    func(_ context.Context, ev otp.VerificationEvent) { e.add("approved %s %s", ev.Country, ev.Range) },
		Expired:     func(_ context.Context, ev otp.VerificationEvent) { e.add("expired %s %s", ev.Country, ev.Range) },
		MaxAttempts: func(_ context.Context, ev otp.VerificationEvent) { e.add("max-attempts %s %s", ev.Country, ev.Range) },
	}
}

func TestHooks(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ev := &events{}
	var ids []string
	e := newEnv(t, func(c *otp.Config) {
		c.Now = clock.Now
		c.MaxChecks = 2
		c.Hooks = ev.hooks()
		sent := c.Hooks.Sent
		c.Hooks.Sent = func(ctx context.Context, s otp.SentEvent) { ids = append(ids, s.ID); sent(ctx, s) }
	})
	ctx := ctxT(t)
	a, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID}, ids, "the event names the verification")
	codeA := e.codeOf(t, a.Token)
	_, err = e.lc.Send(ctx, phone, "")
	require.Error(t, err)
	require.NoError(t, e.lc.Check(ctx, a.ID, codeA, ""))
	assert.Equal(t, []string{
		"sent CN +861350000 accepted",
		`refused "CN" "+861350000" cooldown "cooldown" record-only=false`,
		"checked valid CN left=1 +861350000",
		"approved CN +861350000",
	}, ev.take())

	b, err := e.lc.Send(ctx, "+8613500000002", "")
	require.NoError(t, err)
	codeB := e.codeOf(t, b.Token)
	for range 2 {
		assert.ErrorIs(t, e.lc.Check(ctx, b.ID, wrongCode(codeB), ""), otp.ErrWrongCode)
	}
	assert.ErrorIs(t, e.lc.Check(ctx, b.ID, codeB, ""), otp.ErrTooManyChecks)
	assert.Equal(t, []string{
		"sent CN +861350000 accepted",
		"checked wrong CN left=1 +861350000",
		"checked wrong CN left=0 +861350000",
		"max-attempts CN +861350000",
		"checked exhausted CN left=0 +861350000",
	}, ev.take())

	c, err := e.lc.Send(ctx, "+8613600000003", "")
	require.NoError(t, err)
	codeC := e.codeOf(t, c.Token)
	clock.Add(otp.DefaultTTL)
	assert.ErrorIs(t, e.lc.Check(ctx, c.ID, codeC, ""), otp.ErrNoCode)
	_, err = e.lc.Send(ctx, "+861", "")
	require.Error(t, err)
	assert.Equal(t, []string{
		"sent CN +861360000 accepted",
		"checked expired CN left=0 +861360000",
		"expired CN +861360000",
		`refused "" "" none "too short for CN" record-only=false`,
	}, ev.take())
	for _, code := range []string{codeA, codeB, codeC} {
		assert.NotContains(t, fmt.Sprint(ev.lines), code)
	}
}

func TestHookPanicIsRecovered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) {
		c.Hooks.Sent = func(context.Context, otp.SentEvent) { panic("a broken hook") }
	})
	sent, err := e.lc.Send(ctxT(t), phone, "")
	require.NoError(t, err)
	assert.NoError(t, e.lc.Check(ctxT(t), sent.ID, e.codeOf(t, sent.Token), ""))
}

func TestRecordOnly(t *testing.T) {
	t.Parallel()
	ev := &events{}
	e := newEnv(t, func(c *otp.Config) {
		c.Guard = otp.Guard{GlobalPerMinute: 1, RecordOnly: true}
		c.Hooks.Refused = ev.hooks().Refused
	})
	ctx := ctxT(t)
	for _, n := range []string{"+8613500000001", "+8613500000002", "+8613500000001"} {
		_, err := e.lc.Send(ctx, n, "")
		require.NoError(t, err, n)
	}
	assert.Len(t, e.srv.Calls(), 3, "nothing refused")
	assert.Equal(t, []string{
		`refused "CN" "+861350000" global "global" record-only=true`,
		`refused "CN" "+861350000" cooldown "cooldown" record-only=true`,
	}, ev.take())
}

func TestChecksRateLimitedPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) { c.Guard.ChecksPerClient = 2 })
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	code := e.codeOf(t, sent.Token)
	const stranger = "198.51.100.9"
	assert.ErrorIs(t, e.lc.Check(ctx, "AAAAAAAAAAAAAAAAAAAAAA", code, stranger), otp.ErrNoCode)
	assert.ErrorIs(t, e.lc.Check(ctx, "AAAAAAAAAAAAAAAAAAAAAB", code, stranger), otp.ErrNoCode)
	err = e.lc.Check(ctx, sent.ID, code, stranger)
	r := refusal(t, err)
	assert.Equal(t, otp.ReasonChecks, r.Reason)
	assert.Greater(t, r.RetryAfter, 59*time.Minute)
	assert.NoError(t, e.lc.Check(ctx, sent.ID, code, "203.0.113.7"), "the owner is not locked out")
}

// TestPlacedCallKeepsItsID: when the store fails to lift the hold after
// the call was placed, Send still returns the verification, whose code
// works; the number stays held until a notification settles the call.
func TestPlacedCallKeepsItsID(t *testing.T) {
	t.Parallel()
	spy := &spyStore{Store: otp.NewMemoryStore(), failSettle: errors.New("connection reset")}
	e := newEnv(t, func(c *otp.Config) { c.Store = spy; c.Guard.Cooldown = -1 })
	release := e.holdNotifications()
	t.Cleanup(release)
	ctx := ctxT(t)
	sent, err := e.lc.Send(ctx, phone, "")
	require.NoError(t, err)
	assert.Equal(t, []otp.Settlement{otp.SettlePlaced}, spy.settled)
	_, err = e.lc.Send(ctx, phone, "")
	assert.Equal(t, otp.ReasonPending, refusal(t, err).Reason, "still held")
	assert.NoError(t, e.lc.Check(ctx, sent.ID, e.codeOf(t, sent.Token), ""))
}

// TestRangeAllowance: unverified sends to one range are capped at Base,
// and each verified send earns Factor more; other ranges are apart.
func TestRangeAllowance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *otp.Config) {
		c.Guard.Range = otp.Allowance{Base: 2, Factor: 1}
		c.Guard.Country = otp.Allowance{Base: -1}
	})
	ctx := ctxT(t)
	first, err := e.lc.Send(ctx, "+8613500000001", "")
	require.NoError(t, err)
	_, err = e.lc.Send(ctx, "+8613500000002", "")
	require.NoError(t, err)
	_, err = e.lc.Send(ctx, "+8613500000003", "")
	r := refusal(t, err)
	assert.Equal(t, otp.ReasonRange, r.Reason)
	assert.Greater(t, r.RetryAfter, 59*time.Minute)
	_, err = e.lc.Send(ctx, "+8613600000003", "")
	assert.NoError(t, err, "another range")
	require.NoError(t, e.lc.Check(ctx, first.ID, e.codeOf(t, first.Token), ""))
	// 1 verified: 2 + 1 = 3 unverified allowed, 1 used.
	for _, n := range []string{"+8613500000003", "+8613500000004"} {
		_, err = e.lc.Send(ctx, n, "")
		assert.NoError(t, err, "a verified send earned room")
	}
	_, err = e.lc.Send(ctx, "+8613500000005", "")
	assert.Equal(t, otp.ReasonRange, refusal(t, err).Reason)
}
