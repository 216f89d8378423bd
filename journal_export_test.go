package voicecall

// StatusKey is statusKey, for the external tests (journal_test.go, in
// package voicecall_test to use package journal, which imports this one).
var StatusKey = statusKey

// LogSink is logSink, the concurrency-safe log buffer of the internal
// tests, for the external ones.
type LogSink = logSink
