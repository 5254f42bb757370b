package sim

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/nodelifecycle"
)

const lcMaxSim = 30 * time.Minute

// A node that stops heartbeating goes Unknown and tainted unreachable
// after the grace period; its pods, with the default 300 s tolerations,
// are evicted when those run out; the ReplicaSet replaces them on the
// other nodes; when the node comes back its taints go and its evicted
// pods' containers are stopped and the pods removed.
func TestNodeLifecycleUnreachableNodeEvictsAfterDefaultTolerations(t *testing.T) {
	ctx := context.Background()
	c := newLCCluster(t, 3, nodelifecycle.Options{})
	if _, err := c.ApplyDeployment(ctx, lcDeployment(3)); err != nil {
		t.Fatal(err)
	}
	running := func(node string, want int) func() (bool, error) {
		return func() (bool, error) {
			n := 0
			for _, p := range c.activePods(t) {
				if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == node {
					return false, nil
				}
				n++
			}
			return n == want, nil
		}
	}
	if err := c.RunUntil(ctx, lcMaxSim, nil, running("", 3)); err != nil {
		t.Fatal(err)
	}
	pods := c.activePods(t)
	for _, p := range pods {
		if !slices.ContainsFunc(p.Spec.Tolerations, func(tol corev1.Toleration) bool {
			return tol.Key == corev1.TaintNodeUnreachable && tol.TolerationSeconds != nil && *tol.TolerationSeconds == 300
		}) {
			t.Fatalf("pod %s lacks the default unreachable toleration: %+v", p.Name, p.Spec.Tolerations)
		}
	}
	victim := pods[0].Spec.NodeName
	var onVictim []string
	for _, p := range pods {
		if p.Spec.NodeName == victim {
			onVictim = append(onVictim, p.Name)
		}
	}
	idx := -1
	for i := range c.Links {
		if fake.NodeName(i) == victim {
			idx = i
		}
	}
	c.Links[idx].down.Store(true)
	cutAt := c.Now()

	if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) {
		s, _ := readyCond(c.node(t, victim))
		return s == corev1.ConditionUnknown, nil
	}); err != nil {
		t.Fatal(err)
	}
	unknownAt := c.Now()
	if d := unknownAt.Sub(cutAt); d < 30*time.Second || d > 40*time.Second {
		t.Errorf("node went Unknown %v after its last chance to heartbeat; want within 30-40s", d)
	}
	n := c.node(t, victim)
	if _, reason := readyCond(n); reason != "NodeStatusUnknown" {
		t.Errorf("Ready reason %q, want NodeStatusUnknown", reason)
	}
	if !hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute) || !hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule) {
		t.Errorf("taints %+v, want unreachable NoExecute and NoSchedule", n.Spec.Taints)
	}

	// The pods stay for their 300 s, then are marked for deletion.
	if err := c.RunFor(ctx, 299*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if got := countOn(c.activePods(t), victim); got != len(onVictim) {
		t.Fatalf("%d pods left on %s before 300s, want %d", got, victim, len(onVictim))
	}
	if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) { return countOn(c.activePods(t), victim) == 0, nil }); err != nil {
		t.Fatal(err)
	}
	if d := c.Now().Sub(unknownAt); d < 300*time.Second || d > 301*time.Second {
		t.Errorf("pods evicted %v after the taint, want 300s", d)
	}
	for _, name := range onVictim {
		want := "Normal TaintManagerEviction Marking for deletion Pod default/" + name
		if !slices.Contains(c.Events.Events(), want) {
			t.Errorf("no event %q", want)
		}
	}
	if err := c.RunUntil(ctx, lcMaxSim, nil, running(victim, 3)); err != nil {
		t.Fatal(err)
	}

	// The node comes back: Ready, untainted, its old pods gone.
	c.Links[idx].down.Store(false)
	if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) {
		n := c.node(t, victim)
		s, _ := readyCond(n)
		pods, err := c.Pods(ctx, "default")
		return s == corev1.ConditionTrue && len(n.Spec.Taints) == 0 && countOn(pods, victim) == 0, err
	}); err != nil {
		t.Fatal(err)
	}
	if st := c.Runtimes[idx].Stats(); st.RunningContainers != 0 {
		t.Errorf("node %s still runs %d containers of evicted pods", victim, st.RunningContainers)
	}
	if got := len(c.activePods(t)); got != 3 {
		t.Errorf("%d pods, want 3", got)
	}
}

