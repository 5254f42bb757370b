package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/sources"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClient is a serverClient over a fixed set of objects; it records
// the actions it is asked for.
type fakeClient struct {
	mu      sync.Mutex
	objects []store.Object
	watch   chan store.Event // what Watch returns (nil: a closed channel)
	calls   []string

	history  []api.Revision
	synced   []*sources.Resource
	diffs    []api.ObjectDiff
	diffErr  error
	files    []sources.File
	logs     string
	failWith error // returned by every call when set
}

func (f *fakeClient) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func key(obj store.Object) (string, string, string) {
	kind, _ := store.KindOf(obj)
	m := obj.(metav1.Object)
	return kind, m.GetNamespace(), m.GetName()
}

func (f *fakeClient) List(_ context.Context, kind, namespace, selector string) ([]store.Object, string, error) {
	f.record("list %s %s %s", kind, namespace, selector)
	if f.failWith != nil {
		return nil, "", f.failWith
	}
	var out []store.Object
	for _, o := range f.objects {
		k, ns, _ := key(o)
		if k == kind && (namespace == "" || ns == namespace) {
			out = append(out, o.DeepCopyObject())
		}
	}
	return out, "42", nil
}

func (f *fakeClient) Get(_ context.Context, kind, namespace, name string) (store.Object, error) {
	f.record("get %s %s %s", kind, namespace, name)
	if f.failWith != nil {
		return nil, f.failWith
	}
	for _, o := range f.objects {
		if k, ns, n := key(o); k == kind && ns == namespace && n == name {
			return o.DeepCopyObject(), nil
		}
	}
	return nil, &client.StatusError{Code: 404, Reason: metav1.StatusReasonNotFound, Message: "not found"}
}

func (f *fakeClient) Watch(_ context.Context, kind, namespace, rv string) (<-chan store.Event, error) {
	f.record("watch %s %s %s", kind, namespace, rv)
	if f.watch == nil {
		ch := make(chan store.Event)
		close(ch)
		return ch, nil
	}
	return f.watch, nil
}

func (f *fakeClient) RolloutUndo(_ context.Context, kind, namespace, name string, to int64) (string, error) {
	f.record("undo %s %s %s %d", kind, namespace, name, to)
	return "rolled back", f.failWith
}

func (f *fakeClient) RolloutPause(_ context.Context, kind, namespace, name string) (string, error) {
	f.record("pause %s %s %s", kind, namespace, name)
	return "paused", f.failWith
}

func (f *fakeClient) RolloutResume(_ context.Context, kind, namespace, name string) (string, error) {
	f.record("resume %s %s %s", kind, namespace, name)
	return "resumed", f.failWith
}

func (f *fakeClient) RolloutRestart(_ context.Context, kind, namespace, name string) (string, error) {
	f.record("restart %s %s %s", kind, namespace, name)
	return "restarted", f.failWith
}

func (f *fakeClient) RolloutHistory(_ context.Context, kind, namespace, name string) ([]api.Revision, error) {
	f.record("history %s %s %s", kind, namespace, name)
	return f.history, f.failWith
}

func (f *fakeClient) Sync(_ context.Context, source, revision string, latest bool) ([]*sources.Resource, error) {
	f.record("sync %q %q %v", source, revision, latest)
	return f.synced, f.failWith
}

func (f *fakeClient) Diff(_ context.Context, source string) ([]api.ObjectDiff, error) {
	f.record("diff %q", source)
	return f.diffs, f.diffErr
}

func (f *fakeClient) DiffFiles(_ context.Context, files []sources.File) ([]api.ObjectDiff, error) {
	f.record("difffiles %d", len(files))
	f.files = files
	return f.diffs, f.diffErr
}

func (f *fakeClient) Logs(_ context.Context, namespace, pod, container string, previous, follow bool, w io.Writer) error {
	f.record("logs %s %s %q %v %v", namespace, pod, container, previous, follow)
	if f.failWith != nil {
		return f.failWith
	}
	_, err := io.WriteString(w, f.logs)
	return err
}

