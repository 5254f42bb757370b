package gc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/gc"
	"github.com/berth-io/berth/reconciler/store"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// world is a store with objects named by short handles, and helpers to
// write them.
type world struct {
	t   *testing.T
	st  store.Store
	obj map[string]store.Object // handle → object as created
}

func newWorld(t *testing.T, clk clock.PassiveClock) *world {
	return &world{t: t, st: store.NewMemory(clk), obj: map[string]store.Object{}}
}

// add creates an object of kind named name, owned by the handles owners
// (controller references), and remembers it as name.
func (w *world) add(kind, name string, owners ...string) {
	w.t.Helper()
	obj, err := store.New(kind)
	if err != nil {
		w.t.Fatal(err)
	}
	m, _ := meta.Accessor(obj)
	m.SetName(name)
	if store.Namespaced(kind) {
		m.SetNamespace("ns")
	}
	var refs []metav1.OwnerReference
	for _, o := range owners {
		om, _ := meta.Accessor(w.obj[o])
		yes := true
		refs = append(refs, metav1.OwnerReference{
			APIVersion: w.obj[o].GetObjectKind().GroupVersionKind().GroupVersion().String(),
			Kind:       w.obj[o].GetObjectKind().GroupVersionKind().Kind,
			Name:       om.GetName(), UID: om.GetUID(), Controller: &yes,
		})
	}
	m.SetOwnerReferences(refs)
	out, err := w.st.Create(context.Background(), obj)
	if err != nil {
		w.t.Fatalf("create %s %s: %v", kind, name, err)
	}
	w.obj[name] = out
}

