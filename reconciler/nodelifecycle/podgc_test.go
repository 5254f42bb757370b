package nodelifecycle

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// gcHarness runs a podGC against a memory store, feeding it the keys its
// watches produce, as the manager's queue would.
type gcHarness struct {
	t     *testing.T
	ctx   context.Context
	clk   *clocktesting.FakeClock
	st    store.Store
	cache *controller.Cache
	gc    *podGC
	keys  []string
}

func newGCHarness(t *testing.T) *gcHarness {
	h := &gcHarness{t: t, ctx: context.Background(), clk: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	h.st = store.NewMemory(h.clk)
	h.cache = controller.NewCache(h.st, "Node", "Pod")
	h.gc = &podGC{st: h.st, cache: h.cache, clock: h.clk, missing: map[string]time.Time{}}
	for _, w := range h.gc.watches() {
		h.cache.AddHandler(w.Kind, func(old, new store.Object) {
			if w.Filter != nil && !w.Filter(old, new) {
				return
			}
			for _, o := range []store.Object{old, new} {
				if o != nil {
					h.keys = append(h.keys, w.Keys(o)...)
				}
			}
		})
	}
	h.drain()
	return h
}

func (h *gcHarness) drain() {
	h.t.Helper()
	if _, err := h.cache.Drain(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// run syncs the queued keys until none are left, the cache caught up
// after each round.
func (h *gcHarness) run() {
	h.t.Helper()
	for len(h.keys) > 0 {
		keys := h.keys
		h.keys = nil
		for _, k := range keys {
			var rq controller.Requeue
			if err := h.gc.Sync(h.ctx, k); err != nil && !errors.As(err, &rq) {
				h.t.Fatalf("Sync(%q): %v", k, err)
			}
		}
		h.drain()
	}
}

func (h *gcHarness) create(obj store.Object) {
	h.t.Helper()
	if _, err := h.st.Create(h.ctx, obj); err != nil {
		h.t.Fatal(err)
	}
	h.drain()
}

func (h *gcHarness) missing() int {
	h.gc.mu.Lock()
	defer h.gc.mu.Unlock()
	return len(h.gc.missing)
}

func gcPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "i"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// TestPodGCForgetsGoneNodeOncePodsDeleted: after the quarantine the pods
// of a node that is gone are deleted, and the node's entry goes with the
// last of them.
func TestPodGCForgetsGoneNodeOncePodsDeleted(t *testing.T) {
	h := newGCHarness(t)
	h.create(gcPod("a", "gone"))
	h.create(gcPod("b", "gone"))
	h.run()
	if h.missing() != 1 {
		t.Fatalf("missing has %d entries, want 1 during the quarantine", h.missing())
	}
	h.clk.Step(quarantine)
	h.keys = append(h.keys, "default/a", "default/b") // the requeues
	h.run()
	if pods := podsOn(h.cache, "gone"); len(pods) != 0 {
		t.Fatalf("pods left on the gone node: %v", pods)
	}
	if h.missing() != 0 {
		t.Fatalf("missing has %d entries after the node's pods went, want 0", h.missing())
	}
}

// TestPodGCForgetsNodeThatReturns: a node that comes back during the
// quarantine is forgotten even though no pod of it is synced again.
func TestPodGCForgetsNodeThatReturns(t *testing.T) {
	h := newGCHarness(t)
	h.create(gcPod("a", "late"))
	h.run()
	if h.missing() != 1 {
		t.Fatalf("missing has %d entries, want 1", h.missing())
	}
	h.create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "late"}})
	h.run()
	if h.missing() != 0 {
		t.Fatalf("missing has %d entries after the node came back, want 0", h.missing())
	}
	if _, ok := h.cache.Lister("Pod").Get("default", "a"); !ok {
		t.Fatal("the pod of the returned node was deleted")
	}
	// A later disappearance starts a new quarantine.
	if err := h.st.Delete(h.ctx, "Node", "", "late", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	h.run()
	h.gc.mu.Lock()
	since := h.gc.missing["late"]
	h.gc.mu.Unlock()
	if !since.Equal(h.clk.Now()) {
		t.Fatalf("quarantine started at %v, want now (%v)", since, h.clk.Now())
	}
}