// result is one command run.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs berth with args against c on a fake clock.
func runCLI(t *testing.T, c serverClient, clk *clocktesting.FakeClock, stdin string, args ...string) result {
	t.Helper()
	if clk == nil {
		clk = clocktesting.NewFakeClock(testNow)
	}
	root := &cobra.Command{Use: "berth", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newClientCommands(func(server, tokenFile string) (serverClient, error) {
		if server == "https://unreachable" {
			return nil, errors.New("no config: run berth server, or give --server and --token-file")
		}
		return c, nil
	}, clk)...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := 0
	var exit exitError
	switch {
	case errors.As(err, &exit):
		code = exit.code
	case err != nil:
		code = 2 // as main does for usage errors
		fmt.Fprintln(&errOut, "berth:", err)
	}
	return result{out.String(), errOut.String(), code}
}

func deploy(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour)), Generation: 1, ResourceVersion: "7"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "hello:v1"}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

func event(ns, kind, name, reason, msg string, age time.Duration) *corev1.Event {
	t := metav1.NewTime(testNow.Add(-age))
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "." + reason}, Type: "Normal", Reason: reason,
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}, Message: msg, FirstTimestamp: t, LastTimestamp: t, Count: 1}
}

func TestGet(t *testing.T) {
	web := deploy("default", "web", 3)
	web.Labels = map[string]string{"berth.io/source": "apps"}
	src := &sources.Resource{ObjectMeta: metav1.ObjectMeta{Name: "apps", CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour))},
		Spec: sources.SourceSpec{Type: sources.TypeDir, URL: "/srv/apps"},
		Status: sources.SourceStatus{LastAppliedRevision: "0123456789abcdef0123", Resources: []sources.ResourceStatus{
			{Kind: "Deployment", Namespace: "default", Name: "web", Sync: sources.SyncSynced, Health: sources.HealthHealthy}},
			Conditions: []metav1.Condition{{Type: sources.ConditionReady, Status: metav1.ConditionTrue, Message: "applied"}}}}
	c := &fakeClient{objects: []store.Object{web, deploy("shop", "cart", 1), src}}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"table with sync columns", []string{"get", "deploy"}, 0, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   SYNC     HEALTH    AGE\n" +
			"web    3/3     3            3           Synced   Healthy   60m\n", ""},
		{"all namespaces", []string{"get", "deployments", "-A"}, 0, "" +
			"NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   SYNC     HEALTH    AGE\n" +
			"default     web    3/3     3            3           Synced   Healthy   60m\n" +
			"shop        cart   1/1     1            1           <none>   <none>    60m\n", ""},
		{"other namespace, no source", []string{"get", "deploy", "-n", "shop"}, 0, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n" +
			"cart   1/1     1            1           60m\n", ""},
		{"by name", []string{"get", "deploy", "cart", "-n", "shop"}, 0, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n" +
			"cart   1/1     1            1           60m\n", ""},
		{"sources", []string{"get", "sources"}, 0, "" +
			"NAME   TYPE   URL         REVISION       READY   STATUS    AGE\n" +
			"apps   dir    /srv/apps   0123456789ab   True    applied   60m\n", ""},
		{"nothing found", []string{"get", "pods"}, 0, "", "No resources found in default namespace.\n"},
		{"nothing found anywhere", []string{"get", "pods", "-A"}, 0, "", "No resources found\n"},
		{"not found", []string{"get", "deploy/api"}, 1, "", "Error from server (NotFound): deployments.apps \"api\" not found\n"},
		{"unknown kind", []string{"get", "widgets"}, 2, "", "error: the server doesn't have a resource type \"widgets\"; berth serves nodes, namespaces, pods, services, configmaps, secrets, events, deployments, replicasets, daemonsets, statefulsets, jobs, cronjobs, sources\n"},
		{"bad output", []string{"get", "deploy", "-o", "xml"}, 2, "", ""},
		{"name with selector", []string{"get", "deploy", "web", "-l", "app=web"}, 2, "", "error: name cannot be provided when a selector is specified\n"},
		{"no config", []string{"get", "deploy", "--server", "https://unreachable"}, 2, "", "error: no config: run berth server, or give --server and --token-file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, c, nil, "", tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || (tt.stderr != "" && r.stderr != tt.stderr) {
				t.Errorf("berth %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d\nstdout:\n%s\nstderr:\n%s",
					strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

func TestGetJSON(t *testing.T) {
	c := &fakeClient{objects: []store.Object{deploy("default", "web", 3), deploy("default", "api", 1)}}
	r := runCLI(t, c, nil, "", "get", "deploy/web", "-o", "json")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "{\n    \"kind\": \"Deployment\",\n    \"apiVersion\": \"apps/v1\",") {
		t.Errorf("get deploy/web -o json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, c, nil, "", "get", "deploy", "-o", "yaml")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n") || !strings.Contains(r.stdout, "\nkind: List\n") {
		t.Errorf("get deploy -o yaml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A name that is missing among found ones: the found ones print, exit 1.
	r = runCLI(t, c, nil, "", "get", "deploy", "web", "nope", "-o", "json")
	if r.code != 1 || !strings.Contains(r.stdout, `"kind": "List"`) || !strings.Contains(r.stderr, `deployments.apps "nope" not found`) {
		t.Errorf("get deploy web nope: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"connection refused", fmt.Errorf("Get https://127.0.0.1:1/: %w", &netOpError), 2, "error: cannot reach the berth server"},
		{"unauthorized", &client.StatusError{Code: 401}, 2, "error: unauthorized"},
		{"server status", &client.StatusError{Code: 409, Reason: metav1.StatusReasonConflict, Message: "the object has been modified"}, 1, "Error from server (Conflict): the object has been modified\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, &fakeClient{failWith: tt.err}, nil, "", "rollout", "restart", "deploy/web")
			if r.code != tt.code || !strings.HasPrefix(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr starting %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	web := deploy("default", "web", 2)
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-5d8f", UID: "rs1",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: web.UID, Controller: new(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(2)), Template: web.Spec.Template}, Status: appsv1.ReplicaSetStatus{Replicas: 2}}
	c := &fakeClient{objects: []store.Object{web, rs,
		event("default", "Deployment", "web", "ScalingReplicaSet", "Scaled up replica set web-5d8f from 0 to 2", 3*time.Minute),
		event("default", "Deployment", "other", "ScalingReplicaSet", "not this one", time.Minute)}}
	r := runCLI(t, c, nil, "", "describe", "deploy/web")
	for _, want := range []string{
		"Name:               web\n",
		"Replicas:           2 desired | 2 updated | 2 total | 2 available | 0 unavailable\n",
		"NewReplicaSet:      web-5d8f (2/2 replicas created)\n",
		"Events:\n  Type    Reason             Age   From  Message\n",
		"Scaled up replica set web-5d8f from 0 to 2",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "not this one") || r.code != 0 {
		t.Errorf("describe: exit %d, output:\n%s", r.code, r.stdout)
	}
	r = runCLI(t, c, nil, "", "describe", "pod", "missing")
	if r.code != 1 || r.stderr != "Error from server (NotFound): pods \"missing\" not found\n" {
		t.Errorf("describe pod missing: exit %d, %q", r.code, r.stderr)
	}
}

func TestRolloutStatus(t *testing.T) {
	rolling := deploy("default", "web", 3)
	rolling.Status.UpdatedReplicas = 1
	halfway := rolling.DeepCopy()
	halfway.Status.UpdatedReplicas, halfway.Status.Replicas = 3, 4
	available := halfway.DeepCopy()
	available.Status.Replicas, available.Status.AvailableReplicas = 3, 2
	done := deploy("default", "web", 3)
	stuck := rolling.DeepCopy()
	stuck.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: rollouts.TimedOutReason}}

	t.Run("follows to completion", func(t *testing.T) {
		ch := make(chan store.Event, 5)
		for _, d := range []*appsv1.Deployment{halfway, halfway, available, done} {
			ch <- store.Event{Type: store.Modified, Object: d}
		}
		r := runCLI(t, &fakeClient{objects: []store.Object{rolling}, watch: ch}, nil, "", "rollout", "status", "deploy/web")
		want := `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...
Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...
Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...
deployment "web" successfully rolled out
`
		if r.code != 0 || r.stdout != want {
			t.Errorf("exit %d\n%s%s\nwant:\n%s", r.code, r.stdout, r.stderr, want)
		}
	})
	t.Run("progress deadline", func(t *testing.T) {
		ch := make(chan store.Event, 1)
		ch <- store.Event{Type: store.Modified, Object: stuck}
		r := runCLI(t, &fakeClient{objects: []store.Object{rolling}, watch: ch}, nil, "", "rollout", "status", "deploy/web")
		if r.code != 1 || r.stderr != "error: deployment \"web\" exceeded its progress deadline\n" {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("no watch", func(t *testing.T) {
		r := runCLI(t, &fakeClient{objects: []store.Object{rolling}}, nil, "", "rollout", "status", "deploy/web", "-w=false")
		if r.code != 0 || !strings.Contains(r.stdout, "1 out of 3 new replicas") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		clk := clocktesting.NewFakeClock(testNow)
		ch := make(chan store.Event)
		resc := make(chan result)
		go func() {
			resc <- runCLI(t, &fakeClient{objects: []store.Object{rolling}, watch: ch}, clk, "", "rollout", "status", "deploy/web", "--timeout", "30s")
		}()
		for !clk.HasWaiters() {
			time.Sleep(time.Millisecond)
		}
		clk.Step(30 * time.Second)
		r := <-resc
		if r.code != 1 || r.stderr != "error: timed out waiting for the condition\n" {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		ch := make(chan store.Event, 1)
		ch <- store.Event{Type: store.Deleted, Object: rolling}
		r := runCLI(t, &fakeClient{objects: []store.Object{rolling}, watch: ch}, nil, "", "rollout", "status", "deploy/web")
		if r.code != 1 || !strings.Contains(r.stderr, "deleted") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("not a deployment", func(t *testing.T) {
		r := runCLI(t, &fakeClient{}, nil, "", "rollout", "status", "pod/web")
		if r.code != 2 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestRolloutActions(t *testing.T) {
	c := &fakeClient{history: []api.Revision{{Revision: 1}, {Revision: 2, ChangeCause: "image hello:v2", Template: "metadata:\n  labels:\n    app: web\n"}}}
	tests := []struct {
		args   []string
		stdout string
		call   string
	}{
		{[]string{"rollout", "undo", "deploy/web", "--to-revision", "1"}, "deployment.apps/web rolled back\n", "undo Deployment default web 1"},
		{[]string{"rollout", "pause", "deployment", "web", "-n", "shop"}, "deployment.apps/web paused\n", "pause Deployment shop web"},
		{[]string{"rollout", "resume", "deploy/web"}, "deployment.apps/web resumed\n", "resume Deployment default web"},
		{[]string{"rollout", "restart", "deploy/web"}, "deployment.apps/web restarted\n", "restart Deployment default web"},
		{[]string{"rollout", "history", "deploy/web"}, "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         image hello:v2\n", "history Deployment default web"},
		{[]string{"rollout", "history", "deploy/web", "--revision", "2"}, "deployment.apps/web with revision #2\nPod Template:\n  metadata:\n    labels:\n      app: web\n", "history Deployment default web"},
	}
	for _, tt := range tests {
		c.calls = nil
		r := runCLI(t, c, nil, "", tt.args...)
		if r.code != 0 || r.stdout != tt.stdout || !slices.Contains(c.calls, tt.call) {
			t.Errorf("berth %s: exit %d\n%q%s\ncalls %q; want %q, call %q", strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, c.calls, tt.stdout, tt.call)
		}
	}
	r := runCLI(t, c, nil, "", "rollout", "history", "deploy/web", "--revision", "9")
	if r.code != 1 || r.stderr != "error: unable to find the specified revision\n" {
		t.Errorf("history --revision 9: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, &fakeClient{failWith: &client.StatusError{Code: 404, Reason: metav1.StatusReasonNotFound}}, nil, "", "rollout", "undo", "deploy/nope")
	if r.code != 1 || r.stderr != "Error from server (NotFound): deployments.apps \"nope\" not found\n" {
		t.Errorf("undo missing: exit %d, %q", r.code, r.stderr)
	}
}

func TestSync(t *testing.T) {
	ready := &sources.Resource{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: sources.SourceSpec{PinnedRevision: "abc123"},
		Status: sources.SourceStatus{LastAppliedRevision: "main@sha1:abc123", Conditions: []metav1.Condition{{Type: sources.ConditionReady, Status: metav1.ConditionTrue}}}}
	broken := &sources.Resource{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Status: sources.SourceStatus{LastAppliedRevision: "main@sha1:0ld", Conditions: []metav1.Condition{{Type: sources.ConditionReady, Status: metav1.ConditionFalse,
			Message: "db.yaml:3:1: error: unknown field \"replica\""}}}}
	tests := []struct {
		name   string
		synced []*sources.Resource
		args   []string
		code   int
		stdout string
		call   string
	}{
		{"pinned", []*sources.Resource{ready}, []string{"sync", "web", "--revision", "abc123"}, 0, "source/web: applied revision main@sha1:abc123 (pinned)\n", `sync "web" "abc123" false`},
		{"one fails", []*sources.Resource{ready, broken}, []string{"sync"}, 1, "source/web: applied revision main@sha1:abc123 (pinned)\nsource/db: db.yaml:3:1: error: unknown field \"replica\"; still running revision main@sha1:0ld\n", `sync "" "" false`},
		{"latest", []*sources.Resource{ready}, []string{"sync", "web", "--latest"}, 0, "source/web: applied revision main@sha1:abc123 (pinned)\n", `sync "web" "" true`},
		{"revision without source", nil, []string{"sync", "--revision", "abc"}, 2, "", ""},
		{"both flags", nil, []string{"sync", "web", "--revision", "abc", "--latest"}, 2, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClient{synced: tt.synced}
			r := runCLI(t, c, nil, "", tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || (tt.call != "" && !slices.Contains(c.calls, tt.call)) {
				t.Errorf("exit %d\n%s%s\ncalls %q", r.code, r.stdout, r.stderr, c.calls)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"web.yaml": "kind: Deployment", "sub/db.yml": "kind: Service", "README.md": "x", ".git/ci.yaml": "no", "sub/x.json": "{}"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	change := api.ObjectDiff{Kind: "Deployment", Namespace: "default", Name: "web", Action: api.DiffUpdate, Diff: "--- live\n+++ desired\n@@ -1 +1 @@\n-image: v1\n+image: v2\n"}

	c := &fakeClient{diffs: []api.ObjectDiff{change}}
	r := runCLI(t, c, nil, "", "diff", dir)
	if r.code != 1 || r.stdout != "diff Deployment default/web (update)\n"+change.Diff {
		t.Errorf("diff DIR: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var paths []string
	for _, f := range c.files {
		paths = append(paths, f.Path)
	}
	// Named as `berth validate` names them, so findings read the same.
	base := filepath.ToSlash(dir) + "/"
	if want := []string{base + "sub/db.yml", base + "sub/x.json", base + "web.yaml"}; !slices.Equal(paths, want) {
		t.Errorf("files sent = %q, want %q", paths, want)
	}

	r = runCLI(t, &fakeClient{}, nil, "", "diff")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("diff without changes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c = &fakeClient{}
	r = runCLI(t, c, nil, "kind: ConfigMap\n", "diff", "-")
	if r.code != 0 || len(c.files) != 1 || c.files[0].Path != "<stdin>" || string(c.files[0].Data) != "kind: ConfigMap\n" {
		t.Errorf("diff -: exit %d, files %+v", r.code, c.files)
	}
	r = runCLI(t, &fakeClient{diffErr: errors.New("web.yaml:3:1: error: unknown field")}, nil, "", "diff", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "web.yaml:3:1") {
		t.Errorf("diff invalid: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, &fakeClient{}, nil, "", "diff", filepath.Join(dir, "missing"))
	if r.code != 2 || !strings.Contains(r.stderr, "missing") {
		t.Errorf("diff missing path: exit %d, %q", r.code, r.stderr)
	}
}

func TestLogs(t *testing.T) {
	c := &fakeClient{logs: "hello\n"}
	r := runCLI(t, c, nil, "", "logs", "web-1", "-c", "app", "-f", "--previous", "-n", "shop")
	if r.code != 0 || r.stdout != "hello\n" || !slices.Contains(c.calls, `logs shop web-1 "app" true true`) {
		t.Errorf("exit %d %q, calls %q", r.code, r.stdout, c.calls)
	}
	r = runCLI(t, c, nil, "", "logs", "pod/web-1")
	if r.code != 0 || !slices.Contains(c.calls, `logs default web-1 "" false false`) {
		t.Errorf("logs pod/web-1: exit %d, calls %q", r.code, c.calls)
	}
	r = runCLI(t, &fakeClient{failWith: &client.StatusError{Code: 404, Reason: metav1.StatusReasonNotFound}}, nil, "", "logs", "nope")
	if r.code != 1 || r.stderr != "Error from server (NotFound): pods \"nope\" not found\n" {
		t.Errorf("logs nope: exit %d, %q", r.code, r.stderr)
	}
	if r = runCLI(t, c, nil, "", "logs", "deploy/web"); r.code != 2 {
		t.Errorf("logs deploy/web: exit %d", r.code)
	}
}

func TestEvents(t *testing.T) {
	objs := []store.Object{
		event("default", "Deployment", "web", "ScalingReplicaSet", "Scaled up", time.Minute),
		event("default", "Pod", "web-1", "Pulled", "Pulled image", 3*time.Minute),
		event("shop", "Pod", "cart-1", "Started", "Started container", 2*time.Minute),
	}
	r := runCLI(t, &fakeClient{objects: objs}, nil, "", "events")
	want := "" +
		"LAST SEEN   TYPE     REASON              OBJECT           MESSAGE\n" +
		"3m          Normal   Pulled              Pod/web-1        Pulled image\n" +
		"60s         Normal   ScalingReplicaSet   Deployment/web   Scaled up\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("events: exit %d\n%s\nwant:\n%s", r.code, r.stdout, want)
	}
	r = runCLI(t, &fakeClient{objects: objs}, nil, "", "events", "--for", "deploy/web")
	if r.code != 0 || strings.Contains(r.stdout, "Pulled") || !strings.Contains(r.stdout, "Scaled up") {
		t.Errorf("events --for: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, &fakeClient{objects: objs}, nil, "", "events", "-A")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "NAMESPACE   LAST SEEN") || !strings.Contains(r.stdout, "shop        2m") {
		t.Errorf("events -A: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, &fakeClient{}, nil, "", "events", "-n", "shop")
	if r.code != 0 || r.stderr != "No events found in shop namespace.\n" {
		t.Errorf("no events: exit %d %q", r.code, r.stderr)
	}
	ch := make(chan store.Event, 3)
	ch <- store.Event{Type: store.Added, Object: event("default", "Pod", "web-2", "Scheduled", "Assigned", 0)}
	ch <- store.Event{Type: store.Deleted, Object: objs[1]}
	close(ch)
	r = runCLI(t, &fakeClient{objects: objs[:1], watch: ch}, nil, "", "events", "-w")
	if !strings.Contains(r.stdout, "Scheduled") || strings.Count(r.stdout, "LAST SEEN") != 1 || strings.Contains(r.stdout, "Pulled") {
		t.Errorf("events -w:\n%s", r.stdout)
	}
}
