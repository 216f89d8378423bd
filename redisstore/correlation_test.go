package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/storetest"
	"github.com/voicecall-go/voicecall/voicetest"
)

func TestCorrelationStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.RunCorrelationStoreTests(t, func(t *testing.T, ttl time.Duration) voicecall.CorrelationStore {
		st, _ := newStore(t)
		return st.CorrelationStore(ttl)
	})
}

func TestCorrelationRoundTrips(t *testing.T) {
	t.Parallel()
	st, rt := newStore(t)
	ctx := context.Background()
	c := st.CorrelationStore(0)
	s := voicecall.CallSighting{UserData: "vcwarm", SessionID: "s", LastEvent: voicecall.EventCallout, FirstSeen: time.Now(), LastSeen: time.Now()}
	_, err := c.Observe(ctx, s)
	require.NoError(t, err)
	before := rt.n.Load()
	_, err = c.Observe(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rt.n.Load()-before, "Observe")
	before = rt.n.Load()
	_, ok, err := c.Lookup(ctx, "vcwarm")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(1), rt.n.Load()-before, "Lookup")
}

// TestCorrelationLongIDs: a sessionId over 256 bytes is kept hashed, as
// the core's index keeps it, and a long userData still finds its call.
func TestCorrelationLongIDs(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	c := st.CorrelationStore(0)
	ud := strings.Repeat("u", 300)
	got, err := c.Observe(ctx, voicecall.CallSighting{UserData: ud, SessionID: strings.Repeat("s", 1000), LastEvent: voicecall.EventCallout})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got.SessionID, "sha256:"))
	assert.Len(t, got.SessionID, len("sha256:")+32)
	found, ok, err := c.Lookup(ctx, ud)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, got, found)
}

// TestCorrelationAcrossInstances: a call placed through one instance is
// seen by the receiver of another; the first finds it by its token.
func TestCorrelationAcrossInstances(t *testing.T) {
	t.Parallel()
	stA, _ := newStore(t)
	h, err := voicecall.NewHandler(voicecall.HandlerConfig{Correlations: stA.CorrelationStore(0)})
	require.NoError(t, err)
	recv := httptest.NewServer(h)
	t.Cleanup(recv.Close)
	srv := voicetest.Start(t, voicetest.WithNotifyURLs(recv.URL, recv.URL))
	client, err := srv.NewClient()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: voicecall.LanguageChinese,
		PreTone: "pretone.wav", VerifyCode: "123456",
	})
	require.NoError(t, err)
	_, err = srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool {
		return d.Kind == voicetest.KindFee && d.Has(resp.SessionID) && d.StatusCode == http.StatusOK
	})
	require.NoError(t, err)

	// Another instance: its own connection, the same prefix.
	stB := redisstoreSamePrefix(t, stA)
	s, ok, err := stB.CorrelationStore(0).Lookup(ctx, resp.UserData)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, resp.SessionID, s.SessionID)
	assert.Equal(t, voicecall.EventFee, s.LastEvent)
	assert.True(t, s.Answered)
	assert.True(t, s.HasCDR)
	assert.True(t, s.HasStateCode)
	assert.False(t, s.FirstSeen.IsZero())
	assert.False(t, s.LastSeen.Before(s.FirstSeen))
}
