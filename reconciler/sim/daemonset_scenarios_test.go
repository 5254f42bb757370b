package sim

// DaemonSet scenarios: the upstream e2e tests of test/e2e/apps/daemon_set.go
// that make sense on fake nodes, asserting what upstream asserts, plus
// nodes joining and leaving, taints and a DaemonSet that fits no node.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/daemonset"
)

func wantRunningOn(t *testing.T, cl *Cluster, want []string) {
	t.Helper()
	if got := runningOn(t, cl); !slices.Equal(got, want) {
		t.Fatalf("running on %v, want %v", got, want)
	}
}

// "should run and stop simple daemon": a pod on every node; a deleted pod
// comes back.
func TestDaemonSetRunsOnEveryNode(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2))
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)

	// Every pod tolerates what upstream adds and is pinned to its node.
	for node, pods := range dsPods(t, cl) {
		p := pods[0]
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Values[0] != node {
			t.Errorf("pod %s on %s: node affinity %+v", p.Name, node, terms)
		}
		if len(p.Spec.Tolerations) != 6 {
			t.Errorf("pod %s: %d tolerations, want the 6 automatic ones: %+v", p.Name, len(p.Spec.Tolerations), p.Spec.Tolerations)
		}
	}

	victim := dsPods(t, cl)[fake.NodeName(1)][0]
	if err := cl.Store.Delete(context.Background(), "Pod", scNS, victim.Name, storeDeleteNow()); err != nil {
		t.Fatal(err)
	}
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2))
	if p := dsPods(t, cl)[fake.NodeName(1)][0]; p.Name == victim.Name {
		t.Fatalf("pod %s was not replaced", p.Name)
	}
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)
}

// Nodes joining get a pod; nodes leaving lose theirs.
func TestDaemonSetFollowsNodesJoiningAndLeaving(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 2})
	applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1))

	addNode(t, cl, 2)
	addNode(t, cl, 3)
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2, 3))
	wantStatus(t, cl, 4, 4, 4, 4, 4, 0)

	removeNode(t, cl, fake.NodeName(0))
	runDS(t, cl)
	if pods := dsPods(t, cl); len(pods[fake.NodeName(0)]) != 0 {
		t.Fatalf("node that left still has %d pods", len(pods[fake.NodeName(0)]))
	}
	wantRunningOn(t, cl, nodeNames(1, 2, 3))
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)
}

// "should run and stop complex daemon": nodeSelector color=blue runs
// nowhere (and says why); labelling a node blue puts a pod there;
// relabelling it green removes it; a selector of green brings it back.
func TestDaemonSetFollowsNodeLabels(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	runIdle(t, cl) // the nodes register
	ds := applyDS(t, cl, agentDaemonSet("agent:v1", dsNodeSelector("color", "blue")))
	runDS(t, cl)
	wantRunningOn(t, cl, nil)
	wantStatus(t, cl, 0, 0, 0, 0, 0, 0)
	cond := nodesEligible(t, cl)
	wantMsg := "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
	if cond == nil || cond.Status != corev1.ConditionFalse || cond.Message != wantMsg {
		t.Fatalf("NodesEligible condition %+v, want False %q", cond, wantMsg)
	}
	evs, err := cl.EventMessages(context.Background(), scNS, ds.UID, daemonset.NoEligibleNodesReason)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Warning NoEligibleNodes " + wantMsg}; !slices.Equal(evs, want) {
		t.Fatalf("events %q, want %q", evs, want)
	}

	labelNode(t, cl, fake.NodeName(1), "color", "blue")
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(1))
	wantStatus(t, cl, 1, 1, 1, 1, 1, 0)
	if c := nodesEligible(t, cl); c != nil {
		t.Fatalf("NodesEligible still set once a node is: %+v", c)
	}

	labelNode(t, cl, fake.NodeName(1), "color", "green")
	runDS(t, cl)
	wantRunningOn(t, cl, nil)
	wantStatus(t, cl, 0, 0, 0, 0, 0, 0)

	updateDS(t, cl, func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"color": "green"} })
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(1))
	wantStatus(t, cl, 1, 1, 1, 1, 1, 0)
}

