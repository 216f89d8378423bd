package voicetest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	"github.com/voicecall-go/voicecall/aksk"
	"github.com/voicecall-go/voicecall/voicetest"
)

func placeCall(t *testing.T, srv *voicetest.Server, callee, userData, statusURL, feeURL string) string {
	t.Helper()
	client, err := srv.NewClient()
	require.NoError(t, err)
	resp, err := client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: callee, LanguageType: 2,
		PreTone: "pretone.wav", VerifyCode: "2468", UserData: userData,
		StatusURL: statusURL, FeeURL: feeURL,
	})
	require.NoError(t, err)
	return resp.SessionID
}

func isFee(id string) func(voicetest.Delivery) bool {
	return func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Has(id) }
}

func TestScenarioLifecycles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sc        voicetest.Scenario
		events    []voicecall.EventType
		stateCode voicecall.StateCode
		release   int
		sip       int
		answered  bool
		alerted   bool
	}{
		{voicetest.ScenarioAnswered, []voicecall.EventType{"callout", "alerting", "answer", "disconnect"}, 0, 0, 0, true, true},
		{voicetest.ScenarioNoAnswer, []voicecall.EventType{"callout", "alerting", "disconnect"}, 8101, 514, 480, false, true},
		{voicetest.ScenarioBusy, []voicecall.EventType{"callout", "disconnect"}, 8102, 518, 486, false, false},
		{voicetest.ScenarioPoweredOff, []voicecall.EventType{"callout", "disconnect"}, 8104, 518, 480, false, false},
		{voicetest.ScenarioRejected, []voicecall.EventType{"callout", "alerting", "disconnect"}, 8004, 518, 603, false, true},
		{voicetest.ScenarioNotExist, []voicecall.EventType{"callout", "disconnect"}, 8100, 518, 404, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.sc), func(t *testing.T) {
			t.Parallel()
			status, fee := newReceiver(t), newReceiver(t)
			const callee = "+8613500000009"
			srv := voicetest.Start(t, voicetest.WithCalleeScenario(callee, tt.sc))
			id := placeCall(t, srv, callee, "corr-1", status.URL+"/status", fee.URL+"/fee")
			d, err := srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			assert.True(t, d.OK())
			assert.Equal(t, fee.URL+"/fee", d.URL)

			assert.Equal(t, tt.events, tt.sc.Events())
			assert.Equal(t, tt.stateCode, tt.sc.StateCode())

			// Status events arrived in order, each once, about this call.
			var got []voicecall.EventType
			var times []string
			for _, p := range status.got() {
				assert.Equal(t, jsonContentType, p.Header.Get("Content-Type"))
				assert.Empty(t, p.Header.Get(aksk.Header), "unsigned by default")
				var ev statusEvent
				require.NoError(t, json.Unmarshal(p.Body, &ev))
				got = append(got, voicecall.EventType(ev.EventType))
				times = append(times, ev.StatusInfo.Timestamp)
				assert.Equal(t, id, ev.StatusInfo.SessionID)
				assert.Equal(t, "+8675528000088", ev.StatusInfo.Caller)
				assert.Equal(t, callee, ev.StatusInfo.Called)
				assert.Equal(t, "corr-1", ev.StatusInfo.UserData)
				_, err := time.Parse("2006-01-02 15:04:05", ev.StatusInfo.Timestamp)
				assert.NoError(t, err)
				if ev.EventType == "disconnect" {
					require.NotNil(t, ev.StatusInfo.StateCode)
					assert.Equal(t, int(tt.stateCode), *ev.StatusInfo.StateCode)
					assert.NotEmpty(t, ev.StatusInfo.StateDesc)
				} else {
					assert.Nil(t, ev.StatusInfo.StateCode)
				}
			}
			assert.Equal(t, tt.events, got)
			assert.True(t, sort.StringsAreSorted(times), "timestamps in order: %v", times)

			pushes := fee.got()
			require.Len(t, pushes, 1)
			var batch feeBatch
			require.NoError(t, json.Unmarshal(pushes[0].Body, &batch))
			assert.Equal(t, "fee", batch.EventType)
			require.Len(t, batch.FeeLst, 1)
			c := batch.FeeLst[0]
			assert.Equal(t, id, c.SessionID)
			assert.Equal(t, 0, c.Direction)
			assert.Equal(t, voicetest.DefaultSPID, c.SpID)
			assert.Equal(t, voicetest.DefaultAppKey, c.AppKey)
			assert.Regexp(t, `^CAE-\d{14}-\d{8}$`, c.ICID)
			assert.Equal(t, "+8675528000088", c.BindNum)
			assert.Equal(t, "+8675528000088", c.CallerNum)
			assert.Equal(t, callee, c.CalleeNum)
			assert.Equal(t, "001", c.ServiceType)
			assert.Equal(t, voicetest.DefaultHostName, c.HostName)
			assert.Equal(t, "corr-1", c.UserData)
			assert.Equal(t, tt.release, c.ULFailReason)
			assert.Equal(t, tt.sip, c.SIPStatusCode)
			assert.Equal(t, times[0], c.CallOutStartTime)
			assert.Equal(t, times[len(times)-1], c.CallEndTime)
			assert.Equal(t, tt.answered, c.CallOutAnswerTime != "")
			assert.Equal(t, tt.alerted, c.CallOutAlertingTime != "")
			assert.Equal(t, tt.answered, c.FailTime == "")

			ended, err := srv.WaitCall(testCtx(t), func(c voicetest.Call) bool { return c.SessionID == id && c.Ended })
			require.NoError(t, err)
			assert.Equal(t, tt.stateCode, ended.StateCode)
		})
	}
}

