package client_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
)

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigSearch(t *testing.T) {
	dir := t.TempDir()
	_, caPEM, err := api.EnsurePKI(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	envConf := filepath.Join(dir, "env.conf")
	if err := api.WriteAdminConfig(envConf, client.Config{Server: "https://10.0.0.1:6443", CAData: caPEM, Token: "env"}); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := api.WriteAdminConfig(filepath.Join(home, ".config", "berth", "config")+".tmp", client.Config{}); err == nil {
		t.Fatal("an empty config was written")
	}
	os.MkdirAll(filepath.Join(home, ".config", "berth"), 0o700)
	if err := api.WriteAdminConfig(filepath.Join(home, ".config", "berth", "config"), client.Config{Server: "https://10.0.0.2:6443", CAData: caPEM, Token: "home"}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("HOME", home)
	t.Setenv(client.EnvConfig, envConf)
	cfg, err := client.LoadConfig("", "")
	if err != nil || cfg.Token != "env" || !bytes.Equal(cfg.CAData, caPEM) {
		t.Fatalf("with $%s: %+v, %v", client.EnvConfig, cfg, err)
	}
	t.Setenv(client.EnvConfig, "")
	cfg, err = client.LoadConfig("", "")
	if err != nil || cfg.Token != "home" {
		t.Fatalf("from home: %+v, %v", cfg, err)
	}
	t.Setenv(client.EnvConfig, filepath.Join(dir, "missing.conf"))
	if _, err := client.LoadConfig("", ""); err == nil || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("a missing $%s: %v", client.EnvConfig, err)
	}

	// --server and --token-file: the CA of the config found.
	t.Setenv(client.EnvConfig, envConf)
	tokFile := writeFile(t, filepath.Join(dir, "tok"), "admintoken\n")
	cfg, err = client.LoadConfig("https://berth.example.com:6443", tokFile)
	if err != nil || cfg.Server != "https://berth.example.com:6443" || cfg.Token != "admintoken" || !bytes.Equal(cfg.CAData, caPEM) {
		t.Errorf("explicit: %+v, %v", cfg, err)
	}
	// One of them: the rest from the config.
	cfg, err = client.LoadConfig("https://berth.example.com:6443", "")
	if err != nil || cfg.Server != "https://berth.example.com:6443" || cfg.Token != "env" || !bytes.Equal(cfg.CAData, caPEM) {
		t.Errorf("--server alone: %+v, %v", cfg, err)
	}
	cfg, err = client.LoadConfig("", tokFile)
	if err != nil || cfg.Server != "https://10.0.0.1:6443" || cfg.Token != "admintoken" || !bytes.Equal(cfg.CAData, caPEM) {
		t.Errorf("--token-file alone: %+v, %v", cfg, err)
	}
	for _, tt := range []struct{ server, tok, want string }{
		{"http://x:1", tokFile, "expected https://HOST:PORT"},
		{"https://x:1", filepath.Join(dir, "nope"), "--token-file"},
	} {
		if _, err := client.LoadConfig(tt.server, tt.tok); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadConfig(%q, %q) = %v, want %q", tt.server, tt.tok, err, tt.want)
		}
	}
	// No config anywhere and a bare token: nothing to trust.
	t.Setenv(client.EnvConfig, "")
	t.Setenv("HOME", t.TempDir())
	if _, err := os.Stat(client.ServerAdminConfig); err == nil {
		t.Skipf("%s exists on this machine", client.ServerAdminConfig)
	}
	if _, err := client.LoadConfig("https://x:1", tokFile); err == nil || !strings.Contains(err.Error(), "no CA to trust") {
		t.Errorf("bare token without a CA: %v", err)
	}
	if _, err := client.LoadConfig("", ""); err == nil || !strings.HasPrefix(err.Error(), "no berth config found: pass --server and --token-file, set BERTH_CONFIG, or run on the server host") {
		t.Errorf("nothing found: %v", err)
	}
	if _, err := client.LoadConfig("https://x:1", ""); err == nil || !strings.Contains(err.Error(), "--server needs --token-file") {
		t.Errorf("--server alone, no config: %v", err)
	}
	if _, err := client.LoadConfig("", tokFile); err == nil || !strings.Contains(err.Error(), "--token-file needs --server") {
		t.Errorf("--token-file alone, no config: %v", err)
	}
}

func TestNodeTokenPinsTheCA(t *testing.T) {
	ts := startServer(t, store.Options{})
	t.Setenv(client.EnvConfig, "")
	t.Setenv("HOME", t.TempDir())
	if _, err := os.Stat(client.ServerAdminConfig); err == nil {
		t.Skipf("%s exists on this machine", client.ServerAdminConfig)
	}
	tokPath := filepath.Join(ts.DataDir, "node-token")
	if err := api.WriteNodeToken(tokPath, ts.CA, ts.NodeToken); err != nil {
		t.Fatal(err)
	}
	cfg, err := client.LoadConfig(ts.URL, tokPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg.CAData, ts.CA) || cfg.Token != ts.NodeToken {
		t.Errorf("config from the node token: token %q, CA fetched %v", cfg.Token, bytes.Equal(cfg.CAData, ts.CA))
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.List(context.Background(), "Node", "", ""); err != nil {
		t.Errorf("list with the node token: %v", err)
	}

	// A token pinning another CA is refused.
	other := t.TempDir()
	_, otherCA, err := api.EnsurePKI(other, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.WriteNodeToken(tokPath, otherCA, ts.NodeToken); err != nil {
		t.Fatal(err)
	}
	if _, err := client.LoadConfig(ts.URL, tokPath); err == nil || !strings.Contains(err.Error(), "does not present the CA the node token pins") {
		t.Errorf("wrong pin: %v", err)
	}
	// And a client configured with the other CA does not trust the server.
	c2, err := client.New(&client.Config{Server: ts.URL, CAData: otherCA, Token: ts.Admin})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, _, err := c2.List(context.Background(), "Node", "", ""); err == nil || !strings.Contains(err.Error(), "not signed by the config's CA") {
		t.Errorf("a client with another CA: %v", err)
	}
}

func TestNewRefusesIncompleteConfigs(t *testing.T) {
	for _, cfg := range []*client.Config{
		nil,
		{Server: "https://x:1", Token: "t"}, // no CA
		{Server: "https://x:1", CAData: []byte("junk"), Token: "t"}, // no PEM
		{Server: "https://x:1", CAData: []byte("x")},                // no token
		{Server: "x:1", CAData: []byte("x"), Token: "t"},            // no scheme
	} {
		if _, err := client.New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}
