package sim

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// BenchmarkRollout1000 rolls a 1,000-replica Deployment (maxSurge 25%,
// maxUnavailable 25%) from v1 to v2 across 100 fake nodes on a fake clock,
// pods ready 5 s after start: the wall time and allocations of the whole
// control plane doing it. Run: go test -run '^$' -bench Rollout1000 -benchtime 3x ./reconciler/sim/
func BenchmarkRollout1000(b *testing.B) {
	ctx := context.Background()
	c := rolloutCase{replicas: 1000, maxSurge: intstr.FromString("25%"), maxUnavailable: intstr.FromString("25%"), maxReadyDelay: 5 * time.Second}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cl, err := New(Options{Nodes: 100, Behavior: c.behavior()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cl.ApplyDeployment(ctx, testDeployment(c, "app:v1")); err != nil {
			b.Fatal(err)
		}
		if err := cl.RunUntilIdle(ctx, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := cl.ApplyDeployment(ctx, testDeployment(c, "app:v2")); err != nil {
			b.Fatal(err)
		}
		if err := cl.RunUntilIdle(ctx, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