func TestDefaultURLsAndScenario(t *testing.T) {
	t.Parallel()
	appRecv, srvRecv := newReceiver(t), newReceiver(t)
	srv := voicetest.Start(t,
		voicetest.WithApp(voicetest.App{Key: "k1", Secret: "s1", StatusURL: appRecv.URL + "/s"}),
		voicetest.WithNotifyURLs("", srvRecv.URL+"/f"),
		voicetest.WithScenario(voicetest.ScenarioBusy))
	client, err := srv.NewClient()
	require.NoError(t, err)
	resp, err := client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234",
	})
	require.NoError(t, err)
	_, err = srv.WaitDelivery(testCtx(t), isFee(resp.SessionID))
	require.NoError(t, err)
	assert.Len(t, appRecv.got(), 2, "callout and disconnect to the app's console URL")
	assert.Len(t, srvRecv.got(), 1, "the CDR to the server's default URL")
	assert.Equal(t, voicetest.ScenarioBusy, srv.Calls()[0].Scenario)

	require.NoError(t, srv.SetScenario("", voicetest.ScenarioNotExist))
	require.NoError(t, srv.SetScenario("+8613500000002", voicetest.ScenarioPoweredOff))
	assert.Error(t, srv.SetScenario("", "flying"))
	_, err = client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000001", LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234",
	})
	require.NoError(t, err)
	_, err = client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
		DisplayNumber: "+8675528000088", CalleeNumber: "+8613500000002", LanguageType: 2, PreTone: "p.wav", VerifyCode: "1234",
	})
	require.NoError(t, err)
	calls := srv.Calls()
	assert.Equal(t, voicetest.ScenarioNotExist, calls[1].Scenario)
	assert.Equal(t, voicetest.ScenarioPoweredOff, calls[2].Scenario)
}

func TestParseScenario(t *testing.T) {
	t.Parallel()
	for _, sc := range voicetest.Scenarios() {
		got, err := voicetest.ParseScenario(strings.ToUpper(string(sc)))
		require.NoError(t, err)
		assert.Equal(t, sc, got)
	}
	_, err := voicetest.ParseScenario("flying")
	assert.ErrorContains(t, err, "voicetest: unknown scenario")
}

