//go:build linux || darwin || freebsd || netbsd || openbsd

package server

import (
	"net"
	"syscall"
)

// peekSupported says whether pendingData can tell.
const peekSupported = true

// pendingData reports whether bytes sent by c's peer wait to be read,
// without reading them or waiting (a peek on the socket; Control does
// not contend with a Read in progress), and whether it could tell (a
// TLS connection is looked through to its TCP connection).
func pendingData(c net.Conn) (pending, known bool) {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	err = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		pending = err == nil && n > 0
	})
	return pending, err == nil
}