func countOn(pods []*corev1.Pod, node string) int {
	n := 0
	for _, p := range pods {
		if p.Spec.NodeName == node {
			n++
		}
	}
	return n
}

// A NoExecute taint added by hand evicts the pods that do not tolerate it
// at once, those that tolerate it for a while after that while, and never
// those that tolerate it for good; removing it cancels pending evictions.
func TestNodeLifecycleManualNoExecuteTaint(t *testing.T) {
	ctx := context.Background()
	c := newLCCluster(t, 2, nodelifecycle.Options{})
	s := func(v int64) *int64 { return &v }
	tol := func(seconds *int64) corev1.Toleration {
		return corev1.Toleration{Key: "maint", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
	}
	node := fake.NodeName(0)
	for _, p := range []*corev1.Pod{
		boundPod("plain", node),
		boundPod("sixty", node, tol(s(60))),
		boundPod("ninety", node, tol(s(90))),
		boundPod("forever", node, tol(nil)),
		boundPod("elsewhere", fake.NodeName(1)),
	} {
		if _, err := c.Store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	alive := func(name string) bool {
		return slices.ContainsFunc(c.activePods(t), func(p *corev1.Pod) bool { return p.Name == name })
	}
	if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) {
		for _, p := range c.activePods(t) {
			if p.Status.Phase != corev1.PodRunning {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	c.updateNode(t, node, func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "maint", Value: "now", Effect: corev1.TaintEffectNoExecute})
	})
	taintedAt := c.Now()
	for _, step := range []struct {
		name  string
		after time.Duration
	}{{"plain", 0}, {"sixty", 60 * time.Second}} {
		if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) { return !alive(step.name), nil }); err != nil {
			t.Fatal(err)
		}
		if d := c.Now().Sub(taintedAt); d < step.after || d > step.after+time.Second {
			t.Errorf("%s evicted after %v, want %v", step.name, d, step.after)
		}
	}
	c.updateNode(t, node, func(n *corev1.Node) { n.Spec.Taints = nil })
	if err := c.RunFor(ctx, 10*time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ninety", "forever", "elsewhere"} {
		if !alive(name) {
			t.Errorf("pod %s was evicted", name)
		}
	}
	ev := c.Events.Events()
	for _, want := range []string{
		"Normal TaintManagerEviction Marking for deletion Pod default/plain",
		"Normal TaintManagerEviction Marking for deletion Pod default/sixty",
		"Normal TaintManagerEviction Cancelling deletion of Pod default/ninety",
	} {
		if !slices.Contains(ev, want) {
			t.Errorf("no event %q in %q", want, ev)
		}
	}
	for _, e := range ev {
		if e == "Normal TaintManagerEviction Marking for deletion Pod default/forever" ||
			e == "Normal TaintManagerEviction Marking for deletion Pod default/ninety" {
			t.Errorf("unexpected event %q", e)
		}
	}
}

