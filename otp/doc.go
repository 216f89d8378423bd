// Package otp runs the whole life of a voice verification code on top of
// [voicecall.Client.CallVerify]: it generates the code, guards the
// destination against abuse, places the call, keeps a keyed MAC of the
// code (never the code) and checks what the user types.
//
//	lc, err := otp.New(otp.Config{Client: client, Key: key, DisplayNumber: "+8675528000088", PreTone: "pretone.wav"})
//	sent, err := lc.Send(ctx, "+8613500000001", clientIP) // places one call
//	err = lc.Check(ctx, "+8613500000001", typed)          // nil: the right code, accepted once
//
// # Sending
//
// [Lifecycle.Send] validates the number and its prefix (the allow-list),
// asks the guard (a [GuardStore]) to reserve the send, then calls
// CallVerify with a fresh correlation token as userData, recorded before
// the call so that the first notification, which can arrive before
// CallVerify returns, already finds it. A resend sends a new code: the
// store holds only a MAC of each code, so the old code cannot be read out
// again, and a code that was read out once over a phone line is better
// replaced than repeated. The new code replaces the old one, which stops
// working, once the platform accepts the new call or its outcome is
// unknown (a rejected resend leaves the old code as it was).
//
// # The guard
//
// Every send goes through the guard first; nothing is sent when it
// refuses, and the [*RefusedError] says why and for how long. The
// defaults ([Guard]) are a 60-second cooldown per number, 5 calls per
// number per hour and 10 per day, 100 calls per minute for the whole app,
// an optional cap per client key (an IP address or an account, supplied
// by the caller), destinations starting with "+86", and no new call to a
// number while an earlier call's outcome is unknown, until a
// notification settles it or its code expires: a resend then could ring
// the phone twice.
//
// # Settling
//
// Give the Lifecycle the notifications of your [voicecall.Handler]
// ([Lifecycle.ObserveStatus] from OnStatus, [Lifecycle.ObserveFee] from
// OnFee). A notification of the call settles an unknown outcome; one that
// shows the call failed before it was answered (busy, no answer, powered
// off, number not reachable) lifts the cooldown, so the user can ask for
// a new code at once. Notifications are matched by the correlation token,
// so a late notification of an earlier call never lifts a later call's
// cooldown.
//
// # Checking
//
// [Lifecycle.Check] compares in constant time and counts every check,
// right or wrong: at most MaxChecks (default 5) per code, and a right
// code on the last allowed check is accepted. A code works once. Errors
// are [ErrNoCode] (none pending, expired or used), [ErrWrongCode] and
// [ErrTooManyChecks].
//
// # Stores
//
// State lives behind two interfaces, [CodeStore] and [GuardStore], whose
// in-memory implementations ([MemoryCodeStore], [MemoryGuardStore]) serve
// one process. Several instances of an application must share them: the
// module github.com/voicecall-go/voicecall/redisstore implements both on
// Redis. The package storetest holds the conformance suite every
// implementation must pass. Stores never see a phone number or a code:
// numbers and client keys reach them as keyed hashes, codes as keyed MACs.
package otp
