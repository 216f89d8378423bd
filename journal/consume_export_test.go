package journal

import "time"

// SetClock makes m read the time from now: the Memory's clock seam, for
// the tests of package journal_test.
func SetClock(m *Memory, now func() time.Time) { m.now = now }
