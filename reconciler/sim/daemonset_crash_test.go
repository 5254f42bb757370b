package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// TestDaemonSetCrashRecovery kills the control plane at random writes of
// a series of DaemonSet rollouts (the machines keep running), reopening
// the bolt store and rebuilding every controller each time. It must
// converge with one pod per node on the last template, no duplicates,
// and one revision per template.
func TestDaemonSetCrashRecovery(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { dsCrashRecovery(t, seed) })
	}
}

func dsCrashRecovery(t *testing.T, seed uint64) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	clk := clocktesting.NewFakeClock(Epoch)
	r := rand.New(rand.NewPCG(seed, 11))
	behavior := func(pod *corev1.Pod) fake.Behavior {
		return fake.Behavior{ReadyAfter: time.Duration(len(pod.Name)%5) * time.Second}
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

	images := []string{"agent:v1", "agent:v2", "agent:v3"}
	applied := 0
	apply := func(cl *Cluster, image string) error {
		_, err := applyDSErr(ctx, cl, agentDaemonSet(image))
		return err
	}
	for crash := 0; crash < 20; crash++ {
		cl, runCtx, cancel := open(1 + r.IntN(40))
		if applied < len(images) && (crash == 0 || r.IntN(3) == 0) {
			if apply(cl, images[applied]) == nil {
				applied++
			}
		}
		err := cl.RunChecked(runCtx, time.Hour, func() {})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("crash %d: %v", crash, err)
		}
		cl.Store.(*dyingStore).Store.Close()
	}
	for ; applied < len(images); applied++ {
		cl, _, cancel := open(1 << 30)
		if err := apply(cl, images[applied]); err != nil {
			t.Fatal(err)
		}
		cl.Store.Close()
		cancel()
	}
	cl, runCtx, cancel := open(1 << 30)
	defer cancel()
	defer cl.Store.Close()
	if err := cl.RunChecked(runCtx, time.Hour, func() {}); err != nil {
		t.Fatal(err)
	}
	wantAllOn(t, cl, "agent:v3", 3)
	revs := dsRevisions(t, cl)
	seen := map[string]bool{}
	for _, rv := range revs {
		if seen[string(rv.Data.Raw)] {
			t.Fatalf("two revisions store one template: %s", revNumbers(revs))
		}
		seen[string(rv.Data.Raw)] = true
	}
	if len(revs) > len(images) {
		t.Fatalf("revisions %s for %d templates", revNumbers(revs), len(images))
	}
}
