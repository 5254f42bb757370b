package sim

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/workloads"
)

// Helpers of the DaemonSet scenarios: the DaemonSet "agent" (selector
// app=agent), node changes, and views of where its pods are.

const dsName = "agent"

// agentDaemonSet is the DaemonSet "agent" running image, RollingUpdate
// with the API defaults unless mutate says otherwise.
func agentDaemonSet(image string, mutate ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: dsName, Namespace: scNS},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": dsName}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": dsName}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			},
		},
	}
	for _, m := range mutate {
		m(ds)
	}
	return ds
}

func dsRolling(maxUnavailable, maxSurge intstr.IntOrString) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
		}
	}
}

func dsOnDelete(ds *appsv1.DaemonSet) {
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
}

func dsNodeSelector(kv ...string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			ds.Spec.Template.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

// applyDS stores ds as a user would: defaulted, created or its spec
// replaced and its annotations merged.
func applyDS(t *testing.T, cl *Cluster, ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	t.Helper()
	out, err := applyDSErr(context.Background(), cl, ds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func applyDSErr(ctx context.Context, cl *Cluster, ds *appsv1.DaemonSet) (*appsv1.DaemonSet, error) {
	ds = ds.DeepCopy()
	workloads.Default(ds)
	for range 10 {
		cur, err := cl.Store.Get(ctx, "DaemonSet", ds.Namespace, ds.Name)
		if errors.Is(err, store.ErrNotFound) {
			obj, err := cl.Store.Create(ctx, ds)
			if err != nil {
				return nil, err
			}
			return obj.(*appsv1.DaemonSet), nil
		}
		if err != nil {
			return nil, err
		}
		next := cur.(*appsv1.DaemonSet).DeepCopy()
		next.Spec = ds.Spec
		for k, v := range ds.Annotations {
			if next.Annotations == nil {
				next.Annotations = map[string]string{}
			}
			next.Annotations[k] = v
		}
		obj, err := cl.Store.Update(ctx, next)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return obj.(*appsv1.DaemonSet), nil
	}
	return nil, errors.New("applyDS: too many conflicts")
}

// updateDS applies mutate to the stored DaemonSet, retrying conflicts.
func updateDS(t *testing.T, cl *Cluster, mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	t.Helper()
	cur := getDS(t, cl)
	next := cur.DeepCopy()
	mutate(next)
	return applyDS(t, cl, next)
}

func getDS(t *testing.T, cl *Cluster) *appsv1.DaemonSet {
	t.Helper()
	obj, err := cl.Store.Get(context.Background(), "DaemonSet", scNS, dsName)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*appsv1.DaemonSet)
}

// updateNode applies mutate to the stored Node, retrying conflicts with
// its agent.
func updateNode(t *testing.T, cl *Cluster, name string, mutate func(*corev1.Node)) {
	t.Helper()
	ctx := context.Background()
	for range 10 {
		obj, err := cl.Store.Get(ctx, "Node", "", name)
		if err != nil {
			t.Fatal(err)
		}
		n := obj.(*corev1.Node).DeepCopy()
		mutate(n)
		_, err = cl.Store.Update(ctx, n)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("node %s: too many conflicts", name)
}

func labelNode(t *testing.T, cl *Cluster, name, key, value string) {
	t.Helper()
	updateNode(t, cl, name, func(n *corev1.Node) {
		if value == "" {
			delete(n.Labels, key)
			return
		}
		n.Labels[key] = value
	})
}

// addNode starts fake node i (a machine joining) on the running cluster.
func addNode(t *testing.T, cl *Cluster, i int) {
	t.Helper()
	a, rt, err := fake.NewNode(i, cl.Store, fake.NodeOptions{Clock: cl.Clock, HeartbeatPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	a.Register(cl.Manager)
	cl.Manager.AddTimerSource(rt.Next)
}

// removeNode deletes node name (a machine leaving for good; its agent,
// without heartbeats, does not register it again).
func removeNode(t *testing.T, cl *Cluster, name string) {
	t.Helper()
	if err := cl.Store.Delete(context.Background(), "Node", "", name, store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// dsPods returns the DaemonSet's pods that are not terminating, by node
// (the node they are bound to, "" when unbound).
func dsPods(t *testing.T, cl *Cluster) map[string][]*corev1.Pod {
	t.Helper()
	ds := getDS(t, cl)
	pods, err := cl.PodsOf(context.Background(), scNS, ds.UID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out
}

// runningOn returns the nodes with exactly one Running, Ready pod of the
// DaemonSet, and fails on a node with more than one or any unbound pod.
func runningOn(t *testing.T, cl *Cluster) []string {
	t.Helper()
	var out []string
	for node, pods := range dsPods(t, cl) {
		if node == "" {
			t.Fatalf("%d pods not bound to a node", len(pods))
		}
		if len(pods) > 1 {
			t.Fatalf("node %s runs %d daemon pods", node, len(pods))
		}
		if pods[0].Status.Phase == corev1.PodRunning && rollouts.IsPodReady(pods[0]) {
			out = append(out, node)
		}
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func nodeNames(idx ...int) []string {
	out := make([]string, len(idx))
	for i, n := range idx {
		out[i] = fake.NodeName(n)
	}
	return out
}

// runDS runs the cluster until idle (a DaemonSet rollout of healthy pods
// idles), failing past scMaxSim.
func runDS(t *testing.T, cl *Cluster, checks ...func()) {
	t.Helper()
	err := cl.RunChecked(context.Background(), scMaxSim, func() {
		for _, c := range checks {
			c()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// statusString is the status counts in one line for messages.
func statusString(st appsv1.DaemonSetStatus) string {
	return fmt.Sprintf("desired=%d current=%d ready=%d updated=%d available=%d unavailable=%d misscheduled=%d observed=%d",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.UpdatedNumberScheduled,
		st.NumberAvailable, st.NumberUnavailable, st.NumberMisscheduled, st.ObservedGeneration)
}

// wantStatus checks the status counts: desired, current, ready, updated,
// available, misscheduled; and that the generation was observed.
func wantStatus(t *testing.T, cl *Cluster, desired, current, ready, updated, available, misscheduled int32) {
	t.Helper()
	ds := getDS(t, cl)
	st := ds.Status
	want := appsv1.DaemonSetStatus{DesiredNumberScheduled: desired, CurrentNumberScheduled: current, NumberReady: ready,
		UpdatedNumberScheduled: updated, NumberAvailable: available, NumberUnavailable: desired - available,
		NumberMisscheduled: misscheduled, ObservedGeneration: ds.Generation}
	if got, w := statusString(st), statusString(want); got != w {
		t.Errorf("status %s\nwant   %s", got, w)
	}
}

var _ = time.Second

// storeDeleteNow deletes without a grace period.
func storeDeleteNow() store.DeleteOptions {
	zero := int64(0)
	return store.DeleteOptions{GracePeriodSeconds: &zero}
}

func storeListAll() store.ListOptions { return store.ListOptions{} }

func itoa(n int64) string { return fmt.Sprint(n) }

// podAvailable: not terminating, Ready for minReady seconds at now.
func podAvailable(p *corev1.Pod, minReady int32, now time.Time) bool {
	return p.DeletionTimestamp == nil && rollouts.IsPodAvailable(p, minReady, now)
}

// dsWatch follows every change of the store (a Recording) and keeps the
// worst values seen, after any single write, of the DaemonSet's update
// invariants over nodes: how many nodes had no available pod, how many had
// two pods, and whether a node ever ran two pods of one image.
type dsWatch struct {
	rec       *Recording
	nodes     []string
	minReady  int32
	worstDown int
	worstTwo  int
	dupImage  string
}

func watchDS(t *testing.T, cl *Cluster, nodes []string, minReady int32) *dsWatch {
	t.Helper()
	rec, err := cl.Record(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := &dsWatch{rec: rec, nodes: nodes, minReady: minReady}
	rec.OnChange = func(ch Change, st *State) { w.observe(ch.At, st) }
	return w
}

func (w *dsWatch) observe(now time.Time, st *State) {
	byNode := map[string][]*corev1.Pod{}
	for _, p := range st.Pods {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "DaemonSet" || p.DeletionTimestamp != nil {
			continue
		}
		byNode[targetOf(p)] = append(byNode[targetOf(p)], p)
	}
	down, two := 0, 0
	for _, n := range w.nodes {
		ok := false
		images := map[string]int{}
		for _, p := range byNode[n] {
			if podAvailable(p, w.minReady, now) {
				ok = true
			}
			images[p.Spec.Containers[0].Image]++
			if images[p.Spec.Containers[0].Image] > 1 && w.dupImage == "" {
				w.dupImage = n + " runs two pods of " + p.Spec.Containers[0].Image
			}
		}
		if !ok {
			down++
		}
		if len(byNode[n]) > 1 {
			two++
		}
	}
	w.worstDown = max(w.worstDown, down)
	w.worstTwo = max(w.worstTwo, two)
}

// check takes in the changes since the last call (pass it to runDS).
func (w *dsWatch) check() { w.rec.Check() }

// reset forgets the worst values (after the initial rollout).
func (w *dsWatch) reset() { w.worstDown, w.worstTwo, w.dupImage = 0, 0, "" }

// targetOf is the node a daemon pod is bound to or meant for.
func targetOf(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, f := range term.MatchFields {
				return f.Values[0]
			}
		}
	}
	return ""
}

func allNodes(n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fake.NodeName(i)
	}
	return out
}
