package controller_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/gc"
	"github.com/berth-io/berth/reconciler/store"
)

// steadyState builds a store of 10,000 objects (500 ReplicaSets of 19
// Pods each), runs a ReplicaSet-like controller and the garbage collector
// on them with worker goroutines, and returns once they have synced
// everything and gone quiet.
func steadyState(tb testing.TB) (stop func(), syncs func() int64) {
	tb.Helper()
	clk := clock.RealClock{}
	st := store.NewMemory(testingclock.NewFakePassiveClock(t0))
	ctx := context.Background()
	err := st.Txn(ctx, func(tx store.Txn) error {
		for i := range 500 {
			rs, err := tx.Create(newRS("ns", fmt.Sprintf("rs-%03d", i)))
			if err != nil {
				return err
			}
			for j := range 19 {
				if _, err := tx.Create(newPod("ns", fmt.Sprintf("rs-%03d-%02d", i, j), nil, ownedBy("ReplicaSet", rs))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	must(tb, err)

	cache := controller.NewCache(st, "ReplicaSet", "Pod")
	m := controller.NewManager(cache, clk)
	pods := cache.Lister("Pod")
	sets := cache.Lister("ReplicaSet")
	var synced atomic.Int64
	m.Register(&toy{name: "replicaset", clock: clk, sync: func(_ context.Context, key string) error {
		synced.Add(1)
		ns, name, _ := cutKey(key)
		if rs, ok := sets.Get(ns, name); ok {
			_ = len(pods.ByOwner(mustMeta(rs).GetUID()))
		}
		return nil
	}}, controller.EnqueueSelf("ReplicaSet"), controller.EnqueueOwner("Pod", "ReplicaSet"))
	gc.Register(m, st)

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- m.Run(ctx, 4) }()
	must(tb, cache.WaitForSync(ctx))
	for !m.Idle() {
		time.Sleep(10 * time.Millisecond)
	}
	if len(pods.List("", nil)) != 9500 {
		tb.Fatalf("%d pods cached", len(pods.List("", nil)))
	}
	return func() {
		cancel()
		must(tb, <-done)
		must(tb, st.Close())
	}, synced.Load
}

// cpuPerSecond measures the process's CPU time (user + system) per second
// of wall time over d.
func cpuPerSecond(tb testing.TB, d time.Duration) time.Duration {
	runtime.GC()
	before := cpuTime(tb)
	start := time.Now()
	time.Sleep(d)
	wall := time.Since(start)
	used := cpuTime(tb) - before
	return time.Duration(float64(used) / wall.Seconds())
}

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	must(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSteadyState: 10,000 cached objects, controllers running with
// workers, nothing changing. The metric cpu-ms/s is the CPU the process
// spends per second of wall time; it should be ~0.
func BenchmarkSteadyState(b *testing.B) {
	stop, _ := steadyState(b)
	defer stop()
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		total += cpuPerSecond(b, 2*time.Second)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "cpu-ms/s")
}

// TestSteadyStateIsIdle guards against polling sneaking in: once a control
// plane over 10,000 objects has synced everything, nothing wakes it again
// while nothing changes (the CPU this costs is BenchmarkSteadyState's).
func TestSteadyStateIsIdle(t *testing.T) {
	stop, syncs := steadyState(t)
	defer stop()
	before := syncs()
	time.Sleep(500 * time.Millisecond)
	if after := syncs(); after != before {
		t.Fatalf("%d syncs while nothing changed", after-before)
	}
}