// TestCDRMerge places 120 calls whose CDRs share an end time (the clock is
// fixed) and checks that they are pushed in batches of at most 50.
func TestCDRMerge(t *testing.T) {
	t.Parallel()
	fee := newReceiver(t)
	fixed := time.Now().Truncate(time.Second)
	srv := voicetest.Start(t,
		voicetest.WithClock(func() time.Time { return fixed }),
		voicetest.WithTimeScale(0),
		voicetest.WithMergeWindow(2*time.Second),
		voicetest.WithNotifyURLs("", fee.URL))
	client, err := srv.NewClient()
	require.NoError(t, err)
	const n = 120
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.CallVerify(testCtx(t), &voicecall.CallVerifyRequest{
				DisplayNumber: "+8675528000088", CalleeNumber: fmt.Sprintf("+86135%08d", i), LanguageType: 2,
				PreTone: "p.wav", VerifyCode: "1234",
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	total := 0
	var sizes []int
	for total < n {
		d, err := srv.WaitDelivery(testCtx(t), func(d voicetest.Delivery) bool { return d.Seq == len(sizes)+1 })
		require.NoError(t, err)
		require.Equal(t, voicetest.KindFee, d.Kind)
		var batch feeBatch
		require.NoError(t, json.Unmarshal(d.Body, &batch))
		require.Len(t, batch.FeeLst, len(d.SessionIDs))
		for _, c := range batch.FeeLst {
			assert.Equal(t, batch.FeeLst[0].CallEndTime, c.CallEndTime)
		}
		sizes = append(sizes, len(batch.FeeLst))
		total += len(batch.FeeLst)
	}
	assert.Equal(t, []int{50, 50, 20}, sizes)
}

func TestFeeRetrySchedule(t *testing.T) {
	t.Parallel()
	status, fee := newReceiver(t), newReceiver(t)
	status.status = func(string, int) int { return http.StatusInternalServerError }
	fee.status = func(_ string, n int) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	const interval = 30 * time.Millisecond
	srv := voicetest.Start(t, voicetest.WithFeeRetry(6, interval), voicetest.WithTimeScale(0))
	id := placeCall(t, srv, "+8613500000001", "", status.URL, fee.URL)
	last, err := srv.WaitDelivery(testCtx(t), func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.OK() })
	require.NoError(t, err)
	assert.Equal(t, 3, last.Attempt)

	var fees []voicetest.Delivery
	for _, d := range srv.Deliveries() {
		if d.Kind == voicetest.KindFee {
			fees = append(fees, d)
		} else {
			assert.Equal(t, 1, d.Attempt, "status events are never retried")
			assert.Equal(t, http.StatusInternalServerError, d.StatusCode)
		}
	}
	require.Len(t, fees, 3)
	for i, d := range fees {
		assert.Equal(t, i+1, d.Attempt)
		assert.Equal(t, []string{id}, d.SessionIDs)
		assert.Equal(t, fees[0].Body, d.Body, "the same batch is pushed again")
		if i > 0 {
			assert.GreaterOrEqual(t, d.Time.Sub(fees[i-1].Time), interval)
		}
	}
	assert.Equal(t, []int{503, 503, 200}, []int{fees[0].StatusCode, fees[1].StatusCode, fees[2].StatusCode})
	assert.Len(t, status.got(), 4, "four status events, none retried")
}

func TestFeeRetryGivesUp(t *testing.T) {
	t.Parallel()
	fee := newReceiver(t)
	fee.status = func(string, int) int { return http.StatusNoContent } // only 200 counts
	srv := voicetest.Start(t, voicetest.WithFeeRetry(2, time.Millisecond), voicetest.WithTimeScale(0))
	id := placeCall(t, srv, "+8613500000001", "", "", fee.URL)
	_, err := srv.WaitDelivery(testCtx(t), func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Attempt == 3 })
	require.NoError(t, err)
	srv.Close() // waits for the pusher: no fourth attempt can follow
	assert.Len(t, fee.got(), 3)
	assert.True(t, srv.Deliveries()[0].Has(id))
}

