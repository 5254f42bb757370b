package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/sources/gittest"
	"github.com/berth-io/berth/sources/webhook"
)

func TestDefaultSourceName(t *testing.T) {
	tests := []struct {
		spec sources.SourceSpec
		want string
	}{
		{sources.SourceSpec{Type: sources.TypeGit, URL: "https://github.com/acme/web.git"}, "web"},
		{sources.SourceSpec{Type: sources.TypeGit, URL: "git@github.com:acme/Deploy_Repo.git", Path: "clusters/prod/"}, "deploy-repo-prod"},
		{sources.SourceSpec{Type: sources.TypeGit, URL: "file:///srv/git/app/"}, "app"},
		{sources.SourceSpec{Type: sources.TypeDir, URL: "/srv/manifests/"}, "manifests"},
		{sources.SourceSpec{Type: sources.TypeDir, URL: "."}, "source"},
	}
	for _, tt := range tests {
		if got := DefaultSourceName(tt.spec); got != tt.want {
			t.Errorf("DefaultSourceName(%+v) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func TestDuplicateSourceNamesRefused(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Sources: []SourceConfig{
		{Spec: sources.SourceSpec{Type: sources.TypeDir, URL: t.TempDir() + "/a/web"}},
		{Spec: sources.SourceSpec{Type: sources.TypeDir, URL: t.TempDir() + "/b/web"}},
	}}
	cfg.defaults()
	if _, err := cfg.buildSources(slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("two sources named web were accepted")
	}
}

// testServer runs a control-plane-only server (no local node) in the test.
type testServer struct {
	dataDir string
	url     string
	client  *client.Client
}

func startServer(tb testing.TB, srcs ...SourceConfig) *testServer {
	tb.Helper()
	dataDir := tb.TempDir()
	started := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{DataDir: dataDir, Listen: "127.0.0.1:0", NoLocalNode: true, Sources: srcs,
			Log: slog.New(slog.DiscardHandler), Started: func(url string) { started <- url }})
	}()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("server: %v", err)
		}
	})
	var url string
	select {
	case url = <-started:
	case err := <-done:
		tb.Fatalf("server: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("server did not start")
	}
	cfg, err := client.ReadConfig(filepath.Join(dataDir, "admin.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &testServer{dataDir: dataDir, url: url, client: c}
}

// applied waits until the source has applied rev.
func (s *testServer) applied(tb testing.TB, source, rev string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		obj, err := s.client.Get(context.Background(), sources.Kind, "", source)
		if err == nil && obj.(*sources.Resource).Status.LastAppliedRevision == rev {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("source %s did not apply %s within %v (last: %v, %v)", source, rev, timeout, obj, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// webhook posts a signed GitHub push event for source.
func (s *testServer) webhook(tb testing.TB, source string) {
	secret, err := os.ReadFile(filepath.Join(s.dataDir, "webhook-secret"))
	if err != nil {
		tb.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/main"}`)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/hooks/"+source, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(body, bytes.TrimSpace(secret)))
	resp, err := s.client.HTTPClient().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		tb.Fatalf("webhook: HTTP %d", resp.StatusCode)
	}
}

func configMap(i int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  n: %q\n", fmt.Sprint(i))
}

// TestWebhookAppliesPush: a push announced by a webhook is applied without
// waiting for the (hour-long) poll.
func TestWebhookAppliesPush(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"settings.yaml": configMap(0)}, "first")
	repo.Push(t)
	s := startServer(t, SourceConfig{Name: "app", Spec: sources.SourceSpec{Type: sources.TypeGit, URL: gittest.ServeHTTP(t, repo.BareDir(), "", ""),
		Interval: durationOf(time.Hour)}})
	s.applied(t, "app", repo.Head(t), 10*time.Second)
	repo.Commit(t, map[string]string{"settings.yaml": configMap(1)}, "second")
	repo.Push(t)
	s.webhook(t, "app")
	s.applied(t, "app", repo.Head(t), 5*time.Second)
}

// BenchmarkWebhookToApplied measures a push announced by a webhook until
// the source's status says the revision is applied (a ConfigMap changes),
// p50 and p99 over b.N pushes; the Git remote is served over HTTP on
// loopback. Run: go test -run '^$' -bench WebhookToApplied -benchtime 50x ./reconciler/server/
func BenchmarkWebhookToApplied(b *testing.B) {
	repo := gittest.NewRepo(b)
	repo.Commit(b, map[string]string{"settings.yaml": configMap(0)}, "first")
	repo.Push(b)
	s := startServer(b, SourceConfig{Name: "app", Spec: sources.SourceSpec{Type: sources.TypeGit, URL: gittest.ServeHTTP(b, repo.BareDir(), "", ""),
		Interval: durationOf(time.Hour)}})
	s.applied(b, "app", repo.Head(b), 10*time.Second)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo.Commit(b, map[string]string{"settings.yaml": configMap(i + 1)}, "change")
		repo.Push(b)
		b.StartTimer()
		start := time.Now()
		s.webhook(b, "app")
		s.applied(b, "app", repo.Head(b), 10*time.Second)
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

// BenchmarkFolderToApplied measures a file written into a folder source
// until the source's status says the new content is applied, p50 and p99.
// Run: go test -run '^$' -bench FolderToApplied -benchtime 50x ./reconciler/server/
func BenchmarkFolderToApplied(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(configMap(0)), 0o644)
	s := startServer(b, SourceConfig{Name: "app", Spec: sources.SourceSpec{Type: sources.TypeDir, URL: dir}})
	waitAnyApplied(b, s, "app")
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := appliedRevision(s, "app")
		start := time.Now()
		os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(configMap(i+1)), 0o644)
		for deadline := start.Add(10 * time.Second); appliedRevision(s, "app") == before; time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("the folder change was not applied within 10s")
			}
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

func appliedRevision(s *testServer, source string) string {
	obj, err := s.client.Get(context.Background(), sources.Kind, "", source)
	if err != nil {
		return ""
	}
	return obj.(*sources.Resource).Status.LastAppliedRevision
}

func waitAnyApplied(tb testing.TB, s *testServer, source string) {
	for deadline := time.Now().Add(10 * time.Second); appliedRevision(s, source) == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("source %s applied nothing within 10s", source)
		}
	}
}

