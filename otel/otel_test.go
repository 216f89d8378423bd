package vcotel_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/voicecall-go/voicecall"
	vcotel "github.com/voicecall-go/voicecall/otel"
	"github.com/voicecall-go/voicecall/voicetest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// telemetry is an in-memory tracer and meter provider pair.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	opts   []vcotel.Option
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return &telemetry{spans: spans, reader: reader,
		opts: []vcotel.Option{vcotel.WithTracerProvider(tp), vcotel.WithMeterProvider(mp)}}
}

// histogram returns the data points of the float64 histogram name.
func (tm *telemetry) histogram(t *testing.T, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tm.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, vcotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			if m.Name == name {
				h, ok := m.Data.(metricdata.Histogram[float64])
				require.True(t, ok, "%s is a float64 histogram", name)
				return h.DataPoints
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// sum returns the data points of the int64 counter name.
func (tm *telemetry) sum(t *testing.T, name string) []metricdata.DataPoint[int64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tm.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				s, ok := m.Data.(metricdata.Sum[int64])
				require.True(t, ok, "%s is an int64 sum", name)
				return s.DataPoints
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func attrs(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func setAttrs(s attribute.Set) map[string]any { return attrs(s.ToSlice()) }

var verifyReq = voicecall.CallVerifyRequest{
	DisplayNumber: "+8675528000088", CalleeNumber: "+8613512345678", LanguageType: voicecall.LanguageChinese,
	PreTone: "pretone.wav", VerifyCode: "918273",
}

// TestCallVerifyThroughTheModule: a real CallVerify against voicetest,
// refused once for flow control and retried, makes a call span with two
// attempt spans and records both attempts and the call in the duration
// metrics.
func TestCallVerifyThroughTheModule(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	platform := voicetest.Start(t)
	require.NoError(t, platform.FailNext(1, voicetest.FailCode(voicecall.CodeFlowControl)))
	client, err := platform.NewClient(vcotel.ClientOption(tm.opts...),
		voicecall.WithRetry(voicecall.RetryPolicy{Throttled: true, BaseDelay: time.Millisecond}))
	require.NoError(t, err)

	resp, err := client.CallVerify(context.Background(), &verifyReq)
	require.NoError(t, err)
	require.NotEmpty(t, resp.SessionID)
	require.Len(t, platform.Requests(), 2, "refused once, then accepted")

	ended := tm.spans.Ended()
	require.Len(t, ended, 3, "two attempt spans and the call span")
	call := ended[2]
	assert.Equal(t, "voicecall CallVerify", call.Name())
	assert.Equal(t, trace.SpanKindInternal, call.SpanKind())
	ca := attrs(call.Attributes())
	assert.Equal(t, "CallVerify", ca["voicecall.operation"])
	assert.Equal(t, "accepted", ca["voicecall.outcome"])
	assert.Equal(t, int64(2), ca["voicecall.attempts"])
	assert.Equal(t, "127.0.0.1", ca["server.address"])
	assert.NotContains(t, ca, "error.type")
	assert.Equal(t, codes.Unset, call.Status().Code)

	for i, att := range ended[:2] {
		assert.Equal(t, "POST", att.Name())
		assert.Equal(t, trace.SpanKindClient, att.SpanKind())
		assert.Equal(t, call.SpanContext().SpanID(), att.Parent().SpanID(), "attempt %d is a child of the call", i+1)
		assert.Equal(t, call.SpanContext().TraceID(), att.SpanContext().TraceID())
		a := attrs(att.Attributes())
		assert.Equal(t, "POST", a["http.request.method"])
		assert.Equal(t, "127.0.0.1", a["server.address"])
		assert.Contains(t, a, "server.port")
		assert.Equal(t, int64(200), a["http.response.status_code"])
		assert.Contains(t, a, "voicecall.connection.reused")
	}
	first, second := attrs(ended[0].Attributes()), attrs(ended[1].Attributes())
	assert.NotContains(t, first, "http.request.resend_count", "the first attempt is no resend")
	assert.Equal(t, int64(1), second["http.request.resend_count"])
	assert.Equal(t, "platform", first["error.type"])
	assert.Equal(t, codes.Error, ended[0].Status().Code)
	assert.NotContains(t, second, "error.type")

	points := tm.histogram(t, vcotel.MetricHTTPClientDuration)
	var n uint64
	for _, p := range points {
		n += p.Count
		pa := setAttrs(p.Attributes)
		assert.Equal(t, "POST", pa["http.request.method"])
		assert.Equal(t, "CallVerify", pa["voicecall.operation"])
		assert.Equal(t, int64(200), pa["http.response.status_code"])
		assert.Greater(t, p.Sum, 0.0)
	}
	assert.Equal(t, uint64(2), n, "one duration per attempt")
	assert.Len(t, points, 2, "the refused attempt has its error.type")

	calls := tm.histogram(t, vcotel.MetricCallDuration)
	require.Len(t, calls, 1)
	assert.Equal(t, uint64(1), calls[0].Count)
	assert.Equal(t, map[string]any{"voicecall.operation": "CallVerify", "voicecall.outcome": "accepted", "voicecall.result_code": "0"}, setAttrs(calls[0].Attributes))

	for _, s := range ended {
		for _, kv := range s.Attributes() {
			v := kv.Value.Emit()
			assert.NotContains(t, v, "918273", "no code in %s", kv.Key)
			assert.NotContains(t, v, "+8613512345678", "no number in %s", kv.Key)
			assert.NotContains(t, v, voicetest.DefaultAppSecret, "no secret in %s", kv.Key)
		}
	}
}

// TestCallVerifyRejected: a refusal by the platform ends the call span
// in error with the result code.
func TestCallVerifyRejected(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	platform := voicetest.Start(t)
	client, err := voicecall.NewClient(platform.URL, voicetest.DefaultAppKey, "wrong-secret", vcotel.ClientOption(tm.opts...))
	require.NoError(t, err)
	_, err = client.CallVerify(context.Background(), &verifyReq)
	require.Error(t, err)

	ended := tm.spans.Ended()
	require.Len(t, ended, 2)
	call := attrs(ended[1].Attributes())
	assert.Equal(t, "rejected", call["voicecall.outcome"])
	assert.Equal(t, string(voicecall.CodeAuthFailed), call["voicecall.result_code"])
	assert.Equal(t, string(voicecall.CodeAuthFailed), call["error.type"])
	assert.Equal(t, codes.Error, ended[1].Status().Code)
	assert.NotContains(t, ended[1].Status().Description, "wrong-secret")

	calls := tm.histogram(t, vcotel.MetricCallDuration)
	require.Len(t, calls, 1)
	assert.Equal(t, string(voicecall.CodeAuthFailed), setAttrs(calls[0].Attributes)["voicecall.result_code"])
}

// TestClientHooksDirect calls the hooks as the client does, including in
// the order a lost answer produces, and without the context they return.
func TestClientHooksDirect(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	h := vcotel.ClientHooks(tm.opts...)
	call := voicecall.CallInfo{Operation: "CallStop", Method: "POST", Host: "rtccall.example.com", Path: "/rest/httpsessions/callStop/v2.0"}
	ctx := h.CallStart(context.Background(), call)
	attempt := voicecall.AttemptInfo{Operation: "CallStop", Attempt: 1, Method: "POST", Host: "rtccall.example.com", Path: call.Path}
	actx := h.AttemptStart(ctx, attempt)
	// The end hooks get the start's fields, completed.
	attempt.ErrorClass, attempt.Duration, attempt.Err = "timeout", 2*time.Second, errors.New("voicecall: timeout")
	h.AttemptEnd(actx, attempt)
	call.Outcome, call.Attempts, call.Duration = voicecall.OutcomeUnknown, 1, 2*time.Second
	call.Err = errors.Join(voicecall.ErrOutcomeUnknown, errors.New("timeout"))
	h.CallEnd(ctx, call)

	ended := tm.spans.Ended()
	require.Len(t, ended, 2)
	a := attrs(ended[0].Attributes())
	assert.Equal(t, "timeout", a["error.type"])
	assert.NotContains(t, a, "http.response.status_code", "no answer arrived")
	assert.Equal(t, "rtccall.example.com", a["server.address"])
	assert.NotContains(t, a, "server.port")
	c := attrs(ended[1].Attributes())
	assert.Equal(t, "unknown", c["voicecall.outcome"])
	assert.Equal(t, "unknown", c["error.type"])

	points := tm.histogram(t, vcotel.MetricHTTPClientDuration)
	require.Len(t, points, 1)
	assert.Equal(t, 2.0, points[0].Sum)
	pa := setAttrs(points[0].Attributes)
	assert.Equal(t, "timeout", pa["error.type"])
	assert.Equal(t, "POST", pa["http.request.method"])
	assert.Equal(t, "rtccall.example.com", pa["server.address"])
	assert.Equal(t, "CallStop", pa["voicecall.operation"])

	// Ends called with a context the start hooks did not return still
	// record the metrics and do not panic.
	// The attempt's attributes come from the end's info alone.
	h.AttemptEnd(context.Background(), voicecall.AttemptInfo{Operation: "CallStop", Attempt: 1, Method: "POST", Host: "other.example.com:8443", StatusCode: 200})
	h.CallEnd(context.Background(), voicecall.CallInfo{Operation: "CallStop", Outcome: voicecall.OutcomeAccepted})
	assert.Len(t, tm.spans.Ended(), 2)
	var n uint64
	var sawOther bool
	for _, p := range tm.histogram(t, vcotel.MetricHTTPClientDuration) {
		n += p.Count
		if pa := setAttrs(p.Attributes); pa["server.address"] == "other.example.com" {
			sawOther = true
			assert.Equal(t, int64(8443), pa["server.port"])
			assert.Equal(t, "POST", pa["http.request.method"])
			assert.Equal(t, "CallStop", pa["voicecall.operation"])
			assert.Equal(t, int64(200), pa["http.response.status_code"])
		}
	}
	assert.Equal(t, uint64(2), n)
	assert.True(t, sawOther, "an end without its start's context still records method and server")
}

// TestNotificationsThroughTheModule: a real CallVerify against voicetest,
// whose status events and CDR are pushed to a real Handler wired with
// HandlerHooks, makes a span and a duration per notification, and counts
// the CDR; a re-pushed CDR batch is counted as a duplicate.
func TestNotificationsThroughTheModule(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	hooks := vcotel.HandlerHooks(tm.opts...)
	// The Handler calls NotificationEnd after answering: tell the test when
	// it has run.
	ended := make(chan voicecall.NotificationInfo, 64)
	end := hooks.NotificationEnd
	hooks.NotificationEnd = func(ctx context.Context, info voicecall.NotificationInfo) {
		end(ctx, info)
		ended <- info
	}
	handler, err := voicecall.NewHandler(voicecall.HandlerConfig{
		OnStatus: func(context.Context, *voicecall.StatusEvent) error { return nil },
		OnFee:    func(context.Context, *voicecall.FeeRecord) error { return nil },
		Hooks:    hooks,
	})
	require.NoError(t, err)
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	platform := voicetest.Start(t, voicetest.WithTimeScale(0))
	client, err := platform.NewClient(vcotel.ClientOption(tm.opts...))
	require.NoError(t, err)
	req := verifyReq
	req.StatusURL, req.FeeURL = receiver.URL+"/voice/status", receiver.URL+"/voice/fee"
	resp, err := client.CallVerify(context.Background(), &req)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = platform.WaitDelivery(ctx, func(d voicetest.Delivery) bool { return d.Kind == voicetest.KindFee && d.Has(resp.SessionID) })
	require.NoError(t, err)
	var pushes int
	for _, d := range platform.Deliveries() {
		if d.Has(resp.SessionID) {
			pushes++
		}
	}
	require.GreaterOrEqual(t, pushes, 2, "status events and a CDR")
	for i := 0; i < pushes; i++ {
		select {
		case <-ended:
		case <-ctx.Done():
			t.Fatalf("%d of %d notifications ended", i, pushes)
		}
	}

	var notifications []sdktrace.ReadOnlySpan
	for _, s := range tm.spans.Ended() {
		if s.Name() == "voicecall notification" {
			notifications = append(notifications, s)
		}
	}
	require.Len(t, notifications, pushes, "a span per notification")
	kinds := map[any]int{}
	for _, s := range notifications {
		a := attrs(s.Attributes())
		kinds[a["voicecall.notification.kind"]]++
		assert.Equal(t, int64(200), a["http.response.status_code"])
		assert.Equal(t, trace.SpanKindServer, s.SpanKind())
		if a["voicecall.notification.kind"] == "fee" {
			assert.Equal(t, int64(1), a["voicecall.records"])
			assert.Equal(t, int64(0), a["voicecall.duplicates"])
		}
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.Emit(), "/voice/", "no path recorded")
			assert.NotContains(t, kv.Value.Emit(), "+8613512345678", "no number recorded")
		}
	}
	assert.Equal(t, 1, kinds["fee"])
	assert.Equal(t, pushes-1, kinds["status"])

	var n uint64
	for _, p := range tm.histogram(t, vcotel.MetricNotificationDuration) {
		n += p.Count
		assert.Greater(t, p.Sum, 0.0)
	}
	assert.Equal(t, uint64(pushes), n, "a duration per notification")

	// The platform re-pushes a batch it thinks was lost: the records are
	// duplicates now.
	var fee voicetest.Delivery
	for _, d := range platform.Deliveries() {
		if d.Kind == voicetest.KindFee && d.Has(resp.SessionID) {
			fee = d
		}
	}
	repush, err := http.NewRequest(http.MethodPost, receiver.URL+"/voice/fee", bytes.NewReader(fee.Body))
	require.NoError(t, err)
	repush.Header.Set("Content-Type", "application/json")
	rr, err := http.DefaultClient.Do(repush)
	require.NoError(t, err)
	rr.Body.Close()
	require.Equal(t, http.StatusOK, rr.StatusCode)
	select {
	case info := <-ended:
		assert.Equal(t, 1, info.Duplicates)
	case <-ctx.Done():
		t.Fatal("the re-push did not end")
	}
	recs := map[any]int64{}
	for _, p := range tm.sum(t, vcotel.MetricNotificationRecords) {
		recs[setAttrs(p.Attributes)["voicecall.duplicate"]] += p.Value
	}
	assert.Equal(t, map[any]int64{false: 1, true: 1}, recs)
}

// TestHandlerHooksDirect calls the handler hooks as the Handler does for
// a fee batch with a duplicate, a status event and a refused push.
func TestHandlerHooksDirect(t *testing.T) {
	t.Parallel()
	tm := newTelemetry(t)
	h := vcotel.HandlerHooks(tm.opts...)
	notify := func(info voicecall.NotificationInfo) {
		const path = "/voice/s3cr3t-path"
		ctx := h.NotificationStart(context.Background(), voicecall.NotificationInfo{Path: path})
		info.Path = path // the end hook gets the start's fields too
		h.NotificationEnd(ctx, info)
	}
	notify(voicecall.NotificationInfo{Kind: voicecall.NotificationFee, EventType: voicecall.EventFee, Records: 50, Duplicates: 3,
		Verification: "ok", Status: 200, CallbackDuration: 4 * time.Millisecond})
	notify(voicecall.NotificationInfo{Kind: voicecall.NotificationStatus, EventType: voicecall.EventAnswer, Status: 200})
	notify(voicecall.NotificationInfo{Status: 400, Err: errors.New("voicecall: malformed body")})

	ended := tm.spans.Ended()
	require.Len(t, ended, 3)
	for _, s := range ended {
		assert.Equal(t, "voicecall notification", s.Name())
		assert.Equal(t, trace.SpanKindServer, s.SpanKind())
		for _, kv := range s.Attributes() {
			assert.NotContains(t, kv.Value.Emit(), "s3cr3t", "the path is never recorded")
		}
	}
	fee := attrs(ended[0].Attributes())
	assert.Equal(t, "fee", fee["voicecall.notification.kind"])
	assert.Equal(t, string(voicecall.EventFee), fee["voicecall.event_type"])
	assert.Equal(t, int64(50), fee["voicecall.records"])
	assert.Equal(t, int64(3), fee["voicecall.duplicates"])
	assert.Equal(t, "ok", fee["voicecall.verification"])
	assert.Equal(t, int64(200), fee["http.response.status_code"])
	assert.Equal(t, 4.0, fee["voicecall.callback.duration_ms"])
	status := attrs(ended[1].Attributes())
	assert.Equal(t, "status", status["voicecall.notification.kind"])
	assert.Equal(t, string(voicecall.EventAnswer), status["voicecall.event_type"])
	refused := attrs(ended[2].Attributes())
	assert.Equal(t, "none", refused["voicecall.notification.kind"])
	assert.Equal(t, "400", refused["error.type"])
	assert.Equal(t, codes.Error, ended[2].Status().Code)

	points := tm.histogram(t, vcotel.MetricNotificationDuration)
	var n uint64
	kinds := map[any]bool{}
	for _, p := range points {
		n += p.Count
		kinds[setAttrs(p.Attributes)["voicecall.notification.kind"]] = true
	}
	assert.Equal(t, uint64(3), n, "one duration per notification")
	assert.Equal(t, map[any]bool{"fee": true, "status": true, "none": true}, kinds)

	recs := map[any]int64{}
	for _, p := range tm.sum(t, vcotel.MetricNotificationRecords) {
		recs[setAttrs(p.Attributes)["voicecall.duplicate"]] += p.Value
	}
	assert.Equal(t, map[any]int64{false: 47, true: 3}, recs)
}

// TestGlobalProviders: with no option the hooks use the global providers
// (no-op by default) and work.
func TestGlobalProviders(t *testing.T) {
	t.Parallel()
	h := vcotel.ClientHooks()
	ctx := h.CallStart(context.Background(), voicecall.CallInfo{Operation: "CallVerify"})
	require.NotNil(t, ctx)
	h.CallEnd(ctx, voicecall.CallInfo{Operation: "CallVerify"})
	hh := vcotel.HandlerHooks()
	hctx := hh.NotificationStart(context.Background(), voicecall.NotificationInfo{})
	hh.NotificationEnd(hctx, voicecall.NotificationInfo{Status: 200})
}
