package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/sources/gittest"
)

// webManifest is the Deployment the GitOps tests push: three replicas of
// the hello app, rolled one extra pod at a time and never below three
// ready.
func webManifest(version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: berth.local/hello:%s
        imagePullPolicy: Never
        env: [{name: VERSION, value: %s}]
        readinessProbe:
          httpGet: {path: /readyz, port: 8080}
          periodSeconds: 1
`, version, version)
}

const settingsManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
`

// TestE2EServerGitOps drives `berth server` from a Git repository served
// over HTTP on loopback, on real containerd, through SPEC.md's GitOps
// contract: a commit runs pods; a new image rolls within maxSurge and
// maxUnavailable; `rollout undo --to-revision 1` pins and `get -o json`
// shows it, `rollout resume` lifts it; `git revert` scales the old
// ReplicaSet back up with the next revision; an invalid commit changes
// nothing and names file:line; a deleted file is pruned; webhooks with a
// bad signature and requests without a token are refused.
func TestE2EServerGitOps(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.Commit(t, map[string]string{"apps/web.yaml": webManifest("v1"), "apps/settings.yaml": settingsManifest}, "web v1")
	repo.Push(t)
	url := gittest.ServeHTTP(t, repo.BareDir(), "", "")
	s := newE2EServer(t, "--git", url, "--branch", "main", "--path", "apps", "--interval", "1h", "--source-name", "apps")

	t.Run("a commit runs its pods", func(t *testing.T) {
		s.waitFor(t, "deploy/web rolled out", 2*time.Minute, func() bool { return rolledOut(s.deployment("web")) })
		pods := s.pods("app=web")
		if len(pods) != 3 {
			t.Fatalf("%d pods, want 3", len(pods))
		}
		if body := httpGet("http://" + pods[0].Status.PodIP + ":8080/"); !strings.Contains(body, "v1") {
			t.Errorf("pod %s answers %q, want the v1 app", pods[0].Name, body)
		}
		if out, errOut, code := s.berth("logs", pods[0].Name); code != 0 || out == "" {
			t.Errorf("berth logs %s: exit %d, %q %q", pods[0].Name, code, out, errOut)
		}
		out, _, _ := s.berth("get", "pods", "-o", "wide")
		t.Logf("berth get pods -o wide:\n%s", out)
		if !strings.Contains(out, pods[0].Status.PodIP) || !strings.Contains(out, "Running") {
			t.Errorf("berth get pods -o wide does not show %s Running:\n%s", pods[0].Status.PodIP, out)
		}
		src := s.source("apps")
		if src == nil || src.Status.LastAppliedRevision == "" || src.Status.LastAppliedRevision != src.Status.LastAttemptedRevision {
			t.Errorf("source status = %+v", src)
		}
	})

	t.Run("a new image rolls within maxSurge and maxUnavailable", func(t *testing.T) {
		repo.Commit(t, map[string]string{"apps/web.yaml": webManifest("v2")}, "web v2")
		repo.Push(t)
		if code := s.webhook(t, "apps", true); code/100 != 2 {
			t.Fatalf("webhook: HTTP %d", code)
		}
		// Sample as fast as the API answers until the rollout is done:
		// the ReplicaSets never ask for more than replicas+maxSurge pods
		// and never fewer than replicas-maxUnavailable pods are ready.
		// Running pods are logged, not bounded: like upstream's, the
		// Deployment controller counts ReplicaSets' replicas, so a pod an
		// old ReplicaSet was just scaled away from can still run for a
		// moment beside the new one's next pod (one run saw 5).
		maxWanted, maxActive, minReady, samples := 0, 0, 99, 0
		for deadline := time.Now().Add(2 * time.Minute); ; samples++ {
			wanted := 0
			for _, rs := range s.replicaSets("app=web") {
				wanted += int(*rs.Spec.Replicas)
			}
			active, ready := readyCount(s.pods("app=web"))
			maxWanted, maxActive, minReady = max(maxWanted, wanted), max(maxActive, active), min(minReady, ready)
			d := s.deployment("web")
			if d != nil && strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v2") && rolledOut(d) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deploy/web did not roll out to v2 within 2m\nserver log:\n%s", s.tail(80))
			}
		}
		t.Logf("%d samples during the rollout: ReplicaSets asked for up to %d pods, up to %d ran, down to %d ready", samples, maxWanted, maxActive, minReady)
		if maxWanted > 4 || minReady < 3 {
			t.Errorf("during the rollout: ReplicaSets asked for up to %d pods (want <= replicas+maxSurge = 4), down to %d ready (want >= replicas-maxUnavailable = 3)",
				maxWanted, minReady)
		}
		out, _, _ := s.berth("get", "deploy")
		if !regexp.MustCompile(`web\s+3/3\s+3\s+3\s+Synced\s+Healthy`).MatchString(out) {
			t.Errorf("berth get deploy:\n%s\nwant web 3/3 3 3 Synced Healthy", out)
		}
		t.Logf("berth get deploy:\n%s", out)
	})

	t.Run("drift is put back, diff shows what a change would do", func(t *testing.T) {
		d := s.deployment("web")
		d.Spec.Replicas = ptrTo(int32(1))
		if _, err := s.client.Update(s.ctx(), d); err != nil {
			t.Fatal(err)
		}
		s.waitFor(t, "Git's 3 replicas put back", 30*time.Second, func() bool {
			d := s.deployment("web")
			return d != nil && *d.Spec.Replicas == 3
		})
		if out, errOut, code := s.berth("diff"); code != 0 {
			t.Errorf("berth diff with nothing to change: exit %d, %q %q", code, out, errOut)
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(strings.Replace(webManifest("v2"), "replicas: 3", "replicas: 5", 1)), 0o644)
		out, errOut, code := s.berth("diff", dir)
		if code != 1 || !strings.Contains(out, "-  replicas: 3") || !strings.Contains(out, "+  replicas: 5") {
			t.Errorf("berth diff of a change: exit %d, want 1 with the replicas change\n%s%s", code, out, errOut)
		}
	})

	t.Run("rollout undo --to-revision 1 pins, resume lifts the pin", func(t *testing.T) {
		out, errOut, code := s.berth("rollout", "undo", "deploy/web", "--to-revision", "1")
		if code != 0 || !strings.Contains(out, "deployment.apps/web rolled back") {
			t.Fatalf("rollout undo: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "deploy/web back on v1", time.Minute, func() bool {
			d := s.deployment("web")
			return d != nil && strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v1") && rolledOut(d)
		})
		out, _, code = s.berth("get", "deploy", "web", "-o", "json")
		var d appsv1.Deployment
		if code != 0 || json.Unmarshal([]byte(out), &d) != nil {
			t.Fatalf("get -o json: exit %d, %q", code, out)
		}
		if d.Annotations[gitops.AnnotationPinned] == "" || d.Annotations["deployment.kubernetes.io/revision"] != "3" {
			t.Errorf("after undo: annotations %v, want pinned at revision 3", d.Annotations)
		}
		// The pin holds against the sync.
		if _, _, code := s.berth("sync"); code != 0 {
			t.Errorf("berth sync: exit %d", code)
		}
		if d := s.deployment("web"); !strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v1") {
			t.Errorf("a sync undid the pinned rollback: image %s", d.Spec.Template.Spec.Containers[0].Image)
		}
		if out, errOut, code := s.berth("rollout", "resume", "deploy/web"); code != 0 {
			t.Fatalf("rollout resume: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "deploy/web back on Git's v2", time.Minute, func() bool {
			d := s.deployment("web")
			return d != nil && d.Annotations[gitops.AnnotationPinned] == "" &&
				strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v2") && rolledOut(d)
		})
	})

	t.Run("git revert scales the old ReplicaSet back up with the next revision", func(t *testing.T) {
		head := repo.Head(t)
		repo.Revert(t, head)
		repo.Push(t)
		if out, errOut, code := s.berth("sync", "apps"); code != 0 {
			t.Fatalf("berth sync apps: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "deploy/web on v1 again", time.Minute, func() bool {
			d := s.deployment("web")
			return d != nil && strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v1") && rolledOut(d)
		})
		rss := s.replicaSets("app=web")
		if len(rss) != 2 {
			t.Fatalf("%d ReplicaSets, want the v1 and v2 ones reused", len(rss))
		}
		for _, rs := range rss {
			if strings.HasSuffix(rs.Spec.Template.Spec.Containers[0].Image, ":v1") {
				// Revisions so far: 1 v1, 2 v2, 3 v1 (undo), 4 v2 (resume), 5 v1 (revert).
				if got := rs.Annotations["deployment.kubernetes.io/revision"]; got != "5" || *rs.Spec.Replicas != 3 {
					t.Errorf("v1 ReplicaSet: revision %s, %d replicas; want revision 5 and 3 replicas", got, *rs.Spec.Replicas)
				}
			}
		}
	})

	t.Run("an invalid commit changes nothing and names file and line", func(t *testing.T) {
		before := s.deployment("web")
		repo.Commit(t, map[string]string{"apps/web.yaml": webManifest("v2"), "apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  x: [1, 2]\n"}, "bad")
		repo.Push(t)
		out, errOut, code := s.berth("sync", "apps")
		if code == 0 || !strings.Contains(out+errOut, "bad.yaml:6") {
			t.Errorf("berth sync of an invalid revision: exit %d, %q %q; want a failure naming bad.yaml:6", code, out, errOut)
		}
		src := s.source("apps")
		if src.Status.LastAttemptedRevision == src.Status.LastAppliedRevision || !hasCondition(src, sources.ConditionStalled, "bad.yaml:6") {
			t.Errorf("source status after a bad commit: %+v", src.Status)
		}
		after := s.deployment("web")
		if after.Generation != before.Generation || !strings.HasSuffix(after.Spec.Template.Spec.Containers[0].Image, ":v1") {
			t.Errorf("the invalid revision changed deploy/web (generation %d → %d, image %s)", before.Generation, after.Generation, after.Spec.Template.Spec.Containers[0].Image)
		}
	})

	t.Run("a deleted file prunes its objects", func(t *testing.T) {
		repo.Commit(t, map[string]string{"apps/bad.yaml": "", "apps/settings.yaml": "", "apps/web.yaml": webManifest("v1")}, "fix, drop settings")
		repo.Push(t)
		if out, errOut, code := s.berth("sync", "apps"); code != 0 {
			t.Fatalf("berth sync: exit %d, %q %q", code, out, errOut)
		}
		s.waitFor(t, "configmap/settings pruned", 30*time.Second, func() bool {
			_, err := s.client.Get(s.ctx(), "ConfigMap", "default", "settings")
			return err != nil
		})
		if s.deployment("web") == nil {
			t.Errorf("deploy/web was pruned too")
		}
	})

	t.Run("a server restart keeps the pods and changes nothing", func(t *testing.T) {
		before := map[string]string{}
		for _, p := range s.pods("app=web") {
			before[p.Name] = p.Status.ContainerStatuses[0].State.Running.StartedAt.String()
		}
		gen := s.deployment("web").Generation
		s.restart()
		s.waitFor(t, "the source applied again", 30*time.Second, func() bool {
			src := s.source("apps")
			return src != nil && hasCondition(src, sources.ConditionReady, "")
		})
		time.Sleep(2 * time.Second) // a wrong restart would be replacing pods by now
		after := s.pods("app=web")
		if len(after) != len(before) {
			t.Errorf("%d pods before the restart, %d after", len(before), len(after))
		}
		for _, p := range after {
			cs := p.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].State.Running == nil || before[p.Name] != cs[0].State.Running.StartedAt.String() || cs[0].RestartCount != 0 {
				t.Errorf("pod %s after the restart: %+v; want it running since %s, never restarted", p.Name, cs, before[p.Name])
			}
		}
		if g := s.deployment("web").Generation; g != gen {
			t.Errorf("the restart re-applied deploy/web: generation %d → %d", gen, g)
		}
	})

	t.Run("a webhook with a bad signature is refused", func(t *testing.T) {
		if code := s.webhook(t, "apps", false); code != http.StatusUnauthorized {
			t.Errorf("bad signature: HTTP %d, want 401", code)
		}
	})

	t.Run("requests without a valid token are refused", func(t *testing.T) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := hc.Get(s.url + "/api/v1/namespaces/default/pods")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET pods without a token: HTTP %d, want 401", resp.StatusCode)
		}
		tokenFile := filepath.Join(t.TempDir(), "token")
		os.WriteFile(tokenFile, []byte("not-the-token\n"), 0o600)
		out, errOut, code := s.berth("get", "pods", "--server", s.url, "--token-file", tokenFile)
		if code == 0 || !strings.Contains(strings.ToLower(errOut), "unauthorized") {
			t.Errorf("berth get with a wrong token: exit %d, %q %q", code, out, errOut)
		}
	})
}

