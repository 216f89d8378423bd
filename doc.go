// Package voicecall is a client for Huawei Cloud Voice Call (语音通话):
// the voice verification code API (语音验证码, POST
// /rest/httpsessions/callVerify/v1.0) and its sibling APIs, and a
// receiver for the notifications the platform pushes back: call-status
// events and CDR (fee) records.
//
// A [Client] holds the app access address and the app's credentials and
// sends requests:
//
//	c, err := voicecall.NewClient("https://rtccall.cn-north-1.myhuaweicloud.cn:443", appKey, appSecret)
//	...
//	resp, err := c.CallVerify(ctx, &voicecall.CallVerifyRequest{
//		DisplayNumber: "+8675528000088",
//		CalleeNumber:  "+8613500000001",
//		LanguageType:  voicecall.LanguageChinese,
//		PreTone:       "pretone.wav",
//		VerifyCode:    "123456",
//	})
//
// The other APIs of the service are methods too: [Client.CallNotify]
// (voice notification: play audio files or templates, collect digits),
// [Client.Click2Call] (click-to-call: call A, then B, and bridge them),
// [Client.CallStop] (end a call in progress) and [Client.RecordingURL],
// [Client.RecordingURLOf] and [Client.DownloadRecording] (recordings of
// click-to-call calls).
//
// Each capability (voice verification code, voice notification,
// click-to-call) is its own app on the console with its own key and secret:
// hold one Client per app.
//
// # Authentication
//
// Every request carries the headers the platform requires: Content-Type
// "application/json;charset=UTF-8" (with a body), the fixed Authorization
// value, and an X-AKSK signature whose PasswordDigest is
// Base64(HMAC-SHA256(app secret, Nonce+Created)). Each HTTP attempt gets
// a fresh 32-hex-digit nonce from crypto/rand and a fresh Created time.
// Package [github.com/voicecall-go/voicecall/aksk] implements the scheme
// (sign, parse, verify) for proxies and test servers.
//
// Created is formatted as "2006-01-02T15:04:05Z" in UTC. Huawei's pages
// disagree on its zone: older pages and the Node.js and PHP demos use UTC,
// the 2026 pages say Beijing time (still with a literal Z). If the platform
// answers 1010013 (Time out limit) while this machine's clock is right,
// construct the client with WithCreatedLocation(voicecall.BeijingTime()).
// [RetryPolicy].ClockSkew resends such a request once with the clock
// corrected by the platform's Date header.
//
// # Errors and outcomes
//
// A request ends in one of three outcomes ([OutcomeOf]):
//
//   - accepted: the method returns its response;
//   - rejected: a [*ValidationError] (nothing was sent), an [*APIError]
//     (the platform answered with a result code other than "0", even on
//     HTTP 200), or a [*RequestError] whose request provably never left
//     this process;
//   - unknown: a [*RequestError] matching [ErrOutcomeUnknown]: the request
//     may have reached the platform (connection lost after sending, timeout,
//     HTTP 1xx or 5xx, HTML or truncated answer).
//
// An operation that places a call (CallVerify, and the voice notification
// and click-to-call APIs) is sent at most once once it may have left: the SDK
// retries it only when it provably never left this process (DNS, dial and
// TLS handshake failures other than certificate errors) and, if asked
// with [WithRetry], when the platform refused it before processing (flow
// control, call limits, clock skew). A second request rings the phone a
// second time. Operations that cannot place a call (stopping a call,
// getting a recording's URL) may also be retried after an unknown
// outcome. No transport can replay a request either: bodies have no
// GetBody.
//
// Errors and logs never contain the app secret, a digest, a nonce, the
// verification code or a full phone number, even when a server echoes the
// request back.
//
// # Correlation
//
// When a request leaves UserData empty the SDK sets a unique token
// ([NewCorrelationToken]) and returns it in the response and on every
// error ([UserDataOf]). The platform echoes userData in every status event
// and CDR of the call. To settle an unknown outcome, keep the token and
// wait for a status event or CDR that carries it: if one arrives, the call
// was placed; if none arrives within a few minutes, it was not (the CDR is
// re-pushed for hours if your receiver was down, status events are not).
// Only then decide whether to call again. The first status event can
// arrive before the method returns: generate the token yourself and record
// it before the call.
//
// # Notifications
//
// The platform POSTs call-status events to the statusUrl and CDR batches
// to the feeUrl of the request (or those configured on the console).
// [ParseNotification] turns a body into a typed [Notification]: a
// [StatusEvent], [FeeRecord]s, or an [UnknownEvent] kept as raw JSON.
// [NewHandler] returns an [net/http.Handler] that receives both with the
// callbacks of a [HandlerConfig]. A CDR the application failed to handle
// is answered 5xx so that the platform pushes the batch again (up to 6
// times, an hour apart), and CDRs already handled are skipped through a
// [DedupStore]. Package [github.com/voicecall-go/voicecall/server] serves
// the Handler on the open Internet, within limits that hostile
// connections cannot exhaust.
//
// # Observability
//
// [ClientHooks] and [HandlerHooks] are optional functions called as
// requests and notifications run; the module
// github.com/voicecall-go/voicecall/otel builds OpenTelemetry spans and
// metrics on them.
//
// # Testing
//
// Package [github.com/voicecall-go/voicecall/voicetest] runs a fake of the
// platform on loopback that checks requests as the platform does and plays
// each call back through the notifications. A [Client] accepts http base
// URLs only for loopback hosts, so that such fakes work.
//
// # For store implementers
//
// State that several processes share goes through an interface with an
// in-memory implementation and a Redis one in the redisstore module:
// [DedupStore] ([MemoryDedup]) with [DedupKey] and [ClaimResult],
// [CorrelationStore] ([CorrelationIndex]) with [CallSighting], and
// [Journal] with [JournalRecord] and [Notification.JournalRecords] (the
// journal's consumer side, its in-memory implementation and its entries
// are in package [github.com/voicecall-go/voicecall/journal]).
// Applications only choose an implementation; the other types are for
// whoever writes one, and package
// [github.com/voicecall-go/voicecall/storetest] is the conformance suite
// every implementation must pass.
//
// # Concurrency
//
// A Client is immutable after [NewClient] and safe for concurrent use by
// many goroutines; so are the notification handler and parsers.
package voicecall
