package api

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func leaf(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, pkiDir, serverCertFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsurePKI(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cfg, caPEM, err := ensurePKI(dir, []string{"berth.example.com", "10.0.0.5:6443", "0.0.0.0"}, at(now))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := parseCertPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || ca.NotAfter.Sub(now) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA %v, NotAfter %s", ca.IsCA, ca.NotAfter)
	}
	first := leaf(t, dir)
	if err := first.CheckSignatureFrom(ca); err != nil {
		t.Errorf("serving cert not signed by the CA: %v", err)
	}
	host, _ := os.Hostname()
	for _, d := range []string{"localhost", "berth.example.com", host} {
		if !slices.Contains(first.DNSNames, d) {
			t.Errorf("SANs %v lack %s", first.DNSNames, d)
		}
	}
	for _, ip := range []string{"127.0.0.1", "::1", "10.0.0.5"} {
		if !slices.ContainsFunc(first.IPAddresses, net.ParseIP(ip).Equal) {
			t.Errorf("SANs %v lack %s", first.IPAddresses, ip)
		}
	}
	if slices.ContainsFunc(first.IPAddresses, net.IPv4zero.Equal) {
		t.Error("0.0.0.0 is a SAN")
	}
	if served, err := cfg.GetCertificate(&tls.ClientHelloInfo{}); err != nil || len(served.Certificate) != 2 || len(cfg.Certificates) != 0 {
		t.Errorf("the served chain should be leaf + CA, from GetCertificate only (%v)", err)
	}
	for _, f := range []string{caKeyFile, serverKeyFile, adminTokenFile} {
		if f == adminTokenFile {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, pkiDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode(), err)
		}
	}

	// A restart reuses both.
	_, caPEM2, err := ensurePKI(dir, []string{"berth.example.com"}, at(now.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(caPEM, caPEM2) || !leaf(t, dir).Equal(first) {
		t.Error("a restart replaced the CA or the serving certificate")
	}

	// A new host: a new serving certificate, same CA.
	_, caPEM3, err := ensurePKI(dir, []string{"other.example.com"}, at(now.Add(48*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	second := leaf(t, dir)
	if !bytes.Equal(caPEM, caPEM3) || second.Equal(first) || !slices.Contains(second.DNSNames, "other.example.com") {
		t.Error("a new host should give a new serving certificate under the same CA")
	}

	// Near expiry: renewed.
	later := second.NotAfter.Add(-24 * time.Hour)
	if _, _, err := ensurePKI(dir, nil, at(later)); err != nil {
		t.Fatal(err)
	}
	if third := leaf(t, dir); third.Equal(second) || !third.NotAfter.After(later.Add(300*24*time.Hour)) {
		t.Error("a serving certificate about to expire was not renewed")
	}
}

func TestEnsurePKIRefusesABrokenCA(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := EnsurePKI(dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pkiDir, caKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := EnsurePKI(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "every agent must rejoin") {
		t.Errorf("err = %v", err)
	}
}

func TestEnsureTokens(t *testing.T) {
	dir := t.TempDir()
	admin, node, err := EnsureTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(admin) != 64 || len(node) != 64 || admin == node {
		t.Errorf("tokens %q %q", admin, node)
	}
	admin2, node2, err := EnsureTokens(dir)
	if err != nil || admin2 != admin || node2 != node {
		t.Errorf("tokens changed across restarts: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, pkiDir, adminTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin token file mode %v %v", fi.Mode(), err)
	}
	os.WriteFile(filepath.Join(dir, pkiDir, nodeTokenFile), []byte("short\n"), 0o600)
	if _, _, err := EnsureTokens(dir); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("a damaged token file: %v", err)
	}
}

func TestNodeTokenFormat(t *testing.T) {
	dir := t.TempDir()
	_, caPEM, err := EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "node-token")
	if err := WriteNodeToken(path, caPEM, "abc123"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	hash, _ := CAHash(caPEM)
	if want := "K10" + hash + "::abc123\n"; string(data) != want {
		t.Errorf("node-token = %q, want %q", data, want)
	}
	tok, err := ParseNodeToken(string(data))
	if err != nil || tok.CAHash != hash || tok.Token != "abc123" {
		t.Errorf("ParseNodeToken = %+v, %v", tok, err)
	}
	tests := []struct {
		in      string
		want    NodeToken
		wantErr string
	}{
		{in: "plain\n", want: NodeToken{Token: "plain"}},
		{in: "", wantErr: "empty"},
		{in: "K10abcd::tok", wantErr: "not a hex SHA-256"},
		{in: "K10" + hash, wantErr: "malformed"},
		{in: "K10" + hash + "::", wantErr: "malformed"},
		{in: "two words", wantErr: "malformed"},
	}
	for _, tt := range tests {
		got, err := ParseNodeToken(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseNodeToken(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseNodeToken(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestAdminConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	_, caPEM, err := EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "admin.conf")
	in := ClientConfig{Server: "https://127.0.0.1:6443", CAData: caPEM, Token: "tok"}
	if err := WriteAdminConfig(path, in); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.conf mode %v", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{"server: https://127.0.0.1:6443\n", "certificate-authority-data: LS0t", "token: tok\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("admin.conf lacks %q:\n%s", want, data)
		}
	}
	out, err := UnmarshalClientConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if out.Server != in.Server || out.Token != in.Token || !bytes.Equal(out.CAData, in.CAData) {
		t.Errorf("round trip: %+v", out)
	}
	for _, bad := range []ClientConfig{
		{Server: "http://127.0.0.1:1", Token: "t"},
		{Server: "https://127.0.0.1:1"},
		{Server: "https://127.0.0.1:1/x", Token: "t"},
	} {
		if err := WriteAdminConfig(filepath.Join(dir, "bad.conf"), bad); err == nil {
			t.Errorf("WriteAdminConfig(%+v): no error", bad)
		}
	}
}

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// A running server renews its serving certificate when it comes within
// renewBefore of expiry: the next handshake gets a new one, also written
// to disk for the next start.
func TestServingCertRenewedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	cfg, _, err := ensurePKI(dir, []string{"berth.example.com"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(200 * 24 * time.Hour) // still far from expiry
	mu.Unlock()
	if again, _ := cfg.GetCertificate(&tls.ClientHelloInfo{}); again != first {
		t.Error("renewed a certificate far from expiry")
	}
	mu.Lock()
	now = first.Leaf.NotAfter.Add(-10 * 24 * time.Hour)
	mu.Unlock()
	renewed, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if renewed == first || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) || !slices.Contains(renewed.Leaf.DNSNames, "berth.example.com") {
		t.Fatalf("not renewed: NotAfter %s, was %s", renewed.Leaf.NotAfter, first.Leaf.NotAfter)
	}
	if onDisk := leaf(t, dir); !onDisk.Equal(renewed.Leaf) {
		t.Error("the renewed certificate was not stored")
	}
}
