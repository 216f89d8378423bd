package cli

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// PingTimeout bounds a program's start-up check of a Redis server.
const PingTimeout = 3 * time.Second

// HostOf returns the host of a URL such as redis://user:pw@host:6379/0,
// never its password ("?" when it has none).
func HostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "?"
}

// CheckRedis runs ping (a PING of the Redis server at rawURL, given with
// flag) within PingTimeout, and returns an error naming the flag and the
// server's host (never the URL's password) when it fails, for a program
// to exit on at start-up rather than fail its first request.
func CheckRedis(ctx context.Context, flag, rawURL string, ping func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := ping(ctx); err != nil {
		return fmt.Errorf("%s: cannot reach Redis at %s: %v", flag, HostOf(rawURL), err)
	}
	return nil
}
