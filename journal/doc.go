// Package journal is the consumer side of the notification journal: a
// durable, bounded log that a [voicecall.Handler] appends every push to
// before it answers 200, and that consumer groups read at their own pace
// with at-least-once delivery and explicit acknowledgement, like Redis
// Streams' consumer groups.
//
// [Journal] is the full interface (the Handler needs only
// [voicecall.Journal], its Append), [Memory] the in-memory journal of
// one process; the Redis one is the redisstore module's Journal, and
// both pass storetest.RunJournalTests. [Consumer] is the consume loop:
// it reads a group's batches, hands them to a function and acknowledges
// what that function handled. docs/JOURNAL.md describes the guarantees,
// the configuration and how to operate it.
package journal
