// Package voicetest runs a fake of Huawei Cloud Voice Call's platform on
// loopback, in the spirit of [net/http/httptest]: it checks requests the
// way the platform documents, answers them the way the platform does, and
// plays every accepted call back to the application through the status
// and CDR (fee) notifications, so that an application can be tested end
// to end without an account.
//
//	srv, err := voicetest.NewServer(voicetest.WithNotifyURLs(receiver.URL, receiver.URL))
//	if err != nil { ... }
//	defer srv.Close()
//	client, err := srv.NewClient() // a *voicecall.Client for the default app
//	resp, err := client.CallVerify(ctx, &voicecall.CallVerifyRequest{...})
//	d, err := srv.WaitDelivery(ctx, func(d voicetest.Delivery) bool {
//		return d.Kind == voicetest.KindFee && d.Has(resp.SessionID)
//	})
//
// In tests, [Start] does the same and closes the server when the test ends.
//
// # What is checked
//
// The server serves every API of the platform (see [API]):
//
//	POST /rest/httpsessions/callVerify/v1.0   voice verification code
//	POST /rest/httpsessions/callnotify/v2.0   voice notification (also v1.0)
//	POST /rest/httpsessions/click2Call/v2.0   click-to-call
//	POST /rest/httpsessions/callStop/v2.0     terminate a call
//	GET  /rest/provision/voice/record/v1.0    recording download URL
//
// Any other path or method is answered 1010006 "Invalid Rest API." with
// HTTP 404. A request goes through these checks, in this order, and the
// first that fails decides the answer:
//
//  1. Content-Type must be application/json, with no parameter other than
//     charset=UTF-8 (any case): 1010002. (Not checked for the recording
//     GET, which has no body.)
//  2. Authorization must be AKSK realm="SDP",profile="UsernameToken",type="Appkey"
//     (spaces after the commas allowed): 1023006 when it is absent or not
//     of the AKSK scheme, 1023007 / 1023008 / 1023012 when realm / profile
//     / type is missing, 1023009 / 1023010 / 1023011 when its value is wrong.
//  3. X-AKSK must be present (1023033) and carry Username (1023034), Nonce
//     (1023035) and Created (1023036); a header that cannot be parsed or
//     lacks PasswordDigest gets 1023006.
//  4. The app key must be one of the server's apps: 1010003.
//  5. Created must have the layout 2006-01-02T15:04:05Z and be within the
//     allowed skew ([WithClockSkew], default 5 minutes) of the server's
//     clock: 1010013. Huawei's pages disagree on whether Created is UTC or
//     Beijing time and both kinds of demo are published as working, so by
//     default a Created that is right in either zone is accepted;
//     [WithCreatedLocations] restricts that.
//  6. The nonce must be 1-128 characters of [0-9A-Za-z], the
//     PasswordDigest must equal Base64(HMAC-SHA256(app secret,
//     Nonce+Created)) (the decoded MACs are compared in constant time), and
//     the nonce must not have been used by the same app while its Created
//     could still be accepted: 1023006 for each.
//  7. The body must be a JSON object with the fields the platform documents
//     (see [CallVerifyBody], [CallNotifyBody], [Click2CallBody] and
//     [CallStopBody]; the recording API's query needs fileName and
//     recordDomain): 1010002, whose resultdesc names the field, e.g.
//     "Invalid request. playInfoList[1].collectInd: must be 0-32".
//     Booleans must be the strings "true" or "false", as the platform's
//     models have them. Unknown fields are ignored; an optional string
//     field sent empty is treated as absent. These checks are written
//     from Huawei's pages, independently of the SDK's validation.
//  8. While every port is busy ([WithPorts]) the answer is 1020165.
//
// A callStop for a session that is not in progress (ended, unknown, or
// another app's) is answered 1020001 "Parameter error.": Huawei's page
// says only that stopping a call that has ended fails. A recording
// request for a file the server does not have gets 1020001 too.
//
// The platform documents HTTP 400 for the 1023xxx codes and 403 for
// 1010002; the server also uses 400 for 1010003 and 1010013, 404 for
// 1010006, and 200 for every other code, as in the platform's global
// result-code example. Answers carry Content-Type
// application/json;charset=UTF-8. The [Request.Reason] of a refused
// request says in plain words what was wrong, which the documented
// resultdesc often does not.
//
// # Connections
//
// The platform uses short connections and closes its side after every
// answer, without a Connection: close header. The server does the same by
// default ([CloseSilently]), so that a client that pools connections meets
// the same failures as against the platform; [WithConnMode] selects
// [CloseWithHeader] or [KeepAlive] instead.
//
// # Calls
//
// An accepted callVerify, callnotify or click2Call request places a call,
// played asynchronously according to the [Scenario] chosen for its
// numbers ([WithCalleeScenario], [Server.SetScenario]) or the default one
// ([WithScenario], by default [ScenarioAnswered]):
//
//   - voice verification: callout, alerting, answer, disconnect (the
//     code is read out in between);
//   - voice notification: the same, with the playInfoList items played in
//     order; after an item with collectInd > 0 the callee presses the keys
//     scripted for it ([WithCalleeDigits], [Server.SetDigits], by default
//     [DefaultDigits]) and a collectInfo event carries them in digitInfo;
//     the platform then hangs up unless the item asks for a replay
//     (replayAfterCollection, collectContentTriggerReplaying). Without
//     collection the call ends after the last item;
//   - click-to-call: both legs, each with the scenario of its number:
//     callout, alerting and answer of the caller (A), then the same for
//     the callee (B) and one disconnect, which carries partyType
//     ([voicecall.PartyTypeCaller] or [voicecall.PartyTypeCallee]: Huawei's
//     pages give no table of its values, so the fake uses the SDK's) when
//     partyTypeRequiredInDisconnect is "true"; maxDuration ends the call
//     with stateCode 8010. The CDR
//     (serviceType 002) carries the fwd* fields of B's leg, and, when
//     recordFlag is "true" and B talked for at least 3 s, the recording
//     fields.
//
// A callStop ends a call in progress at once: its disconnect has stateCode
// 8017 and its CDR ulFailReason 1003 ([ScenarioLongCall] keeps a call in
// progress long enough to stop it). The recording API answers 301 with
// the download URL in Location and no body, as the platform does; the URL
// points to a separate download host on another loopback port
// ([Server.DownloadURL]), which serves the WAV file and refuses (403) any
// request carrying Authorization or X-AKSK, so that a client that leaks
// the app's credentials there fails its tests ([Server.Downloads] keeps
// what it received).
//
// The call's status events are POSTed, in order and never retried, to the
// Base64-decoded statusUrl of the request, or else to the app's or the
// server's default URL. Pushes go only to loopback hosts unless
// [WithRemotePushes] is given: a push elsewhere is recorded as a failed
// [Delivery] and nothing leaves the machine. When the call ends its CDR goes to the feeUrl (or
// the defaults) in a {"eventType":"fee","feeLst":[...]} batch: CDRs of the
// same app and URL with the same callEndTime are merged, up to 50 per push,
// during a short window ([WithMergeWindow]). A CDR push not answered with
// HTTP 200 is retried ([WithFeeRetry]; the platform retries 6 times, 1
// hour apart). Pushes can be signed as the platform's 2023 and 2026 pages
// describe ([WithPushSigning]).
//
// Times in notifications are UTC "2006-01-02 15:04:05" on a simulated
// timeline that starts when the call is accepted and advances as a real
// call would (ringing a few seconds, reading the code out for about 15
// seconds, a 45-second ring timeout...). [WithTimeScale] sets how fast
// that timeline is played: by default 100 times faster than real time, so
// a whole call takes well under a second.
//
// # Faults
//
// [Server.FailNext], [Server.FailNextOn] (one API), [Server.FailCallee]
// and [Server.FailWhen] make chosen requests to any API fail as the
// platform or the network would: a result code
// (flow control 1010010, port limit 1020165, call limits 1013001-1013003
// ...), an HTML error page, a connection closed or reset after the call was
// placed, a truncated answer, a delay. See [Fault].
//
// # Inspection
//
// [Server.Requests], [Server.Calls] and [Server.Deliveries] return what
// the server received, placed and pushed, and [Server.WaitRequest],
// [Server.WaitCall] and [Server.WaitDelivery] wait, with a context, until
// one matches a predicate, so that tests never sleep.
//
// # Control over HTTP
//
// [Server.Repush] pushes a recorded notification again and [Server.Reset]
// forgets what was recorded and set. With [WithControlAPI] the server also
// serves, under /_sandbox/ (a prefix the platform does not use), all of
// this over HTTP in JSON for tests in any language (calls with their
// verification code and timeline, requests with their verdict, deliveries
// with the receiver's answer, recordings; scenarios, faults, re-push,
// reset; health and readiness), and a web console that shows it live.
// With [WithMagicNumbers], calls to the numbers of [MagicNumbers] go a
// given way (busy, no answer, a key press...) without any control.
// The sandbox program (examples/sandbox) turns both on; the repository's
// docs/SANDBOX.md documents every endpoint.
//
// # Memory
//
// The server keeps at most the [DefaultMaxRecords] (1000) most recent
// requests, calls, deliveries, recordings and downloads, each;
// [WithMaxRecords] changes the bound. A request or call takes about 4-5
// KiB, so a long-running sandbox stays within a few megabytes; older
// records are dropped, oldest first.
//
// # Secrets
//
// The server never logs or prints. A [Request] keeps the headers it was
// sent, X-AKSK included, for assertions only; its String method leaves
// the X-AKSK header and the verification code out.
package voicetest