// TestE2EServerFolder: a folder source applies an edit.
func TestE2EServerFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(webManifest("v1")), 0o644)
	s := newE2EServer(t, "--dir", dir, "--source-name", "local")
	s.waitFor(t, "deploy/web rolled out", 2*time.Minute, func() bool { return rolledOut(s.deployment("web")) })

	// An editor's atomic save: write a temporary file, rename it over.
	tmp := filepath.Join(dir, ".web.yaml.swp")
	os.WriteFile(tmp, []byte(webManifest("v2")), 0o644)
	os.Rename(tmp, filepath.Join(dir, "web.yaml"))
	s.waitFor(t, "the edit applied and rolled out", 2*time.Minute, func() bool {
		d := s.deployment("web")
		return d != nil && strings.HasSuffix(d.Spec.Template.Spec.Containers[0].Image, ":v2") && rolledOut(d)
	})
	for _, p := range s.pods("app=web") {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s is %s", p.Name, p.Status.Phase)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// webhook posts a GitHub push event for source, signed with the server's
// secret (or a wrong one), and returns the HTTP status.
func (s *e2eServer) webhook(t *testing.T, source string, good bool) int {
	t.Helper()
	secret, err := os.ReadFile(filepath.Join(s.dataDir, "webhook-secret"))
	if err != nil {
		t.Fatal(err)
	}
	if !good {
		secret = []byte("wrong")
	}
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, bytes.TrimSpace(secret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/hooks/"+source, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// hasCondition reports whether src has condition typ True with a message
// containing text.
func hasCondition(src *sources.Resource, typ, text string) bool {
	for _, c := range src.Status.Conditions {
		if c.Type == typ && c.Status == "True" && strings.Contains(c.Message, text) {
			return true
		}
	}
	return false
}
