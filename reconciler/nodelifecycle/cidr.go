package nodelifecycle

import (
	"fmt"
	"net/netip"
)

// maxSubnetBits bounds how many subnets a cluster CIDR is cut into
// (2^16), as upstream's cidrset does ("the subnet mask size cannot be
// greater than 16 more than the cluster mask size").
const maxSubnetBits = 16

// Allocator cuts a cluster CIDR into node subnets of one size, the
// lowest free first (upstream's range allocator over a cidrset). It holds
// no state: what is taken is given to each call, read from the Nodes, so
// a restarted server, or a node that registered its own subnet, needs no
// bookkeeping.
type Allocator struct {
	cluster netip.Prefix
	mask    int
}

// NewAllocator returns an Allocator of cluster into subnets of prefix
// length mask.
func NewAllocator(cluster netip.Prefix, mask int) (*Allocator, error) {
	cluster = cluster.Masked()
	max := cluster.Addr().BitLen()
	switch {
	case mask < cluster.Bits() || mask > max:
		return nil, fmt.Errorf("nodelifecycle: node CIDR mask size %d does not fit cluster CIDR %s", mask, cluster)
	case mask-cluster.Bits() > maxSubnetBits:
		return nil, fmt.Errorf("nodelifecycle: node CIDR mask size %d is more than %d bits longer than cluster CIDR %s", mask, maxSubnetBits, cluster)
	}
	return &Allocator{cluster: cluster, mask: mask}, nil
}

// Size returns how many subnets the cluster CIDR holds.
func (a *Allocator) Size() int { return 1 << (a.mask - a.cluster.Bits()) }

// Next returns the lowest subnet that overlaps none of used; ok is false
// when every subnet is taken. Prefixes outside the cluster CIDR take
// nothing; one larger than a subnet takes every subnet it covers.
func (a *Allocator) Next(used []netip.Prefix) (netip.Prefix, bool) {
	taken := make([]bool, a.Size())
	for _, p := range used {
		p = p.Masked()
		if !p.IsValid() || p.Addr().BitLen() != a.cluster.Addr().BitLen() || !a.cluster.Overlaps(p) {
			continue
		}
		if p.Bits() < a.cluster.Bits() { // covers the whole cluster CIDR
			return netip.Prefix{}, false
		}
		first := a.index(p.Addr())
		n := 1
		if p.Bits() < a.mask {
			n = 1 << (a.mask - p.Bits())
		}
		for i := first; i < first+n && i < len(taken); i++ {
			taken[i] = true
		}
	}
	for i, t := range taken {
		if !t {
			return a.subnet(i), true
		}
	}
	return netip.Prefix{}, false
}

// index returns which subnet holds addr (inside the cluster CIDR): the
// address bits between the cluster's prefix and the subnet's.
func (a *Allocator) index(addr netip.Addr) int {
	b := addr.AsSlice()
	idx := 0
	for bit := a.cluster.Bits(); bit < a.mask; bit++ {
		idx = idx<<1 | int(b[bit/8]>>(7-bit%8)&1)
	}
	return idx
}

// subnet returns the i-th subnet.
func (a *Allocator) subnet(i int) netip.Prefix {
	b := a.cluster.Addr().AsSlice()
	n := a.mask - a.cluster.Bits()
	for k := range n {
		bit := a.cluster.Bits() + k
		if i>>(n-1-k)&1 == 1 {
			b[bit/8] |= 1 << (7 - bit%8)
		}
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(addr, a.mask)
}
