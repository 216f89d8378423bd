package redisstore

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

func errf(format string, args ...any) error {
	return fmt.Errorf("voicecall: redisstore: "+format, args...)
}

// stripURL keeps a URL parse error from echoing the URL, which may carry
// a password.
func stripURL(err error) error {
	var msg string
	if err != nil {
		msg = err.Error()
	}
	if strings.Contains(msg, "@") || strings.Contains(msg, "://") {
		return errors.New("cannot parse it")
	}
	return err
}

// ms returns d in whole milliseconds, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }
