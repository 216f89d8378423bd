// Package vcotel traces and measures the voicecall SDK with
// OpenTelemetry. It is built on the SDK's hooks ([voicecall.ClientHooks],
// [voicecall.HandlerHooks]) and lives in a module of its own, so that the
// SDK itself depends on no OpenTelemetry package.
//
// One line wires each part:
//
//	client, err := voicecall.NewClient(baseURL, appKey, appSecret, vcotel.ClientOption())
//	handler, err := voicecall.NewHandler(voicecall.HandlerConfig{OnStatus: ..., Hooks: vcotel.HandlerHooks()})
//	lc, err := otp.New(otp.Config{..., Hooks: vcotel.OTPHooks()})
//
// With no option the global providers (otel.GetTracerProvider,
// otel.GetMeterProvider) are used; [WithTracerProvider] and
// [WithMeterProvider] choose others.
//
// # Client
//
// Each request method makes a span named after the operation
// ("voicecall CallVerify", kind internal) with the attributes
// voicecall.operation, voicecall.outcome (accepted, rejected or
// unknown), voicecall.result_code (the platform's resultcode, when an
// answer carried one), voicecall.attempts and, on failure, error.type.
// Each HTTP attempt is a child span (kind client, named after the HTTP
// method, as OpenTelemetry's HTTP semantic conventions say) with
// http.request.method, server.address, server.port,
// http.request.resend_count (from the second attempt on; see
// [voicecall.RetryPolicy] for when the SDK sends a request again),
// http.response.status_code, error.type (the attempt's error class:
// dns, dial, tls, timeout, canceled, connection, status, platform or
// other) and voicecall.connection.reused.
//
// Metrics (histograms, in seconds): http.client.request.duration per
// attempt, with the semantic conventions' attributes and
// voicecall.operation; voicecall.client.call.duration per request
// method call, with voicecall.operation, voicecall.outcome and
// voicecall.result_code.
//
// # Handler
//
// Each notification is a span "voicecall notification" (kind server)
// with voicecall.notification.kind (status or fee), voicecall.event_type,
// voicecall.records and voicecall.duplicates (CDRs in a fee batch, and
// those skipped as handled before), voicecall.verification (ok or
// failed, when push verification is on), http.response.status_code,
// voicecall.callback.duration_ms and, on failure, error.type. The request
// path is never recorded: an unguessable path is what protects many
// receivers. Metrics: voicecall.notification.duration (histogram, in
// seconds, with kind, event type and status code) and
// voicecall.notification.records (counter of CDRs, with
// voicecall.duplicate true or false).
//
// # Verification codes
//
// [OTPHooks] returns the [otp.Hooks] that count sends, refusals by
// reason, checks by result, conversions and failures by country, and add
// an event per step to the caller's span; see its documentation.
//
// Nothing recorded holds the app secret, a digest, a nonce, a
// verification code or a full phone number: the hooks never receive
// them, and error messages of the SDK mask numbers.
package vcotel

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/voicecall-go/voicecall"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/voicecall-go/voicecall/otel"

// Attribute keys of the SDK's own attributes (the others are
// OpenTelemetry's semantic conventions).
const (
	AttrOperation        = attribute.Key("voicecall.operation")
	AttrOutcome          = attribute.Key("voicecall.outcome")
	AttrResultCode       = attribute.Key("voicecall.result_code")
	AttrAttempts         = attribute.Key("voicecall.attempts")
	AttrConnReused       = attribute.Key("voicecall.connection.reused")
	AttrNotificationKind = attribute.Key("voicecall.notification.kind")
	AttrEventType        = attribute.Key("voicecall.event_type")
	AttrRecords          = attribute.Key("voicecall.records")
	AttrDuplicates       = attribute.Key("voicecall.duplicates")
	AttrDuplicate        = attribute.Key("voicecall.duplicate")
	AttrVerification     = attribute.Key("voicecall.verification")
	AttrCallbackMillis   = attribute.Key("voicecall.callback.duration_ms")
)

// Semantic-convention attribute keys used.
const (
	attrMethod      = attribute.Key("http.request.method")
	attrServerAddr  = attribute.Key("server.address")
	attrServerPort  = attribute.Key("server.port")
	attrStatusCode  = attribute.Key("http.response.status_code")
	attrResendCount = attribute.Key("http.request.resend_count")
	attrErrorType   = attribute.Key("error.type")
)

// Metric names.
const (
	MetricHTTPClientDuration   = "http.client.request.duration"
	MetricCallDuration         = "voicecall.client.call.duration"
	MetricNotificationDuration = "voicecall.notification.duration"
	MetricNotificationRecords  = "voicecall.notification.records"
)

