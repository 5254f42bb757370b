package cni

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestConfigDefaultsAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{StateDir: "/x", Subnet: "10.88.0.7/24"}, ""},
		{"no state dir", Config{Subnet: "10.88.0.0/24"}, "StateDir is required"},
		{"no subnet", Config{StateDir: "/x"}, "Subnet is required"},
		{"bad subnet", Config{StateDir: "/x", Subnet: "10.88.0.0"}, "not a CIDR"},
		{"ipv6", Config{StateDir: "/x", Subnet: "fd00::/64"}, "only IPv4"},
		{"tiny subnet", Config{StateDir: "/x", Subnet: "10.88.0.0/31"}, "too small"},
		{"long bridge", Config{StateDir: "/x", Subnet: "10.88.0.0/24", BridgeName: "a-very-long-bridge"}, "15-byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BridgeName != DefaultBridgeName || got.NetworkName != DefaultNetworkName || got.Subnet != "10.88.0.0/24" || len(got.PluginDirs) != 2 {
				t.Fatalf("defaults not applied: %+v", got)
			}
		})
	}
}

func TestConfList(t *testing.T) {
	cfg, err := Config{StateDir: "/data/cni", Subnet: "10.88.3.0/24", NetworkName: "n1", BridgeName: "br1", Firewall: true}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cfg.confList()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name    string
		Plugins []struct {
			Type         string
			Bridge       string
			IPMasq       bool
			Capabilities map[string]bool
			IPAM         struct {
				Type    string
				DataDir string
				Ranges  [][]struct{ Subnet string }
			}
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, p := range got.Plugins {
		types = append(types, p.Type)
	}
	if got.Name != "n1" || strings.Join(types, ",") != "bridge,portmap,firewall" {
		t.Fatalf("conflist = %s", raw)
	}
	br := got.Plugins[0]
	if br.Bridge != "br1" || !br.IPMasq || br.IPAM.Type != "host-local" || br.IPAM.DataDir != "/data/cni/ipam" || br.IPAM.Ranges[0][0].Subnet != "10.88.3.0/24" {
		t.Fatalf("bridge plugin = %+v", br)
	}
	if !got.Plugins[1].Capabilities["portMappings"] {
		t.Fatalf("portmap lacks the portMappings capability: %s", raw)
	}
}
