package expiring

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestGetPutExpiry(t *testing.T) {
	t.Parallel()
	m := New[int, string](1<<20, nil, Evict)
	require.True(t, m.Put(1, "a", t0.Add(10*time.Second), t0))
	v, ok := m.Get(1, t0.Add(9*time.Second))
	assert.True(t, ok)
	assert.Equal(t, "a", v)
	_, ok = m.Get(1, t0.Add(10*time.Second))
	assert.False(t, ok, "gone at its expiry")
	// A fraction of a second is rounded up: never forgotten early.
	require.True(t, m.Put(2, "b", t0.Add(1500*time.Millisecond), t0))
	_, ok = m.Get(2, t0.Add(1999*time.Millisecond))
	assert.True(t, ok)
	m.Purge(t0.Add(time.Hour))
	assert.Zero(t, m.Len())
	assert.Zero(t, m.Bytes())
	assert.Zero(t, m.QueueLen())
}

func TestEvictBoundInBytes(t *testing.T) {
	t.Parallel()
	size := func(k int, v string) int { return len(v) }
	per := int64(EntryOverhead[int, string]())
	m := New[int, string](10*per+100, size, Evict)
	for i := range 1000 {
		require.True(t, m.Put(i, "0123456789", t0.Add(time.Hour), t0))
		assert.LessOrEqual(t, m.Bytes(), 10*per+100)
		assert.LessOrEqual(t, m.QueueLen(), 20+65)
	}
	_, ok := m.Get(999, t0)
	assert.True(t, ok, "the newest is kept")
	_, ok = m.Get(0, t0)
	assert.False(t, ok, "the oldest is dropped")
	assert.False(t, m.Put(-1, string(make([]byte, 2000)), t0.Add(time.Hour), t0), "larger than the bound")

	// Replacing and deleting keep the count exact.
	for range 1000 {
		require.True(t, m.Put(999, "x", t0.Add(time.Hour), t0))
	}
	assert.LessOrEqual(t, m.Bytes(), 10*per+100)
	for i := range 1000 {
		m.Delete(i)
	}
	m.Purge(t0)
	assert.Zero(t, m.Len())
	assert.Zero(t, m.Bytes())
}

func TestRefuseKeepsEverything(t *testing.T) {
	t.Parallel()
	per := int64(EntryOverhead[int, struct{}]())
	m := New[int, struct{}](3*per, nil, Refuse)
	for i := range 3 {
		require.True(t, m.Put(i, struct{}{}, t0.Add(time.Minute), t0))
	}
	assert.False(t, m.Put(3, struct{}{}, t0.Add(time.Minute), t0), "full: refused")
	for i := range 3 {
		_, ok := m.Get(i, t0.Add(59*time.Second))
		assert.True(t, ok, "nothing forgotten inside the window")
	}
	assert.True(t, m.Put(3, struct{}{}, t0.Add(2*time.Minute), t0.Add(time.Minute)), "room once the old ones expired")
}
