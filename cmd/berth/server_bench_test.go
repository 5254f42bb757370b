package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startQuickstart runs `berth server` on examples/quickstart as `make
// run` does, its image taken from the test's containerd instead of a
// registry, and waits for deploy/hello to roll out.
func startQuickstart(tb testing.TB) *e2eServer {
	dir := tb.TempDir()
	manifests, _ := filepath.Glob("../../examples/quickstart/*.yaml")
	for _, m := range manifests {
		data, err := os.ReadFile(m)
		if err != nil {
			tb.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "localhost:5000/berth/hello", "berth.local/hello")
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(m)), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	s := newE2EServer(tb, "--dir", dir, "--source-name", "quickstart")
	s.waitFor(tb, "deploy/hello rolled out", 2*time.Minute, func() bool { return rolledOut(s.deployment("hello")) })
	return s
}

// TestE2EServerQuickstart: the quickstart's manifests run as they are
// (resource requests fit the local node, the ConfigMap feeds the env).
func TestE2EServerQuickstart(t *testing.T) {
	s := startQuickstart(t)
	pods := s.pods("app=hello")
	if len(pods) != 3 {
		t.Fatalf("%d hello pods, want 3", len(pods))
	}
	if body := httpGet("http://" + pods[0].Status.PodIP + ":8080/"); !strings.Contains(body, "Hello from berth") {
		t.Errorf("the hello app answers %q, want the ConfigMap's greeting", body)
	}
}

// BenchmarkServerRSS measures `berth server` with its local agent while
// examples/quickstart runs: the server's resident memory once the rollout
// is done and things are quiet.
// Run (as root): go test -run '^$' -bench ServerRSS -benchtime 1x ./cmd/berth/
func BenchmarkServerRSS(b *testing.B) {
	s := startQuickstart(b)
	time.Sleep(10 * time.Second) // probes, heartbeats and status writes settle
	mem := procStatusKiB(s.cmd.Process.Pid)
	b.ReportMetric(float64(mem["VmRSS"])/1024, "server-rss-MiB")
	b.ReportMetric(float64(mem["RssAnon"])/1024, "server-anon-MiB")
	b.ReportMetric(float64(mem["RssFile"])/1024, "server-file-MiB")
}