// Nodes without a pod subnet get the lowest free one of the cluster CIDR;
// one registered with its own keeps it; when none is left an event says
// so, and a deleted node's subnet goes to the next.
func TestNodeLifecyclePodCIDRAllocation(t *testing.T) {
	ctx := context.Background()
	c := newLCCluster(t, 0, nodelifecycle.Options{ClusterCIDR: "10.42.0.0/23"})
	nodes := []*corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Spec: corev1.NodeSpec{PodCIDR: "10.42.0.0/24", PodCIDRs: []string{"10.42.0.0/24"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}},
	}
	for _, n := range nodes {
		if _, err := c.Store.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RunFor(ctx, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.RunFor(ctx, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"local": "10.42.0.0/24", "a": "10.42.1.0/24", "b": ""} {
		n := c.node(t, name)
		if n.Spec.PodCIDR != want || (want != "" && !slices.Equal(n.Spec.PodCIDRs, []string{want})) {
			t.Errorf("node %s: podCIDR %q %v, want %q", name, n.Spec.PodCIDR, n.Spec.PodCIDRs, want)
		}
	}
	if want := "Normal CIDRNotAvailable Node b status is now: CIDRNotAvailable"; !slices.Contains(c.Events.Events(), want) {
		t.Errorf("no event %q in %q", want, c.Events.Events())
	}
	if err := c.Store.Delete(ctx, "Node", "", "local", lcDeleteNow()); err != nil {
		t.Fatal(err)
	}
	if err := c.RunFor(ctx, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.node(t, "b").Spec.PodCIDR; got != "10.42.0.0/24" {
		t.Errorf("after local's deletion, b has %q, want 10.42.0.0/24", got)
	}
}

// Pods bound to a Node that does not exist (deleted, or never was) are
// deleted.
func TestNodeLifecyclePodGC(t *testing.T) {
	ctx := context.Background()
	c := newLCCluster(t, 0, nodelifecycle.Options{})
	if _, err := c.Store.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gone"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{boundPod("on-gone", "gone"), boundPod("on-ghost", "ghost"), boundPod("on-kept", "kept"), boundPod("unbound", "")} {
		if _, err := c.Store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	names := func() []string {
		var names []string
		pods, err := c.Pods(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods {
			names = append(names, p.Name)
		}
		return names
	}
	// Within the quarantine, a missing node may still be registering.
	if err := c.RunFor(ctx, 39*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{"on-ghost", "on-gone", "on-kept", "unbound"}; !slices.Equal(got, want) {
		t.Errorf("pods within the quarantine %v, want %v", got, want)
	}
	if err := c.Store.Delete(ctx, "Node", "", "gone", lcDeleteNow()); err != nil {
		t.Fatal(err)
	}
	if err := c.RunFor(ctx, 41*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := names(), []string{"on-kept", "unbound"}; !slices.Equal(got, want) {
		t.Errorf("pods %v, want %v", got, want)
	}
}

// An agent whose clock is an hour behind is judged by when its heartbeat
// moves, not by the time it writes: it stays Ready while it posts, and
// goes Unknown 40 s after it stops.
func TestNodeLifecycleSkewedClock(t *testing.T) {
	ctx := context.Background()
	c := newLCCluster(t, 0, nodelifecycle.Options{})
	beat := func(n *corev1.Node) {
		t := metav1.NewTime(c.Now().Add(-time.Hour).Truncate(time.Second))
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: t, LastTransitionTime: t}}
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "skewed", Labels: map[string]string{}}}
	beat(n)
	if _, err := c.Store.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if err := c.RunFor(ctx, lcHeartbeat, nil); err != nil {
			t.Fatal(err)
		}
		c.updateNode(t, "skewed", beat)
	}
	if err := c.RunFor(ctx, time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if s, _ := readyCond(c.node(t, "skewed")); s != corev1.ConditionTrue || len(c.node(t, "skewed").Spec.Taints) != 0 {
		t.Fatalf("posting node: Ready %s, taints %v", s, c.node(t, "skewed").Spec.Taints)
	}
	stopped := c.Now()
	if err := c.RunUntil(ctx, lcMaxSim, nil, func() (bool, error) {
		s, _ := readyCond(c.node(t, "skewed"))
		return s == corev1.ConditionUnknown, nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := c.Now().Sub(stopped); d < 39*time.Second || d > 40*time.Second {
		t.Errorf("Unknown %v after the last heartbeat, want 40s", d)
	}
}
