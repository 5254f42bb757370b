package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/api/client"
	"github.com/berth-io/berth/reconciler/store"
)

// fakeNodeClient adds the writes of nodeClient to fakeClient.
type fakeNodeClient struct {
	*fakeClient
	conflicts int            // Updates to fail with a conflict first
	linger    map[string]int // pod name → Gets it survives after its delete
	deleted   map[string]bool
}

func newFakeNodeClient(objs ...store.Object) *fakeNodeClient {
	return &fakeNodeClient{fakeClient: &fakeClient{objects: objs}, linger: map[string]int{}, deleted: map[string]bool{}}
}

func (f *fakeNodeClient) Update(_ context.Context, obj store.Object) (store.Object, error) {
	kind, ns, name := key(obj)
	f.record("update %s %s %s", kind, ns, name)
	if f.conflicts > 0 {
		f.conflicts--
		return nil, &client.StatusError{Code: 409, Reason: metav1.StatusReasonConflict, Message: "the object has been modified"}
	}
	for i, o := range f.objects {
		if k, n2, n := key(o); k == kind && n2 == ns && n == name {
			f.objects[i] = obj.DeepCopyObject()
			return obj, nil
		}
	}
	return nil, &client.StatusError{Code: 404, Reason: metav1.StatusReasonNotFound, Message: "not found"}
}

func (f *fakeNodeClient) DeleteWithOptions(_ context.Context, kind, ns, name string, opts store.DeleteOptions) error {
	grace := "nil"
	if opts.GracePeriodSeconds != nil {
		grace = fmt.Sprint(*opts.GracePeriodSeconds)
	}
	f.record("delete %s %s %s uid=%s grace=%s", kind, ns, name, opts.UID, grace)
	f.deleted[name] = true
	return nil
}

// Get makes deleted pods disappear once they have lingered.
func (f *fakeNodeClient) Get(ctx context.Context, kind, ns, name string) (store.Object, error) {
	if kind == "Pod" && f.deleted[name] {
		if f.linger[name] <= 0 {
			f.objects = slices.DeleteFunc(f.objects, func(o store.Object) bool {
				k, n2, n := key(o)
				return k == kind && n2 == ns && n == name
			})
		} else {
			f.linger[name]--
		}
	}
	return f.fakeClient.Get(ctx, kind, ns, name)
}

func (f *fakeNodeClient) node(t *testing.T, name string) *corev1.Node {
	t.Helper()
	obj, err := f.fakeClient.Get(context.Background(), "Node", "", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Node)
}

func testNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, ResourceVersion: "3"}, Spec: corev1.NodeSpec{Taints: taints}}
}

func testPod(name, node, ownerKind string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)}, Spec: corev1.PodSpec{NodeName: node}}
	if ownerKind != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: ownerKind, Name: "owner", Controller: &yes}}
	}
	return p
}

