package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

const (
	benchNodes = 1000
	benchPods  = 10000
)

// benchPlainPod is the i-th pod of the plain benchmark: requests vary so
// that scoring has something to choose.
func benchPlainPod(i int) *corev1.Pod {
	cpu := fmt.Sprintf("%dm", 100+100*(i%5))
	mem := fmt.Sprintf("%dMi", 128*(1+i%4))
	return testPod(fmt.Sprintf("pod-%05d", i), cpu, mem)
}

const benchApps = 100 // controllers of benchPods/benchApps replicas each

// benchNode is the i-th node: 10 zones; every 10th node tainted
// dedicated=infra:NoSchedule, every 7th spot=true:PreferNoSchedule.
func benchNode(i int, name string) *corev1.Node {
	n := testNode(name, "32", "128Gi", withLabel(corev1.LabelTopologyZone, fmt.Sprintf("zone-%d", i%10)))
	if i%10 == 3 {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule})
	}
	if i%7 == 0 {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "spot", Value: "true", Effect: corev1.TaintEffectPreferNoSchedule})
	}
	return n
}

// benchPod is the i-th pod of the benchmark, of app i%benchApps (a
// controller): every pod is spread by its controller; by app%4, one app
// in four has required anti-affinity to itself per node, one preferred
// anti-affinity to itself per node, one required affinity to another
// app's zone, one preferred node affinity, preferred pod affinity and a
// toleration for the dedicated nodes.
func benchPod(i int) *corev1.Pod {
	app := i % benchApps
	p := benchPlainPod(i)
	p.Labels = map[string]string{"app": fmt.Sprintf("app-%d", app)}
	p.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("app-%d", app),
		UID: types.UID(fmt.Sprintf("rs-%d", app)), Controller: ptr.To(true),
	}}
	sel := func(a int) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprintf("app-%d", a)}}
	}
	aff := &corev1.Affinity{}
	switch app % 4 {
	case 0:
		aff.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: sel(app), TopologyKey: corev1.LabelHostname}}}
	case 1:
		aff.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: sel(app), TopologyKey: corev1.LabelHostname}}}}
	case 2:
		aff.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: sel(app - 2), TopologyKey: corev1.LabelTopologyZone}}}
	case 3:
		aff.NodeAffinity = &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
			{Weight: 50, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"zone-1", "zone-2"}}}}}}}
		aff.PodAffinity = &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 10, PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: sel(app - 3), TopologyKey: corev1.LabelTopologyZone}}}}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule}}
	}
	p.Spec.Affinity = aff
	return p
}

func benchNodeList() []*corev1.Node {
	var nodes []*corev1.Node
	for i, name := range nodeNames(benchNodes, "node-") {
		nodes = append(nodes, benchNode(i, name))
	}
	return nodes
}

// BenchmarkSchedule is the whole scheduler on the memory store: 1,000
// Ready nodes (32 cpu, 128Gi, 110 pods; zones and taints: benchNode),
// 10,000 pending pods with requests, spreading, affinity, anti-affinity
// and tolerations (benchPod); the timed part is stepping the manager until every pod is
// bound (each binding is a store Update seen back through the cache).
func BenchmarkSchedule(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		clk := clocktesting.NewFakeClock(epoch)
		st := store.NewMemory(clk)
		for _, n := range benchNodeList() {
			if _, err := st.Create(ctx, n); err != nil {
				b.Fatal(err)
			}
		}
		for i := range benchPods {
			if _, err := st.Create(ctx, benchPod(i)); err != nil {
				b.Fatal(err)
			}
		}
		mgr := controller.NewManager(controller.NewCache(st, "Pod", "Node"), clk)
		mgr.SetLogger(slog.New(slog.DiscardHandler))
		New(st, Options{}).Register(mgr)
		start := time.Now()
		b.StartTimer()

		if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
			b.Fatal(err)
		}

		b.StopTimer()
		total += time.Since(start)
		pods, _, err := st.List(ctx, "Pod", store.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range pods {
			if p.(*corev1.Pod).Spec.NodeName == "" {
				b.Fatalf("%s not bound", p.(*corev1.Pod).Name)
			}
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(benchPods)*float64(b.N)/total.Seconds(), "pods/s")
}

// BenchmarkScheduleAlgorithm is the placement alone (filters, scores,
// snapshot updates), without the store: benchPod's 10,000 pods on
// benchNode's 1,000 nodes.
func BenchmarkScheduleAlgorithm(b *testing.B) { benchAlgorithm(b, benchNodeList(), benchPod) }

// BenchmarkScheduleAlgorithmPlain is the same with pods that have only
// requests, on plain nodes: the cost of the rules that apply to every pod.
func BenchmarkScheduleAlgorithmPlain(b *testing.B) {
	var nodes []*corev1.Node
	for _, name := range nodeNames(benchNodes, "node-") {
		nodes = append(nodes, testNode(name, "32", "128Gi"))
	}
	benchAlgorithm(b, nodes, benchPlainPod)
}

func benchAlgorithm(b *testing.B, nodes []*corev1.Node, mkPod func(int) *corev1.Pod) {
	pods := make([]*PodInfo, benchPods)
	for i := range pods {
		pods[i] = podInfo(mkPod(i))
	}
	var total time.Duration
	for b.Loop() {
		snap := snapshotOf(nodes)
		alg := NewAlgorithm(DefaultProfile())
		start := time.Now()
		for _, pi := range pods {
			node, err := alg.Schedule(pi, snap)
			if err != nil {
				b.Fatal(err)
			}
			snap.Assume(pi.Key, pi.Pod, node)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(benchPods)*float64(b.N)/total.Seconds(), "pods/s")
}