func durationOf(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}

func deploymentManifest(image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: %q}]
`, image)
}

// TestConcurrentSyncAndUndo: `berth sync` and `berth rollout undo`
// arriving together are serialized and none is lost: every call succeeds,
// and the rollback stays in force (pinned) whatever order the syncs ran
// in, since a sync of an unchanged revision never lifts a pin.
func TestConcurrentSyncAndUndo(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"web.yaml": deploymentManifest("hello:v1")}, "v1")
	repo.Push(t)
	s := startServer(t, SourceConfig{Name: "app", Spec: sources.SourceSpec{Type: sources.TypeGit, URL: repo.URL(), Interval: durationOf(time.Hour)}})
	s.applied(t, "app", repo.Head(t), 10*time.Second)
	ctx := context.Background()
	waitRevision := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			obj, err := s.client.Get(ctx, "Deployment", "default", "web")
			if err == nil && obj.(*appsv1.Deployment).Annotations["deployment.kubernetes.io/revision"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("deploy/web did not reach revision %s", want)
			}
		}
	}
	waitRevision("1")
	repo.Commit(t, map[string]string{"web.yaml": deploymentManifest("hello:v2")}, "v2")
	repo.Push(t)
	if _, err := s.client.Sync(ctx, "app", "", false); err != nil {
		t.Fatal(err)
	}
	waitRevision("2")

	image := func() (string, bool) {
		obj, err := s.client.Get(ctx, "Deployment", "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		d := obj.(*appsv1.Deployment)
		return d.Spec.Template.Spec.Containers[0].Image, d.Annotations[gitops.AnnotationPinned] != ""
	}
	for round := 0; round < 5; round++ {
		// Ten syncs and one undo at once.
		var wg sync.WaitGroup
		errs := make(chan error, 11)
		for i := 0; i < 11; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if i == 5 {
					_, err = s.client.RolloutUndo(ctx, "Deployment", "default", "web", 0)
				} else {
					_, err = s.client.Sync(ctx, "app", "", false)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: concurrent call: %v", round, err)
			}
		}
		if img, pinned := image(); img != "hello:v1" || !pinned {
			t.Fatalf("round %d: after ten syncs and an undo: image %s, pinned %v; want the rollback to v1 kept, pinned", round, img, pinned)
		}
		// Lift the pin: Git's v2 comes back.
		if _, err := s.client.RolloutResume(ctx, "Deployment", "default", "web"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.client.Sync(ctx, "app", "", false); err != nil {
			t.Fatal(err)
		}
		if img, pinned := image(); img != "hello:v2" || pinned {
			t.Fatalf("round %d: after resume and sync: image %s, pinned %v; want Git's v2", round, img, pinned)
		}
	}
}

// TestAllowPruneAll: a source started with --allow-prune-all true may
// apply a revision that deletes every object it made.
func TestAllowPruneAll(t *testing.T) {
	dir := t.TempDir()
	cm := filepath.Join(dir, "cm.yaml")
	if err := os.WriteFile(cm, []byte(configMap(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, SourceConfig{Name: "folder", Spec: sources.SourceSpec{Type: sources.TypeDir, URL: dir, AllowPruneAll: true}})
	waitAnyApplied(t, s, "folder")
	ctx := context.Background()
	if _, err := s.client.Get(ctx, "ConfigMap", "default", "settings"); err != nil {
		t.Fatal(err)
	}
	obj, err := s.client.Get(ctx, sources.Kind, "", "folder")
	if err != nil {
		t.Fatal(err)
	}
	if !obj.(*sources.Resource).Spec.AllowPruneAll {
		t.Errorf("the source's spec lost allowPruneAll: %+v", obj.(*sources.Resource).Spec)
	}
	if err := os.Remove(cm); err != nil {
		t.Fatal(err)
	}
	const emptyFolder = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256 of nothing
	s.applied(t, "folder", emptyFolder, 10*time.Second)
	if _, err := s.client.Get(ctx, "ConfigMap", "default", "settings"); err == nil {
		t.Error("the ConfigMap was not pruned")
	}
}

// --tls-san names go into the serving certificate.
func TestTLSSANs(t *testing.T) {
	dataDir := t.TempDir()
	started := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{DataDir: dataDir, Listen: "127.0.0.1:0", NoLocalNode: true, TLSSANs: []string{"berth.example.com", "192.0.2.7"},
			Log: slog.New(slog.DiscardHandler), Started: func(url string) { started <- url }})
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dataDir, "pki", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "berth.example.com") || !slices.ContainsFunc(cert.IPAddresses, net.ParseIP("192.0.2.7").Equal) {
		t.Errorf("SANs %v %v lack the --tls-san names", cert.DNSNames, cert.IPAddresses)
	}
}