// "should run and stop complex daemon with node affinity": the same with a
// required node affinity In term; removing the label removes the pod.
func TestDaemonSetFollowsNodeAffinity(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	applyDS(t, cl, agentDaemonSet("agent:v1", func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "color", Operator: corev1.NodeSelectorOpIn, Values: []string{"blue"}}},
			}}},
		}}
	}))
	runDS(t, cl)
	wantRunningOn(t, cl, nil)

	labelNode(t, cl, fake.NodeName(2), "color", "blue")
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(2))

	labelNode(t, cl, fake.NodeName(2), "color", "")
	runDS(t, cl)
	wantRunningOn(t, cl, nil)
	wantStatus(t, cl, 0, 0, 0, 0, 0, 0)
}

// Taints: NoSchedule keeps new pods off but lets a running one stay;
// NoExecute removes it; a toleration lets it back; cordoning does not
// matter (automatic toleration).
func TestDaemonSetTaintsAndTolerations(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2))

	taint := func(node, key string, effect corev1.TaintEffect) {
		updateNode(t, cl, node, func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: "x", Effect: effect})
		})
	}
	taint(fake.NodeName(0), "dedicated", corev1.TaintEffectNoSchedule)
	updateNode(t, cl, fake.NodeName(1), func(n *corev1.Node) { n.Spec.Unschedulable = true })
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2))
	// Node 0 is no longer desired but its pod may stay: misscheduled.
	wantStatus(t, cl, 2, 2, 2, 2, 2, 1)

	taint(fake.NodeName(2), "evict", corev1.TaintEffectNoExecute)
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1))

	updateDS(t, cl, func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{
			{Key: "evict", Operator: corev1.TolerationOpExists},
			{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "x", Effect: corev1.TaintEffectNoSchedule},
		}
	})
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1, 2))
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)
}

// A DaemonSet whose pods fit no node: desired 0, a condition and one event
// saying why, and nothing else disturbed.
func TestDaemonSetFitsNoNode(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 2})
	applyDeployment(t, cl, webDeployment(2, "web:v1"))
	runIdle(t, cl)
	before, err := cl.Pods(context.Background(), scNS)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		updateNode(t, cl, fake.NodeName(i), func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule}}
		})
	}
	ds := applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	wantStatus(t, cl, 0, 0, 0, 0, 0, 0)
	want := "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: infra}."
	if c := nodesEligible(t, cl); c == nil || c.Message != want || c.Reason != daemonset.NoEligibleNodesReason {
		t.Fatalf("condition %+v, want message %q", c, want)
	}
	evs, _ := cl.EventMessages(context.Background(), scNS, ds.UID)
	if wantEv := []string{"Warning NoEligibleNodes " + want}; !slices.Equal(evs, wantEv) {
		t.Fatalf("events %q, want %q", evs, wantEv)
	}
	after, _ := cl.Pods(context.Background(), scNS)
	if len(after) != len(before) {
		t.Fatalf("pods %d, want the Deployment's %d untouched", len(after), len(before))
	}
}

// "should retry creating failed daemon pods": a pod set to Failed is
// replaced, with upstream's event; a node failing pods over and over is
// retried with backoff, never in a hot loop.
func TestDaemonSetReplacesFailedPods(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 2})
	ds := applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	victim := dsPods(t, cl)[fake.NodeName(0)][0]
	setFailed(t, cl, victim)
	runDS(t, cl)
	wantRunningOn(t, cl, nodeNames(0, 1))
	if p := dsPods(t, cl)[fake.NodeName(0)][0]; p.Name == victim.Name {
		t.Fatal("failed pod not replaced")
	}
	if _, err := cl.Store.Get(context.Background(), "Pod", scNS, victim.Name); err == nil {
		t.Fatal("failed pod still stored")
	}
	evs, _ := cl.EventMessages(context.Background(), scNS, ds.UID, daemonset.FailedDaemonPodReason)
	want := "Warning FailedDaemonPod Found failed daemon pod default/" + victim.Name + " on node " + fake.NodeName(0) + ", will try to kill it"
	if !slices.Equal(evs, []string{want}) {
		t.Fatalf("events %q, want %q", evs, want)
	}
}