func (w *world) delete(name string) {
	w.t.Helper()
	o := w.obj[name]
	m, _ := meta.Accessor(o)
	if err := w.st.Delete(context.Background(), o.GetObjectKind().GroupVersionKind().Kind, m.GetNamespace(), m.GetName(), store.DeleteOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

// names lists "Kind/name" of everything of kinds in the store.
func (w *world) names(kinds ...string) []string {
	w.t.Helper()
	var out []string
	for _, k := range kinds {
		objs, _, err := w.st.List(context.Background(), k, store.ListOptions{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, o := range objs {
			m, _ := meta.Accessor(o)
			out = append(out, k+"/"+m.GetName())
		}
	}
	return out
}

var workloadKinds = []string{"Deployment", "ReplicaSet", "Pod"}

func newManager(w *world, clk clock.WithTicker, kinds ...string) *controller.Manager {
	cache := controller.NewCache(w.st, kinds...)
	m := controller.NewManager(cache, clk)
	gc.Register(m, w.st)
	return m
}

// TestCascade: deleting a Deployment deletes its ReplicaSets, then their
// Pods, and nothing else.
func TestCascade(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	w := newWorld(t, clk)
	w.add("Deployment", "web")
	w.add("ReplicaSet", "web-1", "web")
	w.add("ReplicaSet", "web-2", "web")
	w.add("Pod", "web-1-a", "web-1")
	w.add("Pod", "web-1-b", "web-1")
	w.add("Pod", "web-2-a", "web-2")
	w.add("Deployment", "db")
	w.add("ReplicaSet", "db-1", "db")
	w.add("Pod", "db-1-a", "db-1")
	w.add("Pod", "bare")

	m := newManager(w, clk, workloadKinds...)
	ctx := t.Context()
	if err := m.RunUntilIdle(ctx, clk, time.Minute); err != nil {
		t.Fatal(err)
	}
	all := w.names(workloadKinds...)
	if len(all) != 10 {
		t.Fatalf("the collector deleted live objects: %q", all)
	}

	w.delete("web")
	if err := m.RunUntilIdle(ctx, clk, time.Minute); err != nil {
		t.Fatal(err)
	}
	want := []string{"Deployment/db", "ReplicaSet/db-1", "Pod/bare", "Pod/db-1-a"}
	if got := w.names(workloadKinds...); !slices.Equal(got, want) {
		t.Fatalf("after deleting web: %q, want %q", got, want)
	}
	if !clk.Now().Equal(t0) {
		t.Errorf("collection waited until %v", clk.Now().Sub(t0))
	}
}

// TestOwnerIdentity: an owner is its UID. A dependent of an owner that
// was deleted and created again under the same name is collected; the new
// owner is not touched.
func TestOwnerIdentity(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	w := newWorld(t, clk)
	w.add("Deployment", "web")
	w.add("ReplicaSet", "web-1", "web")
	m := newManager(w, clk, workloadKinds...)
	m.Step(t.Context())

	w.delete("web")
	w.add("Deployment", "web") // same name, new UID
	w.add("ReplicaSet", "web-2", "web")
	m.Step(t.Context())
	want := []string{"Deployment/web", "ReplicaSet/web-2"}
	if got := w.names(workloadKinds...); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestOwnersPartlyGone: an object keeps living while one owner exists;
// its references to the owners that are gone are removed.
func TestOwnersPartlyGone(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	w := newWorld(t, clk)
	w.add("ReplicaSet", "a")
	w.add("ReplicaSet", "b")
	w.add("Pod", "shared", "a", "b")
	m := newManager(w, clk, workloadKinds...)
	m.Step(t.Context())
	w.delete("a")
	m.Step(t.Context())

	obj, err := w.st.Get(context.Background(), "Pod", "ns", "shared")
	if err != nil {
		t.Fatalf("pod with a live owner deleted: %v", err)
	}
	refs := obj.(*corev1.Pod).OwnerReferences
	if len(refs) != 1 || refs[0].Name != "b" {
		t.Fatalf("ownerReferences %+v, want only b", refs)
	}
}

// TestCollectsAtStart: what lost its owner while no collector ran is
// collected when one starts.
func TestCollectsAtStart(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	w := newWorld(t, clk)
	w.add("Deployment", "web")
	w.add("ReplicaSet", "web-1", "web")
	w.add("Pod", "web-1-a", "web-1")
	w.delete("web")
	m := newManager(w, clk, workloadKinds...)
	if err := m.RunUntilIdle(t.Context(), clk, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := w.names(workloadKinds...); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
}

// TestOwnerNotInCache: the collector asks the store before deleting; an
// owner the cache does not hold (not yet, or not of a cached kind) keeps
// its dependents alive, unless the store says it is gone.
func TestOwnerNotInCache(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(w *world)
		wantAlive bool
	}{
		{"owner in the store", func(w *world) {
			w.add("ReplicaSet", "owner")
			w.add("Pod", "dep", "owner")
		}, true},
		{"owner of an uncached kind in the store", func(w *world) {
			w.add("ConfigMap", "owner")
			w.add("Pod", "dep", "owner")
		}, true},
		{"owner gone from the store", func(w *world) {
			w.add("ReplicaSet", "owner")
			w.add("Pod", "dep", "owner")
			w.delete("owner")
		}, false},
		{"owner replaced in the store", func(w *world) {
			w.add("ReplicaSet", "owner")
			w.add("Pod", "dep", "owner")
			w.delete("owner")
			w.add("ReplicaSet", "owner")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			w := newWorld(t, clk)
			tt.setup(w)
			// A cache of Pods only: the owner never reaches it.
			cache := controller.NewCache(w.st, "Pod")
			if _, err := cache.Drain(t.Context()); err != nil {
				t.Fatal(err)
			}
			c := gc.New(w.st, cache)
			if err := c.Sync(t.Context(), gc.Key("Pod", "ns", "dep")); err != nil {
				t.Fatal(err)
			}
			_, err := w.st.Get(context.Background(), "Pod", "ns", "dep")
			if alive := err == nil; alive != tt.wantAlive {
				t.Fatalf("alive = %v (%v), want %v", alive, err, tt.wantAlive)
			}
		})
	}
}

// TestCascadeRunMode: the same cascade with worker goroutines.
func TestCascadeRunMode(t *testing.T) {
	clk := clock.RealClock{}
	w := newWorld(t, clk)
	w.add("Deployment", "web")
	w.add("ReplicaSet", "web-1", "web")
	for _, p := range []string{"a", "b", "c", "d"} {
		w.add("Pod", "web-1-"+p, "web-1")
	}
	m := newManager(w, clk, workloadKinds...)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- m.Run(ctx, 2) }()
	if err := m.Cache().WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	w.delete("web")
	for len(w.names(workloadKinds...)) > 0 {
		if ctx.Err() != nil {
			t.Fatalf("left %q", w.names(workloadKinds...))
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestKeys(t *testing.T) {
	tests := []struct{ kind, ns, name, want string }{
		{"Pod", "ns", "p", "Pod/ns/p"},
		{"Node", "", "n1", "Node/n1"},
	}
	for _, tt := range tests {
		if got := gc.Key(tt.kind, tt.ns, tt.name); got != tt.want {
			t.Errorf("Key = %q, want %q", got, tt.want)
		}
	}
	c := gc.New(store.NewMemory(clock.RealClock{}), controller.NewCache(nil, "Pod"))
	for _, bad := range []string{"", "Pod", "Pod/p", "/x/y"} {
		if err := c.Sync(context.Background(), bad); err != nil {
			t.Errorf("Sync(%q) = %v, want nil (nothing to retry)", bad, err)
		}
	}
}
