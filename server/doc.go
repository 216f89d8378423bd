// Package server serves an http.Handler on the open Internet so that
// hostile clients cannot keep legitimate requests out: typically a
// [voicecall.Handler] receiving the platform's pushes, or a service's own
// endpoints (examples/otpserver serves its /codes through it).
//
// A [Server] defends against connection floods (caps in all and per
// client address; idle, silent and stalled connections are closed first
// to admit newcomers, and newcomers from light addresses go first while
// a flood re-opens its connections), slowloris headers and slow bodies
// (timeouts), bodies declared and never sent (a budget of body bytes
// charged only as they arrive) and oversized headers and bodies; an
// optional allow-list closes every other source as it is accepted. The
// zero [Config] takes defaults that suit the open Internet.
//
// docs/OPERATIONS.md in the repository describes each limit, how they
// work together, and the latency measured under each attack.
package server
