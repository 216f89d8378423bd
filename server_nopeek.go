//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package voicecall

import "net"

// pendingData reports false: this system has no portable peek.
func pendingData(net.Conn) bool { return false }
