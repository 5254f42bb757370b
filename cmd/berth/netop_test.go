package main

import (
	"net"
	"syscall"
)

// netOpError is a refused connection, as the client's transport returns it.
var netOpError = net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
