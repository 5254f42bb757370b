package fake_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/fake"
)

// BenchmarkCluster is the scale simulator's path: the scheduler and
// 1,000 fake nodes (one agent Pool) on the memory store, stepped on a fake
// clock until 10,000 pods are bound, running and ready (readiness 5s after
// start). It reports pods/s of wall time.
func BenchmarkCluster(b *testing.B) {
	const nodes, npods = 1000, 10000
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		clk := clocktesting.NewFakeClock(epoch)
		st, mgr := cluster(b, clk, nodes, func(*corev1.Pod) fake.Behavior { return fake.Behavior{ReadyAfter: 5 * time.Second} })
		// Register the nodes first, as a simulator does.
		if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
			b.Fatal(err)
		}
		for i := range npods {
			p := pendingPod(i, "100m")
			p.Name = fmt.Sprintf("web-%05d", i)
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("128Mi")
			if _, err := st.Create(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		b.StartTimer()
		if err := mgr.RunUntilIdle(ctx, clk, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		total += time.Since(start)
		ready := 0
		for _, p := range pods(b, st) {
			if isReady(p) {
				ready++
			}
		}
		if ready != npods {
			b.Fatalf("%d of %d pods ready", ready, npods)
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(npods)*float64(b.N)/total.Seconds(), "pods/s")
}
