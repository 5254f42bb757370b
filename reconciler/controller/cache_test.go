package controller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

func TestCacheListThenWatch(t *testing.T) {
	ctx := t.Context()
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	p1 := create(t, st, newPod("a", "p1", map[string]string{"app": "web"}))
	create(t, st, newPod("a-b", "p2", nil))
	create(t, st, newPod("a", "p0", map[string]string{"app": "db"}))
	create(t, st, newRS("a", "r1"))

	c := controller.NewCache(st, "Pod", "ReplicaSet")
	var log handlerLog
	c.AddHandler("Pod", log.handler("Pod"))
	c.AddHandler("ReplicaSet", log.handler("ReplicaSet"))

	n, err := c.Drain(ctx)
	must(t, err)
	wantList := []string{"Pod add a/p0", "Pod add a/p1", "Pod add a-b/p2", "ReplicaSet add a/r1"}
	if got := log.take(); !slices.Equal(got, wantList) || n != 4 {
		t.Fatalf("first drain: %d changes %q, want %q", n, got, wantList)
	}
	if got, want := c.ResourceVersion(), storeRV(t, st); got != want {
		t.Fatalf("ResourceVersion after list = %d, store at %d", got, want)
	}

	// Writes of every kind, cached or not, come through in store order.
	create(t, st, newRS("a", "r2"))
	p1.Labels = map[string]string{"app": "web", "tier": "front"}
	update(t, st, p1)
	del(t, st, "Pod", "a-b", "p2")
	create(t, st, newConfigMap("a", "cm", nil))
	del(t, st, "ReplicaSet", "a", "r1")
	if n, err = c.Drain(ctx); err != nil || n != 4 {
		t.Fatalf("second drain: %d changes, %v", n, err)
	}
	want := []string{"ReplicaSet add a/r2", "Pod update a/p1", "Pod delete a-b/p2", "ReplicaSet delete a/r1"}
	if got := log.take(); !slices.Equal(got, want) {
		t.Fatalf("handler calls %q, want %q", got, want)
	}
	if got, want := c.ResourceVersion(), storeRV(t, st); got != want {
		t.Fatalf("ResourceVersion = %d, store at %d", got, want)
	}
	if n, _ := c.Drain(ctx); n != 0 {
		t.Fatalf("idle drain applied %d", n)
	}

	pods := c.Lister("Pod")
	tests := []struct {
		ns   string
		sel  string
		want []string
	}{
		{"", "", []string{"a/p0", "a/p1"}},
		{"a", "app=web", []string{"a/p1"}},
		{"a", "tier", []string{"a/p1"}},
		{"a", "app in (web,db)", []string{"a/p0", "a/p1"}},
		{"a-b", "", nil},
		{"zzz", "", nil},
	}
	for _, tt := range tests {
		sel, err := labels.Parse(tt.sel)
		must(t, err)
		if got := names(pods.List(tt.ns, sel)); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q, %q) = %q, want %q", tt.ns, tt.sel, got, tt.want)
		}
	}
	if _, ok := pods.Get("a-b", "p2"); ok {
		t.Error("deleted pod still cached")
	}
	if obj, ok := pods.Get("a", "p1"); !ok || mustMeta(obj).GetLabels()["tier"] != "front" {
		t.Errorf("Get(a/p1) = %v, %v", obj, ok)
	}
}

// TestCacheKeyOrder: listings are in (namespace, name) order, the store's,
// not in the order of the "namespace/name" strings.
func TestCacheKeyOrder(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	c := controller.NewCache(st, "Pod")
	_, err := c.Drain(t.Context())
	must(t, err)
	for _, k := range [][2]string{{"a-b", "x"}, {"a", "z"}, {"b", "a"}, {"a", "y"}, {"a.b", "m"}} {
		create(t, st, newPod(k[0], k[1], nil))
	}
	_, err = c.Drain(t.Context())
	must(t, err)
	want := []string{"a/y", "a/z", "a-b/x", "a.b/m", "b/a"}
	if got := names(c.Lister("Pod").List("", nil)); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	objs, _, err := st.List(t.Context(), "Pod", store.ListOptions{})
	must(t, err)
	if got := names(objs); !slices.Equal(got, want) {
		t.Fatalf("the store lists %q", got)
	}
}

