package local

import (
	"net"
	"net/url"
)

// HostIP picks this node's InternalIP: the source address this machine
// uses to reach server (a URL; "" for none), unless that is a loopback (a
// server on the same machine), then the source address of the default
// route, then the loopback. Connecting a UDP socket sends nothing; it only
// asks the kernel's routing table.
func HostIP(server string) string {
	var fallback string
	if u, err := url.Parse(server); err == nil && u.Hostname() != "" {
		if ip := sourceIP(net.JoinHostPort(u.Hostname(), "443")); ip != nil {
			if !ip.IsLoopback() {
				return ip.String()
			}
			fallback = ip.String()
		}
	}
	if ip := sourceIP("192.0.2.1:53"); ip != nil && !ip.IsLoopback() { // TEST-NET-1: any routed address
		return ip.String()
	}
	if fallback == "" {
		fallback = "127.0.0.1"
	}
	return fallback
}

func sourceIP(addr string) net.IP {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil
	}
	defer conn.Close()
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		return a.IP
	}
	return nil
}
