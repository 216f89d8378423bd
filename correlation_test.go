package voicecall

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall/internal/fakeclock"
)

func TestCorrelationIndex(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	idx := NewCorrelationIndex(0, 0)
	idx.now = clock.Now
	assert.Equal(t, DefaultCorrelationTTL, idx.ttl)
	h := newHandler(t, HandlerConfig{Correlations: idx})
	h.now = clock.Now
	ctx := context.Background()
	lookup := func(userData string) (CallSighting, bool) {
		s, ok, err := idx.Lookup(ctx, userData)
		require.NoError(t, err)
		return s, ok
	}
	observe := func(n *Notification) {
		for _, s := range sightings(n, clock.Now()) {
			_, err := idx.Observe(ctx, s)
			require.NoError(t, err)
		}
	}

	const token = "vc0123456789abcdef0123456789abcdef"
	const session = "1201_613_4294967295_20190124030455@callenabler245.huaweicaas.com"
	_, ok := lookup(token)
	assert.False(t, ok)

	// The disconnect arrives before the answer (out of order).
	assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, readNotification(t, "status_disconnect.json")).Code)
	answer := fmt.Sprintf(`{"eventType":"answer","statusInfo":{"sessionId":%q,"userData":%q}}`, session, token)
	clock.Add(time.Second)
	assert.Equal(t, 200, serve(t, h, http.MethodPost, jsonContentType, []byte(answer)).Code)
	s, ok := lookup(token)
	require.True(t, ok)
	assert.Equal(t, CallSighting{
		UserData: token, SessionID: session, LastEvent: EventDisconnect, Answered: true,
		StateCode: StateCalleeNoAnswer, HasStateCode: true,
		FirstSeen: clock.Now().Add(-time.Second), LastSeen: clock.Now(),
	}, s)

	n, err := ParseNotification(readNotification(t, "fee_batch50.json"))
	require.NoError(t, err)
	observe(&n)
	s, ok = lookup(fmt.Sprintf("vc%032x", 0xabc000+1))
	require.True(t, ok)
	assert.Equal(t, EventFee, s.LastEvent)
	assert.True(t, s.HasCDR)
	assert.True(t, s.Answered)
	s, _ = lookup(fmt.Sprintf("vc%032x", 0xabc000+5))
	assert.False(t, s.Answered)

	// Empty userData is not indexed.
	n2, err := ParseNotification(readNotification(t, "status_callout_seed.json"))
	require.NoError(t, err)
	observe(&n2)
	_, ok = lookup("")
	assert.False(t, ok)

	clock.Add(DefaultCorrelationTTL + time.Second)
	_, ok = lookup(token)
	assert.False(t, ok, "forgotten after the TTL")
}

func TestCallSightingMerge(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := CallSighting{UserData: "u", SessionID: "s", LastEvent: EventAnswer, Answered: true, FirstSeen: t0, LastSeen: t0}
	tests := []struct {
		name string
		o    CallSighting
		want CallSighting
	}{
		{"earlier event keeps the later", CallSighting{UserData: "u", SessionID: "s", LastEvent: EventCallout, FirstSeen: t0.Add(-time.Second), LastSeen: t0.Add(-time.Second)},
			CallSighting{UserData: "u", SessionID: "s", LastEvent: EventAnswer, Answered: true, FirstSeen: t0.Add(-time.Second), LastSeen: t0}},
		{"disconnect keeps its state code", CallSighting{UserData: "u", SessionID: "s", LastEvent: EventDisconnect, StateCode: StateCalleeBusy, HasStateCode: true, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(time.Second)},
			CallSighting{UserData: "u", SessionID: "s", LastEvent: EventDisconnect, Answered: true, StateCode: StateCalleeBusy, HasStateCode: true, FirstSeen: t0, LastSeen: t0.Add(time.Second)}},
		{"cdr", CallSighting{UserData: "u", SessionID: "s", LastEvent: EventFee, HasCDR: true, LastSeen: t0.Add(time.Minute)},
			CallSighting{UserData: "u", SessionID: "s", LastEvent: EventFee, Answered: true, HasCDR: true, FirstSeen: t0, LastSeen: t0.Add(time.Minute)}},
		{"another session replaces", CallSighting{UserData: "u", SessionID: "s2", LastEvent: EventCallout, FirstSeen: t0, LastSeen: t0},
			CallSighting{UserData: "u", SessionID: "s2", LastEvent: EventCallout, FirstSeen: t0, LastSeen: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, base.Merge(tt.o))
		})
	}
	assert.Equal(t, base, CallSighting{}.Merge(base), "into nothing")
	// A status event without sessionId belongs to the call it names by
	// userData: merged, and the sessionId filled in when it comes.
	noSession := CallSighting{UserData: "u", LastEvent: EventAnswer, Answered: true, FirstSeen: t0, LastSeen: t0}
	cdr := CallSighting{UserData: "u", SessionID: "s", LastEvent: EventFee, HasCDR: true, FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute)}
	assert.Equal(t, CallSighting{UserData: "u", SessionID: "s", LastEvent: EventFee, Answered: true, HasCDR: true, FirstSeen: t0, LastSeen: t0.Add(time.Minute)}, noSession.Merge(cdr))
	assert.Equal(t, "s", cdr.Merge(noSession).SessionID)
	assert.True(t, cdr.Merge(noSession).Answered)
	withCode := base.Merge(CallSighting{UserData: "u", SessionID: "s", LastEvent: EventDisconnect, StateCode: 8101, HasStateCode: true})
	assert.Equal(t, StateCode(8101), withCode.Merge(CallSighting{UserData: "u", SessionID: "s", LastEvent: EventFee}).StateCode, "a later CDR keeps the disconnect's code")
}

