package voicetest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

// TestPushesParseWithTheSDK cross-checks the fake's notifications with the
// SDK's independent parser, for every scenario.
func TestPushesParseWithTheSDK(t *testing.T) {
	t.Parallel()
	for _, sc := range voicetest.Scenarios() {
		t.Run(string(sc), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			srv := voicetest.Start(t, voicetest.WithScenario(sc), voicetest.WithTimeScale(0))
			id := placeCall(t, srv, "+8613500000001", "u1", rc.URL, rc.URL)
			_, err := srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			var events []voicecall.EventType
			for _, p := range rc.got() {
				n, err := voicecall.ParseNotification(p.Body)
				require.NoError(t, err, "%s", p.Body)
				switch n.Kind {
				case voicecall.NotificationStatus:
					events = append(events, n.Status.Type)
					assert.Equal(t, id, n.Status.SessionID)
					assert.False(t, n.Status.Timestamp.IsZero(), "timestamp readable")
					assert.Equal(t, "u1", n.Status.UserData)
					if n.Status.Type == voicecall.EventDisconnect {
						assert.True(t, n.Status.HasStateCode)
						assert.Equal(t, sc.StateCode(), n.Status.StateCode)
					}
				case voicecall.NotificationFee:
					require.Len(t, n.Fees, 1)
					f := n.Fees[0]
					assert.Equal(t, id, f.SessionID)
					assert.False(t, f.CallEndTime.IsZero())
					assert.False(t, f.CallOutStartTime.IsZero())
					assert.Equal(t, "u1", f.UserData)
					assert.Equal(t, "001", string(f.ServiceType))
				default:
					t.Fatalf("unexpected notification %v", n.Kind)
				}
			}
			assert.Equal(t, sc.Events(), events)
		})
	}
}

// TestSDKHandlerVerifiesSignedPushes runs the SDK's notification handler,
// with push verification required, as the receiver of signed pushes.
func TestSDKHandlerVerifiesSignedPushes(t *testing.T) {
	t.Parallel()
	for _, layout := range []aksk.PushLayout{aksk.PushLayoutNewline, aksk.PushLayoutConcat} {
		t.Run(fmt.Sprint(int(layout)), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var events []voicecall.EventType
			var fees int
			recv := httptest.NewUnstartedServer(nil)
			url := "http://" + recv.Listener.Addr().String() + "/notify"
			h, err := voicecall.NewHandler(voicecall.HandlerConfig{
				OnStatus: func(_ context.Context, ev *voicecall.StatusEvent) error {
					mu.Lock()
					defer mu.Unlock()
					events = append(events, ev.Type)
					return nil
				},
				OnFee: func(_ context.Context, rec *voicecall.FeeRecord) error {
					mu.Lock()
					defer mu.Unlock()
					fees++
					return nil
				},
				Verification: &voicecall.PushVerification{
					AppSecret: voicetest.DefaultAppSecret,
					AppKey:    voicetest.DefaultAppKey,
					URLs:      []string{url},
				},
			})
			require.NoError(t, err)
			recv.Config.Handler = h
			recv.Start()
			t.Cleanup(recv.Close)

			srv := voicetest.Start(t, voicetest.WithPushSigning(layout, nil), voicetest.WithTimeScale(0))
			id := placeCall(t, srv, "+8613500000001", "", url, url)
			_, err = srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			for _, d := range srv.Deliveries() {
				assert.Equal(t, 200, d.StatusCode, "%s accepted by the SDK's verifier", d.EventType)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, voicetest.ScenarioAnswered.Events(), events)
			assert.Equal(t, 1, fees)

			// A push signed with another secret is refused by the handler.
			other := voicetest.Start(t, voicetest.WithPushSigning(layout, nil), voicetest.WithTimeScale(0),
				voicetest.WithApp(voicetest.App{Key: voicetest.DefaultAppKey, Secret: "another"}))
			id = placeCall(t, other, "+8613500000001", "", url, url)
			d, err := other.WaitDelivery(testCtx(t), func(d voicetest.Delivery) bool { return d.Has(id) })
			require.NoError(t, err)
			assert.Equal(t, 401, d.StatusCode)
		})
	}
}
