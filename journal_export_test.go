package voicecall

// StatusKey is statusKey, for the external tests (journal_test.go, in
// package voicecall_test to use package journal, which imports this one).
var StatusKey = statusKey