func TestPushToDeadReceiver(t *testing.T) {
	t.Parallel()
	dead := newReceiver(t)
	url := dead.URL
	dead.Close()
	srv := voicetest.Start(t, voicetest.WithFeeRetry(0, 0), voicetest.WithTimeScale(0))
	id := placeCall(t, srv, "+8613500000001", "", url, url)
	d, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	assert.Error(t, d.Err)
	assert.Zero(t, d.StatusCode)
	assert.False(t, d.OK())
}

// TestPushSigning checks the signature of pushes with the formula of
// Huawei's notification pages, computed here.
func TestPushSigning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		layout aksk.PushLayout
		sep    string
	}{{aksk.PushLayoutNewline, "\n"}, {aksk.PushLayoutConcat, ""}} {
		t.Run(fmt.Sprint(int(tc.layout)), func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t)
			srv := voicetest.Start(t, voicetest.WithPushSigning(tc.layout, nil), voicetest.WithTimeScale(0))
			url := rc.URL + "/notify?token=abc"
			id := placeCall(t, srv, "+8613500000001", "", url, url)
			_, err := srv.WaitDelivery(testCtx(t), isFee(id))
			require.NoError(t, err)
			pushes := rc.got()
			require.Len(t, pushes, 5)
			for _, p := range pushes {
				assert.Equal(t, aksk.AuthorizationValue, p.Header.Get("Authorization"))
				tok, err := aksk.Parse(p.Header.Get(aksk.Header))
				require.NoError(t, err)
				assert.Equal(t, voicetest.DefaultAppKey, tok.Username)
				created, err := time.Parse("2006-01-02T15:04:05Z", tok.Created)
				require.NoError(t, err)
				assert.WithinDuration(t, time.Now(), created, time.Minute)
				m := hmac.New(sha256.New, []byte(voicetest.DefaultAppSecret))
				m.Write([]byte(url + tc.sep + tok.Nonce + tc.sep + tok.Created))
				assert.Equal(t, base64.StdEncoding.EncodeToString(m.Sum(nil)), tok.PasswordDigest)
			}
		})
	}
}

func TestSignLayoutVectors(t *testing.T) {
	t.Parallel()
	// Candidate values of both layouts of Huawei's notification pages for the same inputs.
	for _, tc := range []struct{ sep, want string }{
		{"\n", "a8GQi36zPRy+sXysQJnoN+eLkwoFIzpS34jil3d0ZvQ="},
		{"", "RTbVvFrV4Ou9k4XJOkUnTdp43hklwbbcONn4Jbpz5FY="},
	} {
		m := hmac.New(sha256.New, []byte("myAppSecret"))
		m.Write([]byte("https://www.huawei.com:9330/fee" + tc.sep + "66C92B11FF8A425FB8D4CCFE0ED9ED1F" + tc.sep + "2018-02-12T15:30:20Z"))
		assert.Equal(t, tc.want, base64.StdEncoding.EncodeToString(m.Sum(nil)), "the formula the push test uses")
	}
}

func TestHooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lines []string
	add := func(s string) { mu.Lock(); lines = append(lines, s); mu.Unlock() }
	rc := newReceiver(t)
	srv := voicetest.Start(t, voicetest.WithTimeScale(0), voicetest.WithHooks(voicetest.Hooks{
		Request:  func(r voicetest.Request) { add("request " + string(r.ResultCode)) },
		Call:     func(c voicetest.Call) { add(fmt.Sprintf("call ended=%v", c.Ended)) },
		Delivery: func(d voicetest.Delivery) { add("delivery " + string(d.EventType)) },
	}))
	id := placeCall(t, srv, "+8613500000001", "", rc.URL, rc.URL)
	_, err := srv.WaitDelivery(testCtx(t), isFee(id))
	require.NoError(t, err)
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"request 0", "call ended=false", "delivery callout", "delivery alerting", "delivery answer",
		"delivery disconnect", "call ended=true", "delivery fee"}, lines)
}