// Backoff: a node whose daemon pods keep failing sees its replacements
// spaced 1s, 2s, 4s... apart.
func TestDaemonSetFailedPodBackoff(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 1})
	applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	var kills []time.Time
	for range 5 {
		// Fail the current pod as soon as it exists.
		if err := cl.RunUntil(context.Background(), time.Hour, nil, func() (bool, error) {
			pods := dsPods(t, cl)[fake.NodeName(0)]
			return len(pods) == 1 && pods[0].Status.Phase == corev1.PodRunning, nil
		}); err != nil {
			t.Fatal(err)
		}
		setFailed(t, cl, dsPods(t, cl)[fake.NodeName(0)][0])
		before := cl.Now()
		if err := cl.RunUntil(context.Background(), time.Hour, nil, func() (bool, error) {
			pods := dsPods(t, cl)[fake.NodeName(0)]
			return len(pods) == 1 && pods[0].Status.Phase != corev1.PodFailed, nil
		}); err != nil {
			t.Fatal(err)
		}
		_ = before
		kills = append(kills, cl.Now())
	}
	for i := 2; i < len(kills); i++ {
		gap := kills[i].Sub(kills[i-1])
		if min := time.Duration(1<<(i-1)) * time.Second; gap < min {
			t.Errorf("replacement %d came %s after the previous, want at least %s (backoff)", i, gap, min)
		}
	}
}

func setFailed(t *testing.T, cl *Cluster, pod *corev1.Pod) {
	t.Helper()
	for range 10 {
		obj, err := cl.Store.Get(context.Background(), "Pod", pod.Namespace, pod.Name)
		if err != nil {
			t.Fatal(err)
		}
		p := obj.(*corev1.Pod).DeepCopy()
		p.Status.Phase = corev1.PodFailed
		if _, err := cl.Store.Update(context.Background(), p); err == nil {
			return
		}
	}
	t.Fatal("could not fail pod")
}

func nodesEligible(t *testing.T, cl *Cluster) *appsv1.DaemonSetCondition {
	t.Helper()
	for _, c := range getDS(t, cl).Status.Conditions {
		if c.Type == daemonset.NodesEligibleCondition {
			return &c
		}
	}
	return nil
}