func TestSightings(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, err := ParseNotification([]byte(`{"eventType":"DISCONNECT","statusInfo":{"userData":"u1","stateCode":"8101"}}`))
	require.NoError(t, err)
	assert.Equal(t, []CallSighting{{UserData: "u1", LastEvent: EventDisconnect, StateCode: 8101, HasStateCode: true, FirstSeen: now, LastSeen: now}}, sightings(&n, now),
		"a status event without sessionId still says the call was placed")
	n, err = ParseNotification([]byte(`{"eventType":"fee","feeLst":[{"sessionId":"s1","userData":"u1","callOutAnswerTime":"2019-01-24 03:04:31"},{"sessionId":"s2"}]}`))
	require.NoError(t, err)
	assert.Equal(t, []CallSighting{{UserData: "u1", SessionID: "s1", LastEvent: EventFee, Answered: true, HasCDR: true, FirstSeen: now, LastSeen: now}}, sightings(&n, now))
	n, err = ParseNotification(readNotification(t, "unknown_event.json"))
	require.NoError(t, err)
	assert.Empty(t, sightings(&n, now))
}

// TestCorrelationIndexBoundedInBytes: the finding was 2,000 pushes with
// 1 MiB userData held 1,986 MiB; here 500 with 1 MiB sessionIds. Long userData and sessionIds are hashed,
// and the index never counts more than its bound.
func TestCorrelationIndexBoundedInBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const bound = 64 << 10
	idx := NewCorrelationIndex(0, bound)
	long := strings.Repeat("x", 1<<20)
	for i := range 500 {
		ud := fmt.Sprintf("%d%s", i, long[:1000])
		_, err := idx.Observe(ctx, CallSighting{UserData: ud, SessionID: long, LastEvent: EventCallout})
		require.NoError(t, err)
		assert.LessOrEqual(t, idx.set.Bytes(), int64(bound))
	}
	ud := "499" + long[:1000]
	s, ok, err := idx.Lookup(ctx, ud)
	require.NoError(t, err)
	require.True(t, ok, "the latest is kept")
	assert.Equal(t, ud, s.UserData, "Lookup gives back the userData asked for")
	assert.Regexp(t, "^sha256:[0-9a-f]{32}$", s.SessionID)
	_, ok, _ = idx.Lookup(ctx, "0"+long[:1000])
	assert.False(t, ok, "the oldest were dropped at the bound")

	// Merging keeps the same hashed sessionId, so a long one still merges.
	s2, err := idx.Observe(ctx, CallSighting{UserData: ud, SessionID: long, LastEvent: EventAnswer, Answered: true})
	require.NoError(t, err)
	assert.True(t, s2.Answered)
	assert.Equal(t, EventAnswer, s2.LastEvent)
}
