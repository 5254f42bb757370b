package fake

import (
	"fmt"
	"net/netip"
)

// ipam hands out pod IPs from one subnet, lowest free first, so that runs
// are deterministic. The network and broadcast addresses and the first
// host (the gateway, as CNI bridge plugins use) are never handed out.
type ipam struct {
	prefix netip.Prefix
	used   map[netip.Addr]bool
}

func newIPAM(cidr string) (*ipam, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("fake: pod CIDR: %w", err)
	}
	return &ipam{prefix: p.Masked(), used: map[netip.Addr]bool{}}, nil
}

// allocate returns the lowest free address.
func (m *ipam) allocate() (string, error) {
	gw := m.prefix.Addr().Next()
	for a := gw.Next(); m.prefix.Contains(a); a = a.Next() {
		if !m.prefix.Contains(a.Next()) && m.prefix.Addr().Is4() {
			break // broadcast
		}
		if !m.used[a] {
			m.used[a] = true
			return a.String(), nil
		}
	}
	return "", fmt.Errorf("fake: no free IP in %s", m.prefix)
}

// release frees an address; unknown ones are ignored.
func (m *ipam) release(ip string) {
	if a, err := netip.ParseAddr(ip); err == nil {
		delete(m.used, a)
	}
}
