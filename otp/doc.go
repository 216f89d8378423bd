// Package otp runs the whole life of a voice verification code on top of
// [voicecall.Client.CallVerify]: it checks the destination, guards it
// against abuse, generates the code, keeps a keyed MAC of it (never the
// code), places the call and checks what the user types against the
// verification the send started.
//
//	lc, err := otp.New(otp.Config{Client: client, Key: key, DisplayNumber: "+8675528000088", PreTone: "pretone.wav"})
//	sent, err := lc.Send(ctx, "+8613500000001", clientIP) // places one call; sent.ID names the verification
//	err = lc.Check(ctx, sent.ID, typed, clientIP)          // nil: the right code, accepted once
//
// # Sending
//
// [Lifecycle.Send] asks the [NumberPolicy] (default [ChinaNumbers]) what
// the number is, then, in one atomic step of the [Store], has the guard
// reserve the send and stores the new verification: an opaque id of 128
// random bits, the MAC of a fresh code, and the count of checks. Only
// then does it call CallVerify, with a fresh correlation token as
// userData, so that a code read out can always be checked. When the call
// is not placed (the platform rejected it, or it was never sent) or the
// store failed, the reservation is released before Send returns: no
// cooldown, no hold, no code, and the user can ask again at once.
//
// A send to a number replaces its earlier verification, which stops
// working: the store holds only a MAC of each code, so the old code
// cannot be read out again, and a code that was read out once over a
// phone line is better replaced than repeated.
//
// # The guard
//
// Every send goes through the guard first; nothing is sent when it
// refuses, and the [*RefusedError] says why and for how long. [Guard]
// holds the limits and their defaults: a cooldown and hourly and daily
// caps per number; caps per client (by exact address, and by IPv4 /24
// and IPv6 /64) and for the whole app (per minute, hour and day); and
// caps on unverified sends per country and per number range, which rise
// with the sends verified ([Allowance]): toll fraud pumps calls whose
// codes nobody checks. While a call's outcome is unknown its number is
// held, so that a resend cannot ring the phone twice. [Guard].RecordOnly
// reports what the guard would refuse, through [Hooks].Refused, without
// refusing. docs/VERIFICATION.md explains the defaults and how to tune
// them.
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
// [Lifecycle.Check] takes the verification id and the code. A code that
// is not CodeLength digits is refused ([ErrMalformedCode]) without
// reaching the store. Otherwise the check is counted, atomically and
// before the comparison, against the verification (at most MaxChecks,
// default 5; a right code on the last allowed check is accepted) and
// against the client (ChecksPerClient). A code works once. Unknown,
// expired and used ids get one and the same answer, [ErrNoCode]: knowing
// a phone number is not enough to learn whether a code is pending or to
// use up its owner's attempts. A wrong code is a [*WrongCodeError] that
// says how many checks are left; an exhausted verification
// [ErrTooManyChecks].
//
// # Events
//
// [Hooks] report sends, refusals with their reason, checks with their
// result, approvals, expiries and exhausted verifications, naming the
// verification by its id and the destination by its country and range,
// never by a code or a full number.
//
// # Stores
//
// State lives behind the [Store] interface, whose in-memory
// implementation ([MemoryStore]) serves one process. Several instances of
// an application must share it: the module
// github.com/voicecall-go/voicecall/redisstore implements it on Redis.
// Every operation of a Store is atomic and safe to repeat (a client
// library re-sends a command whose reply was lost: the repetition gets
// the first answer). The package storetest holds the conformance suite
// every implementation must pass. Stores never see a phone number or a
// code: numbers and client keys reach them as keyed hashes, codes as
// keyed MACs; they keep a verification's country and range (the country
// calling code and the first 7 digits of the national number) for the
// events.
package otp
