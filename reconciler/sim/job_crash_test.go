package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// TestJobCrashRecovery kills the whole control plane at random writes
// while an Indexed and a NonIndexed Job run (some pods fail), reopening
// the bolt store and rebuilding every controller each time, the machines
// running on. Whatever the crash points, the Jobs must complete with each
// finished pod counted exactly once: status.succeeded and status.failed
// equal the Succeeded and Failed pods, every index succeeded exactly once,
// and no more pods than the Job asked for ever started.
func TestJobCrashRecovery(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { jobCrashRecovery(t, seed) })
	}
}

func jobCrashRecovery(t *testing.T, seed uint64) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	clk := clocktesting.NewFakeClock(Epoch)
	r := rand.New(rand.NewPCG(seed, 11))
	// A pod fails when its name hashes so (about one in three), else it
	// succeeds after 1-3s.
	behavior := func(p *corev1.Pod) fake.Behavior {
		h := fnv.New32a()
		h.Write([]byte(p.Name))
		if h.Sum32()%3 == 0 {
			return fake.Behavior{Fail: true, FailAfter: time.Second}
		}
		return fake.Behavior{CompleteAfter: time.Duration(1+h.Sum32()%3) * time.Second}
	}
	jobs := []*batchv1.Job{
		newJob("indexed", 3, 6, func(j *batchv1.Job) {
			j.Spec.CompletionMode = new(batchv1.IndexedCompletion)
			j.Spec.BackoffLimit = new(int32(100))
		}),
		newJob("plain", 2, 5, func(j *batchv1.Job) { j.Spec.BackoffLimit = new(int32(100)) }),
	}

	var runtimes []*fake.Runtime
	open := func(limit int) (*Cluster, context.Context, context.CancelFunc) {
		st, err := store.OpenBolt(path, clk)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		dying := &dyingStore{Store: st, limit: limit, landLast: r.IntN(2) == 0, die: cancel}
		cl, err := New(Options{Nodes: 3, Store: dying, Clock: clk, Behavior: behavior, Runtimes: runtimes})
		if err != nil {
			t.Fatal(err)
		}
		runtimes = cl.Runtimes
		return cl, runCtx, cancel
	}

	cl, _, stop := open(1 << 30)
	for _, j := range jobs {
		createJob(t, cl, j)
	}
	stop()
	cl.Store.Close()
	// Crash until both Jobs have finished, so every crash hits them.
	crashes := 0
	for done := false; !done && crashes < 50; crashes++ {
		cl, runCtx, cancel := open(1 + r.IntN(30))
		err := cl.RunChecked(runCtx, time.Hour, func() {})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("crash %d: %v", crashes, err)
		}
		done = jobFinished("indexed")(cl) && jobFinished("plain")(cl)
		cl.Store.(*dyingStore).Store.Close()
	}
	t.Logf("%d crashes", crashes)
	cl, runCtx, cancel := open(1 << 30)
	defer cancel()
	defer cl.Store.Close()
	if err := cl.RunChecked(runCtx, 2*time.Hour, func() {}); err != nil {
		t.Fatal(err)
	}

	for _, want := range jobs {
		j := getJob(t, cl, want.Name)
		if !hasJobCondition(j, batchv1.JobComplete) {
			t.Errorf("%s not complete: %+v", j.Name, j.Status)
			continue
		}
		pods := podsOf(t, cl, j.UID)
		phases := podsByPhase(pods)
		if int(j.Status.Succeeded) != phases["Succeeded"] || int(j.Status.Failed) != phases["Failed"] || len(phases) > 2 {
			t.Errorf("%s: status succeeded/failed %d/%d, pods by phase %v", j.Name, j.Status.Succeeded, j.Status.Failed, phases)
		}
		if phases["Succeeded"] != int(*want.Spec.Completions) {
			t.Errorf("%s: %d pods succeeded, want %d", j.Name, phases["Succeeded"], *want.Spec.Completions)
		}
		if want.Spec.CompletionMode != nil {
			perIndex := map[string]int{}
			for _, p := range pods {
				if p.Status.Phase == corev1.PodSucceeded {
					perIndex[p.Annotations[batchv1.JobCompletionIndexAnnotation]]++
				}
			}
			if fmt.Sprint(perIndex) != "map[0:1 1:1 2:1 3:1 4:1 5:1]" || j.Status.CompletedIndexes != "0-5" {
				t.Errorf("%s: succeeded pods per index %v, completedIndexes %q", j.Name, perIndex, j.Status.CompletedIndexes)
			}
		}
		for _, p := range pods {
			if isTrackedPod(p) {
				t.Errorf("%s: pod %s never counted", j.Name, p.Name)
			}
		}
	}
}

func isTrackedPod(p *corev1.Pod) bool {
	for _, f := range p.Finalizers {
		if f == batchv1.JobTrackingFinalizer {
			return true
		}
	}
	return false
}