func TestLabelNode(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		wantLabels map[string]string
	}{
		{"add", []string{"label", "node/n1", "zone=a"}, 0, "node/n1 labeled\n", "", map[string]string{"env": "dev", "zone": "a"}},
		{"node NAME form", []string{"label", "node", "n1", "zone=a"}, 0, "node/n1 labeled\n", "", map[string]string{"env": "dev", "zone": "a"}},
		{"overwrite refused", []string{"label", "node/n1", "env=prod"}, 1, "", "error: 'env' already has a value (dev), and --overwrite is false\n", map[string]string{"env": "dev"}},
		{"overwrite", []string{"label", "node/n1", "env=prod", "--overwrite"}, 0, "node/n1 labeled\n", "", map[string]string{"env": "prod"}},
		{"remove", []string{"label", "node/n1", "env-"}, 0, "node/n1 labeled\n", "", map[string]string{}},
		{"remove missing", []string{"label", "node/n1", "nope-"}, 0, "node/n1 not labeled\n", "label \"nope\" not found.\n", map[string]string{"env": "dev"}},
		{"same value", []string{"label", "node/n1", "env=dev"}, 0, "node/n1 not labeled\n", "", map[string]string{"env": "dev"}},
		{"invalid value", []string{"label", "node/n1", "env=a b"}, 2, "", "error: invalid label value: \"env=a b\": a valid label must be", map[string]string{"env": "dev"}},
		{"invalid key", []string{"label", "node/n1", "a/b/c=x"}, 2, "", "error: invalid label key: \"a/b/c=x\": a valid label key must consist", map[string]string{"env": "dev"}},
		{"not a node", []string{"label", "deploy/web", "a=b"}, 2, "", "error: berth works on nodes here: give node/NAME, not deploy/web\n", map[string]string{"env": "dev"}},
		{"unknown node", []string{"label", "node/nx", "a=b"}, 1, "", "Error from server (NotFound): nodes \"nx\" not found\n", map[string]string{"env": "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeNodeClient(testNode("n1", map[string]string{"env": "dev"}))
			r := runCLI(t, c, nil, "", tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.HasPrefix(r.stderr, tt.stderr) {
				t.Fatalf("got %d %q %q; want %d %q %q", r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
			got := c.node(t, "n1").Labels
			if got == nil {
				got = map[string]string{}
			}
			if !mapsEqual(got, tt.wantLabels) {
				t.Errorf("labels %v, want %v", got, tt.wantLabels)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestTaintNode(t *testing.T) {
	infra := corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
		want   []corev1.Taint
	}{
		{"add", []string{"taint", "node/n1", "gpu=yes:NoExecute"}, 0, "node/n1 tainted\n", "",
			[]corev1.Taint{{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectNoExecute}, infra}},
		{"remove", []string{"taint", "node/n1", "dedicated:NoSchedule-"}, 0, "node/n1 untainted\n", "", []corev1.Taint{}},
		{"remove by key", []string{"taint", "node/n1", "dedicated-"}, 0, "node/n1 untainted\n", "", []corev1.Taint{}},
		{"duplicate", []string{"taint", "node/n1", "dedicated=other:NoSchedule"}, 1, "",
			"error: node n1 already has dedicated taint(s) with same effect(s) and --overwrite is false\n", []corev1.Taint{infra}},
		{"overwrite", []string{"taint", "node/n1", "dedicated=other:NoSchedule", "--overwrite"}, 0, "node/n1 modified\n", "",
			[]corev1.Taint{{Key: "dedicated", Value: "other", Effect: corev1.TaintEffectNoSchedule}}},
		{"missing", []string{"taint", "node/n1", "nope:NoSchedule-"}, 1, "", "error: taint \"nope:NoSchedule\" not found\n", []corev1.Taint{infra}},
		{"bad effect", []string{"taint", "node/n1", "a=b:Never"}, 2, "", "error: invalid taint effect: Never, unsupported taint effect\n", []corev1.Taint{infra}},
		{"no effect", []string{"taint", "node/n1", "a"}, 2, "", "error: unknown taint spec: a\n", []corev1.Taint{infra}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeNodeClient(testNode("n1", nil, infra))
			r := runCLI(t, c, nil, "", tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
				t.Fatalf("got %d %q %q; want %d %q %q", r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
			got := c.node(t, "n1").Spec.Taints
			if len(got) != len(tt.want) || (len(got) > 0 && !slices.Equal(got, tt.want)) {
				t.Errorf("taints %v, want %v", got, tt.want)
			}
		})
	}
}

// A node edit that loses a race with a heartbeat is read again and retried.
func TestNodeEditRetriesConflicts(t *testing.T) {
	c := newFakeNodeClient(testNode("n1", nil))
	c.conflicts = 2
	r := runCLI(t, c, nil, "", "cordon", "node/n1")
	if r.code != 0 || r.stdout != "node/n1 cordoned\n" {
		t.Fatalf("got %+v", r)
	}
	if !c.node(t, "n1").Spec.Unschedulable {
		t.Error("node not cordoned")
	}
	updates := 0
	for _, call := range c.calls {
		if strings.HasPrefix(call, "update Node") {
			updates++
		}
	}
	if updates != 3 {
		t.Errorf("%d updates, want 3", updates)
	}
}

func TestCordonUncordon(t *testing.T) {
	c := newFakeNodeClient(testNode("n1", nil))
	for _, step := range []struct {
		args   []string
		stdout string
		want   bool
	}{
		{[]string{"cordon", "node/n1"}, "node/n1 cordoned\n", true},
		{[]string{"cordon", "n1"}, "node/n1 already cordoned\n", true},
		{[]string{"uncordon", "node/n1"}, "node/n1 uncordoned\n", false},
		{[]string{"uncordon", "node", "n1"}, "node/n1 already uncordoned\n", false},
	} {
		r := runCLI(t, c, nil, "", step.args...)
		if r.code != 0 || r.stdout != step.stdout {
			t.Fatalf("%v: got %+v, want %q", step.args, r, step.stdout)
		}
		if got := c.node(t, "n1").Spec.Unschedulable; got != step.want {
			t.Errorf("%v: unschedulable %v", step.args, got)
		}
	}
}

// drainPods is a node n1 with a ReplicaSet pod, a DaemonSet pod and a bare
// pod, and a pod on n2.
func drainPods() *fakeNodeClient {
	return newFakeNodeClient(testNode("n1", nil), testNode("n2", nil),
		testPod("web-x", "n1", "ReplicaSet"), testPod("ds-x", "n1", "DaemonSet"),
		testPod("bare", "n1", ""), testPod("web-y", "n2", "ReplicaSet"))
}

func TestDrainRefuses(t *testing.T) {
	c := drainPods()
	r := runCLI(t, c, nil, "", "drain", "node/n1")
	want := "error: unable to drain node \"n1\" due to error: " +
		"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds-x, " +
		"cannot delete Pods that declare no controller (use --force to override): default/bare\n"
	if r.code != 1 || r.stdout != "node/n1 cordoned\n" || r.stderr != want {
		t.Fatalf("got %d %q %q", r.code, r.stdout, r.stderr)
	}
	if len(c.deleted) != 0 {
		t.Errorf("deleted %v", c.deleted)
	}
}

func TestDrain(t *testing.T) {
	c := drainPods()
	c.linger["web-x"] = 3
	clk := clocktesting.NewFakeClock(testNow)
	r := runStepping(t, c, clk, "drain", "node/n1", "--ignore-daemonsets", "--force", "--grace-period", "10")
	wantOut := "node/n1 cordoned\n" +
		"evicting pod default/web-x\npod/web-x evicted\n" +
		"evicting pod default/bare\npod/bare evicted\n" +
		"node/n1 drained\n"
	wantErr := "Warning: ignoring DaemonSet-managed Pods: default/ds-x\n" +
		"Warning: deleting Pods that declare no controller: default/bare\n"
	if r.code != 0 || r.stdout != wantOut || r.stderr != wantErr {
		t.Fatalf("got %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"delete Pod default web-x uid=uid-web-x grace=10",
		"delete Pod default bare uid=uid-bare grace=10",
	} {
		if !slices.Contains(c.calls, want) {
			t.Errorf("no call %q in %q", want, c.calls)
		}
	}
	if c.deleted["ds-x"] || c.deleted["web-y"] {
		t.Errorf("deleted %v", c.deleted)
	}
	if d := clk.Now().Sub(testNow); d < 3*time.Second {
		t.Errorf("drain returned after %v, before web-x was gone", d)
	}
}

func TestDrainTimeout(t *testing.T) {
	c := drainPods()
	c.linger["web-x"] = 1 << 30
	clk := clocktesting.NewFakeClock(testNow)
	r := runStepping(t, c, clk, "drain", "node/n1", "--ignore-daemonsets", "--force", "--timeout", "5s")
	if r.code != 1 || !strings.HasSuffix(r.stderr, "error: unable to drain node \"n1\" due to error: drain did not complete within 5s\n") {
		t.Fatalf("got %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// runStepping runs the CLI while moving clk a second whenever the command
// waits on it.
func runStepping(t *testing.T, c serverClient, clk *clocktesting.FakeClock, args ...string) result {
	t.Helper()
	done := make(chan result)
	go func() { done <- runCLI(t, c, clk, "", args...) }()
	for {
		select {
		case r := <-done:
			return r
		case <-time.After(time.Millisecond):
			if clk.HasWaiters() {
				clk.Step(time.Second)
			}
		}
	}
}