// "should not update pod when spec was updated and update strategy is
// OnDelete": a new revision with another hash, pods unchanged; a deleted
// pod comes back on the new template.
func TestDaemonSetOnDelete(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	applyDS(t, cl, agentDaemonSet("agent:v1", dsOnDelete))
	runDS(t, cl)
	revs := dsRevisions(t, cl)
	if len(revs) != 1 || revs[0].Revision != 1 {
		t.Fatalf("revisions %v, want [1]", revNumbers(revs))
	}
	hash1 := revs[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]

	setDSImage(t, cl, "agent:v2")
	runDS(t, cl)
	revs = dsRevisions(t, cl)
	if len(revs) != 2 || revs[1].Revision != 2 || revs[1].Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash1 {
		t.Fatalf("revisions %v, want 1 and 2 with another hash", revNumbers(revs))
	}
	for node, pods := range dsPods(t, cl) {
		if img, h := pods[0].Spec.Containers[0].Image, pods[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; img != "agent:v1" || h != hash1 {
			t.Fatalf("OnDelete updated the pod on %s: %s %s", node, img, h)
		}
	}
	wantStatus(t, cl, 3, 3, 3, 0, 3, 0)

	victim := dsPods(t, cl)[fake.NodeName(2)][0]
	if err := cl.Store.Delete(context.Background(), "Pod", scNS, victim.Name, storeDeleteNow()); err != nil {
		t.Fatal(err)
	}
	runDS(t, cl)
	if img := dsPods(t, cl)[fake.NodeName(2)][0].Spec.Containers[0].Image; img != "agent:v2" {
		t.Fatalf("recreated pod runs %s, want agent:v2", img)
	}
	wantStatus(t, cl, 3, 3, 3, 1, 3, 0)
}

// "should update pod when spec was updated and update strategy is
// RollingUpdate": every pod on the new template, never more than
// maxUnavailable nodes without an available pod, revision 2, the new hash.
func TestDaemonSetRollingUpdate(t *testing.T) {
	tests := []struct {
		name            string
		nodes           int
		maxUnavailable  intstr.IntOrString
		wantUnavailable int
	}{
		{"default 1", 4, intstr.FromInt32(1), 1},
		{"2 of 5", 5, intstr.FromInt32(2), 2},
		{"30% of 5 rounds up to 2", 5, intstr.FromString("30%"), 2},
		{"10% of 3 rounds up to 1", 3, intstr.FromString("10%"), 1},
		{"100%", 3, intstr.FromString("100%"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := newCluster(t, Options{Nodes: tt.nodes})
			applyDS(t, cl, agentDaemonSet("agent:v1", dsRolling(tt.maxUnavailable, intstr.FromInt32(0))))
			runDS(t, cl)
			w := watchDS(t, cl, allNodes(tt.nodes), 0)
			setDSImage(t, cl, "agent:v2")
			runDS(t, cl, w.check)
			worst := w.worstDown
			if worst > tt.wantUnavailable {
				t.Errorf("%d nodes without an available pod at once, maxUnavailable %d", worst, tt.wantUnavailable)
			}
			if worst < tt.wantUnavailable {
				t.Errorf("at most %d nodes down at once: the update did not use its budget of %d", worst, tt.wantUnavailable)
			}
			wantAllOn(t, cl, "agent:v2", tt.nodes)
			revs := dsRevisions(t, cl)
			if len(revs) != 2 || revs[1].Revision != 2 {
				t.Fatalf("revisions %v, want [1 2]", revNumbers(revs))
			}
		})
	}
}

// "should surge pods onto nodes when spec was updated": maxSurge,
// maxUnavailable 0, minReadySeconds: every node keeps an available pod
// throughout, never more than one pod of a version on a node, never more
// than maxSurge new pods unavailable.
func TestDaemonSetRollingUpdateWithSurge(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 5, Behavior: byImage(map[string]fake.Behavior{"agent:v2": {ReadyAfter: 3 * time.Second}})})
	applyDS(t, cl, agentDaemonSet("agent:v1", dsRolling(intstr.FromInt32(0), intstr.FromString("20%")), func(ds *appsv1.DaemonSet) {
		ds.Spec.MinReadySeconds = 10
	}))
	runDS(t, cl)
	start := cl.Now()
	w := watchDS(t, cl, allNodes(5), 10)
	setDSImage(t, cl, "agent:v2")
	runDS(t, cl, w.check)
	worstDown, worstSurge := w.worstDown, w.worstTwo
	if w.dupImage != "" {
		t.Error(w.dupImage)
	}
	if worstDown != 0 {
		t.Errorf("%d nodes without an available pod during a surge update", worstDown)
	}
	if worstSurge != 1 {
		t.Errorf("at most %d nodes with two pods, want exactly maxSurge 1", worstSurge)
	}
	wantAllOn(t, cl, "agent:v2", 5)
	// 5 nodes one at a time, each new pod ready after 3s and available 10s
	// later.
	if took := cl.Now().Sub(start); took < 5*13*time.Second {
		t.Errorf("surge update took %s: faster than one node at a time", took)
	}
}

// minReadySeconds: a rolling update waits for each new pod to be Ready
// that long before it takes down the next node.
func TestDaemonSetMinReadySeconds(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 3})
	applyDS(t, cl, agentDaemonSet("agent:v1", func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 30 }))
	runDS(t, cl)
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)
	start := cl.Now()
	w := watchDS(t, cl, allNodes(3), 30)
	setDSImage(t, cl, "agent:v2")
	runDS(t, cl, w.check)
	if w.worstDown != 1 {
		t.Errorf("%d nodes at most without an available pod, want 1", w.worstDown)
	}
	wantAllOn(t, cl, "agent:v2", 3)
	if took := cl.Now().Sub(start); took < 90*time.Second {
		t.Errorf("update took %s, want at least 3 x minReadySeconds", took)
	}
	wantStatus(t, cl, 3, 3, 3, 3, 3, 0)
}