func TestCacheByOwner(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	r1 := create(t, st, newRS("ns", "r1"))
	r2 := create(t, st, newRS("ns", "r2"))
	c := controller.NewCache(st, "Pod", "ReplicaSet")
	_, err := c.Drain(t.Context())
	must(t, err)

	pa := create(t, st, newPod("ns", "a", nil, ownedBy("ReplicaSet", r1)))
	create(t, st, newPod("ns", "c", nil, ownedBy("ReplicaSet", r1), ownedBy("ReplicaSet", r2)))
	create(t, st, newPod("ns", "b", nil, ownedBy("ReplicaSet", r1), ownedBy("ReplicaSet", r1)))
	create(t, st, newPod("ns", "orphan", nil))

	r1uid, r2uid := r1.UID, r2.UID
	check := func(step string, want map[types.UID][]string) {
		t.Helper()
		_, err := c.Drain(t.Context())
		must(t, err)
		for u, w := range want {
			if got := names(c.Lister("Pod").ByOwner(u)); !slices.Equal(got, w) {
				t.Errorf("%s: ByOwner(%s) = %q, want %q", step, u, got, w)
			}
		}
	}
	check("created", map[types.UID][]string{
		r1uid: {"ns/a", "ns/b", "ns/c"},
		r2uid: {"ns/c"},
		"x":   {},
	})

	// a moves from r1 to r2 (orphaned and adopted).
	pa.OwnerReferences = []metav1.OwnerReference{ownedBy("ReplicaSet", r2)}
	update(t, st, pa)
	check("re-owned", map[types.UID][]string{
		r1uid: {"ns/b", "ns/c"},
		r2uid: {"ns/a", "ns/c"},
	})

	del(t, st, "Pod", "ns", "c")
	del(t, st, "Pod", "ns", "b")
	check("deleted", map[types.UID][]string{
		r1uid: {},
		r2uid: {"ns/a"},
	})
}

// flakyStore scripts the outcome of a real store's Watch calls: "ok",
// "closed" (a channel closed at once) or "expired" (ErrExpired); calls
// beyond the script are "ok".
type flakyStore struct {
	store.Store
	watches []string
	calls   atomic.Int32
}

func (f *flakyStore) Watch(ctx context.Context, kind string, from int64) (<-chan store.Event, error) {
	n := int(f.calls.Add(1)) - 1
	if n < len(f.watches) {
		switch f.watches[n] {
		case "closed":
			ch := make(chan store.Event)
			close(ch)
			return ch, nil
		case "expired":
			return nil, fmt.Errorf("watch from %d: %w", from, store.ErrExpired)
		}
	}
	return f.Store.Watch(ctx, kind, from)
}

// TestCacheRelist: a watch closed by the store (its buffer overflowed, or
// for any reason) or refused as expired makes the cache list again;
// handlers see exactly the differences.
func TestCacheRelist(t *testing.T) {
	tests := []struct {
		name    string
		buffer  int
		watches []string
		failing bool // the second Drain fails, the third lists
		want    []string
	}{
		{
			name:   "buffer overflow",
			buffer: 1, // the first event fits, the second closes the watch
			want:   []string{"Pod delete ns/gone", "Pod update ns/changed", "Pod add ns/new"},
		},
		{
			name:    "closed",
			watches: []string{"closed"},
			want:    []string{"Pod update ns/changed", "Pod add ns/new", "Pod delete ns/gone"},
		},
		{
			name:    "expired",
			watches: []string{"closed", "expired"},
			failing: true,
			want:    []string{"Pod update ns/changed", "Pod add ns/new", "Pod delete ns/gone"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			mem := store.NewMemoryWithOptions(testingclock.NewFakeClock(t0), store.Options{WatchBuffer: tt.buffer})
			st := &flakyStore{Store: mem, watches: tt.watches}
			create(t, st, newPod("ns", "keep", nil))
			create(t, st, newPod("ns", "gone", nil))
			changed := create(t, st, newPod("ns", "changed", nil))

			c := controller.NewCache(st, "Pod")
			var log handlerLog
			c.AddHandler("Pod", log.handler("Pod"))
			_, err := c.Drain(ctx)
			must(t, err)
			log.take()

			del(t, st, "Pod", "ns", "gone")
			changed.Labels = map[string]string{"x": "y"}
			update(t, st, changed)
			create(t, st, newPod("ns", "new", nil))
			create(t, st, newConfigMap("ns", "noise", nil))

			_, err = c.Drain(ctx)
			if tt.failing {
				if !errors.Is(err, store.ErrExpired) {
					t.Fatalf("drain with an expired watch: %v", err)
				}
				if got := log.take(); got != nil {
					t.Fatalf("handlers called by a failed list: %q", got)
				}
				_, err = c.Drain(ctx)
			}
			must(t, err)
			if got := log.take(); !slices.Equal(got, tt.want) {
				t.Fatalf("handler calls %q, want %q", got, tt.want)
			}
			if got, want := names(c.Lister("Pod").List("", nil)), []string{"ns/changed", "ns/keep", "ns/new"}; !slices.Equal(got, want) {
				t.Fatalf("cached %q, want %q", got, want)
			}
			if got, want := c.ResourceVersion(), storeRV(t, st); got != want {
				t.Fatalf("ResourceVersion %d, store at %d", got, want)
			}
			// And the new watch works.
			create(t, st, newPod("ns", "later", nil))
			_, err = c.Drain(ctx)
			must(t, err)
			if got := log.take(); !slices.Equal(got, []string{"Pod add ns/later"}) {
				t.Fatalf("after re-list, watch gave %q", got)
			}
		})
	}
}