// durationBuckets are the bucket boundaries OpenTelemetry's HTTP semantic
// conventions advise for request durations, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// durationHistogram makes a histogram of durations in seconds with
// durationBuckets; an error goes to OpenTelemetry's error handler, as
// for every instrument here.
func durationHistogram(meter metric.Meter, name, description string) metric.Float64Histogram {
	h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(description),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	reportErr(err)
	return h
}

// Option configures the hooks.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets the tracer provider (default: the global one).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets the meter provider (default: the global one).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return c
}

// reportErr hands an instrument creation error to OpenTelemetry's error
// handler (the library itself never logs).
func reportErr(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// ClientOption returns the client option that traces and measures every
// request: voicecall.WithHooks(ClientHooks(opts...)).
func ClientOption(opts ...Option) voicecall.Option {
	return voicecall.WithHooks(ClientHooks(opts...))
}

// callKey and attemptKey hold the state of a call and of an attempt in
// the hooks' contexts.
type (
	callKey    struct{}
	attemptKey struct{}
)

type callState struct {
	span trace.Span
}

type attemptState struct {
	span trace.Span
}

// ClientHooks returns the client hooks that make the spans and metrics
// described in the package documentation. Combine them with hooks of
// your own by calling both from your functions.
func ClientHooks(opts ...Option) voicecall.ClientHooks {
	c := newConfig(opts)
	tracer := c.tp.Tracer(ScopeName)
	meter := c.mp.Meter(ScopeName)
	httpDur := durationHistogram(meter, MetricHTTPClientDuration, "Duration of HTTP client requests.")
	callDur := durationHistogram(meter, MetricCallDuration, "Duration of voicecall request method calls, retries included.")

	return voicecall.ClientHooks{
		CallStart: func(ctx context.Context, info voicecall.CallInfo) context.Context {
			ctx, span := tracer.Start(ctx, "voicecall "+info.Operation,
				trace.WithSpanKind(trace.SpanKindInternal),
				trace.WithAttributes(append([]attribute.KeyValue{AttrOperation.String(info.Operation)}, serverAttrs(info.Host)...)...))
			return context.WithValue(ctx, callKey{}, &callState{span: span})
		},
		CallEnd: func(ctx context.Context, info voicecall.CallInfo) {
			attrs := []attribute.KeyValue{
				AttrOperation.String(info.Operation),
				AttrOutcome.String(info.Outcome.String()),
			}
			if info.ResultCode != "" {
				attrs = append(attrs, AttrResultCode.String(string(info.ResultCode)))
			}
			if callDur != nil {
				callDur.Record(ctx, info.Duration.Seconds(), metric.WithAttributes(attrs...))
			}
			st, _ := ctx.Value(callKey{}).(*callState)
			if st == nil {
				return
			}
			attrs = append(attrs, AttrAttempts.Int(info.Attempts))
			if info.Err != nil {
				attrs = append(attrs, attrErrorType.String(callErrorType(info)))
				st.span.SetStatus(codes.Error, info.Err.Error())
			}
			st.span.SetAttributes(attrs...)
			st.span.End()
		},
		AttemptStart: func(ctx context.Context, info voicecall.AttemptInfo) context.Context {
			spanAttrs := attemptAttrs(info)
			if info.Attempt > 1 {
				spanAttrs = append(spanAttrs, attrResendCount.Int(info.Attempt-1))
			}
			ctx, span := tracer.Start(ctx, info.Method,
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(spanAttrs...))
			return context.WithValue(ctx, attemptKey{}, &attemptState{span: span})
		},
		AttemptEnd: func(ctx context.Context, info voicecall.AttemptInfo) {
			st, _ := ctx.Value(attemptKey{}).(*attemptState)
			// AttemptEnd gets the start's fields too: the metric's
			// attributes come from info alone.
			attrs := attemptAttrs(info)
			var end []attribute.KeyValue
			if info.StatusCode > 0 {
				end = append(end, attrStatusCode.Int(info.StatusCode))
			}
			if info.ErrorClass != "" {
				end = append(end, attrErrorType.String(info.ErrorClass))
			} else if info.Err != nil {
				end = append(end, attrErrorType.String("other"))
			}
			if httpDur != nil {
				httpDur.Record(ctx, info.Duration.Seconds(), metric.WithAttributes(append(attrs, end...)...))
			}
			if st == nil {
				return
			}
			end = append(end, AttrConnReused.Bool(info.ConnReused))
			st.span.SetAttributes(end...)
			if info.Err != nil {
				st.span.SetStatus(codes.Error, info.Err.Error())
			}
			st.span.End()
		},
	}
}

// attemptAttrs returns an attempt's attributes known at its start:
// voicecall.operation, http.request.method (when set) and the server's.
func attemptAttrs(info voicecall.AttemptInfo) []attribute.KeyValue {
	attrs := []attribute.KeyValue{AttrOperation.String(info.Operation)}
	if info.Method != "" {
		attrs = append(attrs, attrMethod.String(info.Method))
	}
	return append(attrs, serverAttrs(info.Host)...)
}

// callErrorType is error.type for a failed call: the platform's result
// code when it refused the request, else the outcome ("rejected" for a
// request that never left, "unknown" for one that may have been placed).
func callErrorType(info voicecall.CallInfo) string {
	var apiErr *voicecall.APIError
	if errors.As(info.Err, &apiErr) && apiErr.Code != "" {
		return string(apiErr.Code)
	}
	var verr *voicecall.ValidationError
	if errors.As(info.Err, &verr) {
		return "validation"
	}
	return info.Outcome.String()
}

// serverAttrs returns server.address and server.port for host ("host" or
// "host:port").
func serverAttrs(host string) []attribute.KeyValue {
	if host == "" {
		return nil
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		return []attribute.KeyValue{attrServerAddr.String(host)}
	}
	attrs := []attribute.KeyValue{attrServerAddr.String(h)}
	if n, err := strconv.Atoi(p); err == nil {
		attrs = append(attrs, attrServerPort.Int(n))
	}
	return attrs
}

// notificationKey holds a notification's state in the hooks' context.
type notificationKey struct{}

type notificationState struct {
	span  trace.Span
	start time.Time
}

// HandlerHooks returns the handler hooks that make the notification spans
// and metrics described in the package documentation; set them as
// voicecall.HandlerConfig.Hooks (a pointer there, as here).
func HandlerHooks(opts ...Option) *voicecall.HandlerHooks {
	c := newConfig(opts)
	tracer := c.tp.Tracer(ScopeName)
	meter := c.mp.Meter(ScopeName)
	dur := durationHistogram(meter, MetricNotificationDuration, "Duration of notifications handled by the voicecall Handler, callbacks included.")
	records, err := meter.Int64Counter(MetricNotificationRecords,
		metric.WithUnit("{record}"),
		metric.WithDescription("CDRs received in fee notifications; voicecall.duplicate tells those skipped as handled before."))
	reportErr(err)

	return &voicecall.HandlerHooks{
		NotificationStart: func(ctx context.Context, _ voicecall.NotificationInfo) context.Context {
			// The path is not recorded: it may be the receiver's secret.
			ctx, span := tracer.Start(ctx, "voicecall notification",
				trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attrMethod.String("POST")))
			return context.WithValue(ctx, notificationKey{}, &notificationState{span: span, start: time.Now()})
		},
		NotificationEnd: func(ctx context.Context, info voicecall.NotificationInfo) {
			st, _ := ctx.Value(notificationKey{}).(*notificationState)
			kind := kindName(info.Kind)
			metricAttrs := []attribute.KeyValue{
				AttrNotificationKind.String(kind),
				attrStatusCode.Int(info.Status),
			}
			if info.EventType != "" {
				metricAttrs = append(metricAttrs, AttrEventType.String(string(info.EventType)))
			}
			if info.Err != nil || info.Status >= 400 {
				metricAttrs = append(metricAttrs, attrErrorType.String(notificationErrorType(info)))
			}
			if dur != nil && st != nil {
				dur.Record(ctx, time.Since(st.start).Seconds(), metric.WithAttributes(metricAttrs...))
			}
			if records != nil && info.Records > 0 {
				if fresh := info.Records - info.Duplicates; fresh > 0 {
					records.Add(ctx, int64(fresh), metric.WithAttributes(AttrDuplicate.Bool(false)))
				}
				if info.Duplicates > 0 {
					records.Add(ctx, int64(info.Duplicates), metric.WithAttributes(AttrDuplicate.Bool(true)))
				}
			}
			if st == nil {
				return
			}
			spanAttrs := append(metricAttrs,
				AttrRecords.Int(info.Records),
				AttrDuplicates.Int(info.Duplicates),
				AttrCallbackMillis.Float64(float64(info.CallbackDuration)/float64(time.Millisecond)))
			if info.Verification != "" {
				spanAttrs = append(spanAttrs, AttrVerification.String(info.Verification))
			}
			st.span.SetAttributes(spanAttrs...)
			if info.Err != nil {
				st.span.SetStatus(codes.Error, info.Err.Error())
			} else if info.Status >= 500 {
				st.span.SetStatus(codes.Error, "")
			}
			st.span.End()
		},
	}
}

// kindName names a notification kind for attributes: status, fee,
// unknown (an event type the SDK does not know) or none.
func kindName(k voicecall.NotificationKind) string {
	if k == 0 {
		return "none" // refused before it was parsed
	}
	return k.String()
}

// notificationErrorType is error.type for a refused or failed
// notification: the HTTP status answered, or "callback" when the
// application's callback failed and 200 was still answered.
func notificationErrorType(info voicecall.NotificationInfo) string {
	if info.Status >= 400 {
		return strconv.Itoa(info.Status)
	}
	return "callback"
}
