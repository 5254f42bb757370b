package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

const (
	benchNodes = 1000
	benchPods  = 10000
)

// benchPod is the i-th pod of the benchmark: requests vary so that
// scoring has something to choose.
func benchPod(i int) *corev1.Pod {
	cpu := fmt.Sprintf("%dm", 100+100*(i%5))
	mem := fmt.Sprintf("%dMi", 128*(1+i%4))
	return testPod(fmt.Sprintf("pod-%05d", i), cpu, mem)
}

// BenchmarkSchedule is the whole scheduler on the memory store: 1,000
// Ready nodes (32 cpu, 128Gi, 110 pods), 10,000 pending pods with
// requests; the timed part is stepping the manager until every pod is
// bound (each binding is a store Update seen back through the cache).
func BenchmarkSchedule(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		clk := clocktesting.NewFakeClock(epoch)
		st := store.NewMemory(clk)
		for _, name := range nodeNames(benchNodes, "node-") {
			if _, err := st.Create(ctx, testNode(name, "32", "128Gi")); err != nil {
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
// snapshot updates), without the store: 10,000 pods on 1,000 nodes.
func BenchmarkScheduleAlgorithm(b *testing.B) {
	var nodes []*corev1.Node
	for _, name := range nodeNames(benchNodes, "node-") {
		nodes = append(nodes, testNode(name, "32", "128Gi"))
	}
	pods := make([]*PodInfo, benchPods)
	for i := range pods {
		pods[i] = podInfo(benchPod(i))
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