func TestCacheAddHandlerAfterSync(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	create(t, st, newPod("ns", "b", nil))
	create(t, st, newPod("ns", "a", nil))
	c := controller.NewCache(st, "Pod")
	_, err := c.Drain(t.Context())
	must(t, err)
	var log handlerLog
	c.AddHandler("Pod", log.handler("Pod"))
	if got, want := log.take(), []string{"Pod add ns/a", "Pod add ns/b"}; !slices.Equal(got, want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
}

// TestCacheBackground: in background mode, events are applied by the
// cache's goroutine; WaitFor waits until a write is visible.
func TestCacheBackground(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	create(t, st, newPod("ns", "a", nil))
	c := controller.NewCache(st, "Pod")
	var log handlerLog
	c.AddHandler("Pod", log.handler("Pod"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c.Start(ctx)
	defer c.Stop()
	must(t, c.WaitForSync(ctx))
	if _, ok := c.Lister("Pod").Get("ns", "a"); !ok {
		t.Fatal("listed pod missing")
	}
	if n, _ := c.Drain(ctx); n != 0 {
		t.Fatal("Drain in background mode applied events")
	}
	for _, name := range []string{"b", "c", "d"} {
		create(t, st, newPod("ns", name, nil))
	}
	create(t, st, newConfigMap("ns", "cm", nil)) // an uncached kind still moves the version
	must(t, c.WaitFor(ctx, storeRV(t, st)))
	want := []string{"Pod add ns/a", "Pod add ns/b", "Pod add ns/c", "Pod add ns/d"}
	if got := log.take(); !slices.Equal(got, want) {
		t.Fatalf("handlers %q, want %q", got, want)
	}
}

// TestCacheWaitForStepMode: WaitFor in step mode applies events itself.
func TestCacheWaitForStepMode(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	c := controller.NewCache(st, "Pod")
	_, err := c.Drain(t.Context())
	must(t, err)
	must(t, c.WaitForSync(t.Context()))
	create(t, st, newPod("ns", "a", nil))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	must(t, c.WaitFor(ctx, storeRV(t, st)))
	if _, ok := c.Lister("Pod").Get("ns", "a"); !ok {
		t.Fatal("pod not applied")
	}
}

func TestCacheUnknownKindPanics(t *testing.T) {
	c := controller.NewCache(store.NewMemory(testingclock.NewFakeClock(t0)), "Pod")
	defer func() {
		if recover() == nil {
			t.Fatal("Lister of an uncached kind did not panic")
		}
	}()
	c.Lister("Deployment")
}

// TestCacheWaitForWrite: after WaitForWrite, a background cache holds the
// write.
func TestCacheWaitForWrite(t *testing.T) {
	st := store.NewMemory(testingclock.NewFakeClock(t0))
	c := controller.NewCache(st, "Pod")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c.Start(ctx)
	defer c.Stop()
	must(t, c.WaitForSync(ctx))
	for i := range 50 {
		p := create(t, st, newPod("ns", fmt.Sprintf("p%d", i), nil))
		must(t, c.WaitForWrite(ctx, p))
		if _, ok := c.Lister("Pod").Get("ns", p.Name); !ok {
			t.Fatalf("%s not cached after WaitForWrite", p.Name)
		}
	}
}
