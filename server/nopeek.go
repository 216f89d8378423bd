//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package server

import "net"

// peekSupported says whether pendingData can tell.
const peekSupported = false

// pendingData cannot tell: this system has no portable peek.
func pendingData(net.Conn) (pending, known bool) { return false, false }
