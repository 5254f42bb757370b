package nodelifecycle

import (
	"net/netip"
	"testing"
)

func TestAllocatorNext(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name    string
		cluster string
		mask    int
		used    []string
		want    string // "" for exhausted
	}{
		{"first", "10.42.0.0/16", 24, nil, "10.42.0.0/24"},
		{"skips used", "10.42.0.0/16", 24, []string{"10.42.0.0/24", "10.42.2.0/24"}, "10.42.1.0/24"},
		{"outside the cluster CIDR ignored", "10.42.0.0/16", 24, []string{"10.64.0.0/24"}, "10.42.0.0/24"},
		{"larger used prefix covers several", "10.42.0.0/16", 24, []string{"10.42.0.0/23"}, "10.42.2.0/24"},
		{"unmasked used prefix", "10.42.0.0/16", 24, []string{"10.42.0.7/24"}, "10.42.1.0/24"},
		{"smaller used prefix takes its subnet", "10.42.0.0/16", 24, []string{"10.42.0.128/25"}, "10.42.1.0/24"},
		{"exhausted", "10.42.0.0/23", 24, []string{"10.42.0.0/24", "10.42.1.0/24"}, ""},
		{"covering prefix", "10.42.0.0/16", 24, []string{"10.0.0.0/8"}, ""},
		{"non-byte boundary", "10.42.0.0/16", 26, []string{"10.42.0.0/26"}, "10.42.0.64/26"},
		{"ipv6", "fd00:42::/56", 64, []string{"fd00:42::/64"}, "fd00:42:0:1::/64"},
		{"ipv4 used in ipv6 cluster ignored", "fd00:42::/56", 64, []string{"10.42.0.0/24"}, "fd00:42::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAllocator(p(tt.cluster), tt.mask)
			if err != nil {
				t.Fatal(err)
			}
			var used []netip.Prefix
			for _, u := range tt.used {
				used = append(used, p(u))
			}
			got, ok := a.Next(used)
			if tt.want == "" {
				if ok {
					t.Fatalf("Next = %s, want exhausted", got)
				}
				return
			}
			if !ok || got.String() != tt.want {
				t.Fatalf("Next = %s, %v; want %s", got, ok, tt.want)
			}
		})
	}
}

func TestNewAllocatorErrors(t *testing.T) {
	for _, tt := range []struct {
		cluster string
		mask    int
	}{
		{"10.42.0.0/16", 8},
		{"10.42.0.0/16", 33},
		{"10.0.0.0/8", 25},
	} {
		if _, err := NewAllocator(netip.MustParsePrefix(tt.cluster), tt.mask); err == nil {
			t.Errorf("NewAllocator(%s, %d): no error", tt.cluster, tt.mask)
		}
	}
}