// "should rollback without unnecessary restarts": a rollout to an image
// that never gets ready, reverted midway, leaves the pods that never got
// it untouched.
func TestDaemonSetRollbackWithoutUnnecessaryRestarts(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 4, Behavior: byImage(map[string]fake.Behavior{"agent:bad": neverReady})})
	applyDS(t, cl, agentDaemonSet("agent:v1"))
	runDS(t, cl)
	before := podNamesByNode(t, cl)
	setDSImage(t, cl, "agent:bad")
	if err := cl.RunFor(context.Background(), time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, pods := range dsPods(t, cl) {
		if pods[0].Spec.Containers[0].Image == "agent:bad" {
			bad++
		}
	}
	if bad != 1 {
		t.Fatalf("%d nodes on the bad image, want 1 (maxUnavailable 1)", bad)
	}
	setDSImage(t, cl, "agent:v1")
	runDS(t, cl)
	after := podNamesByNode(t, cl)
	kept := 0
	for node, name := range before {
		if after[node] == name {
			kept++
		}
	}
	if kept != 3 {
		t.Fatalf("%d pods kept, want the 3 that never ran the bad image: before %v after %v", kept, before, after)
	}
	wantAllOn(t, cl, "agent:v1", 4)
	if revs := dsRevisions(t, cl); revNumbers(revs) != "2,3" {
		t.Fatalf("revisions %s, want 2,3 (v1 renumbered 3)", revNumbers(revs))
	}
}

// The history keeps revisionHistoryLimit old revisions.
func TestDaemonSetHistoryLimit(t *testing.T) {
	cl := newCluster(t, Options{Nodes: 2})
	applyDS(t, cl, agentDaemonSet("agent:v1", func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = new(int32(2)) }))
	runDS(t, cl)
	for i := 2; i <= 6; i++ {
		setDSImage(t, cl, "agent:v"+string(rune('0'+i)))
		runDS(t, cl)
	}
	if got := revNumbers(dsRevisions(t, cl)); got != "4,5,6" {
		t.Fatalf("revisions %s, want 4,5,6", got)
	}
	wantAllOn(t, cl, "agent:v6", 2)
}

func setDSImage(t *testing.T, cl *Cluster, image string) {
	t.Helper()
	updateDS(t, cl, func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = image })
}

// wantAllOn checks that n nodes run exactly one pod each, of image, with
// the current revision's hash, and that the status says so.
func wantAllOn(t *testing.T, cl *Cluster, image string, n int) {
	t.Helper()
	revs := dsRevisions(t, cl)
	hash := revs[len(revs)-1].Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	pods := dsPods(t, cl)
	if len(pods) != n {
		t.Fatalf("pods on %d nodes, want %d", len(pods), n)
	}
	for node, ps := range pods {
		if len(ps) != 1 || ps[0].Spec.Containers[0].Image != image || ps[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash {
			t.Fatalf("node %s: %d pods, first %s %s; want one of %s %s", node, len(ps),
				ps[0].Spec.Containers[0].Image, ps[0].Labels[appsv1.DefaultDaemonSetUniqueLabelKey], image, hash)
		}
	}
	wantStatus(t, cl, int32(n), int32(n), int32(n), int32(n), int32(n), 0)
}

func podNamesByNode(t *testing.T, cl *Cluster) map[string]string {
	t.Helper()
	out := map[string]string{}
	for node, pods := range dsPods(t, cl) {
		out[node] = pods[0].Name
	}
	return out
}

// dsRevisions returns the DaemonSet's ControllerRevisions by revision.
func dsRevisions(t *testing.T, cl *Cluster) []*appsv1.ControllerRevision {
	t.Helper()
	ds := getDS(t, cl)
	objs, _, err := cl.Store.List(context.Background(), "ControllerRevision", storeListAll())
	if err != nil {
		t.Fatal(err)
	}
	var out []*appsv1.ControllerRevision
	for _, o := range objs {
		r := o.(*appsv1.ControllerRevision)
		for _, ref := range r.OwnerReferences {
			if ref.UID == ds.UID {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b *appsv1.ControllerRevision) int { return int(a.Revision - b.Revision) })
	return out
}

func revNumbers(revs []*appsv1.ControllerRevision) string {
	var s []string
	for _, r := range revs {
		s = append(s, itoa(r.Revision))
	}
	return strings.Join(s, ",")
}
