package controller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// toy is a controller whose Sync is a function; it traces each call as
// "<offset from t0> <name> <key>".
type toy struct {
	name  string
	clock clock.PassiveClock
	sync  func(ctx context.Context, key string) error

	mu    sync.Mutex
	trace *[]string
}

func (c *toy) Name() string { return c.name }

func (c *toy) Sync(ctx context.Context, key string) error {
	c.mu.Lock()
	if c.trace != nil {
		*c.trace = append(*c.trace, fmt.Sprintf("%v %s %s", c.clock.Now().Sub(t0), c.name, key))
	}
	c.mu.Unlock()
	if c.sync == nil {
		return nil
	}
	return c.sync(ctx, key)
}

// counter converges ConfigMaps holding data "target" by raising "count" by
// one at most once every every (noted in "notBefore"): a rollout in miniature,
// waiting with Requeue.
func counter(st store.Store, lister controller.Lister, clk clock.PassiveClock, every time.Duration) func(context.Context, string) error {
	return func(ctx context.Context, key string) error {
		ns, name, _ := cutKey(key)
		obj, ok := lister.Get(ns, name)
		if !ok {
			return nil
		}
		cm := obj.(*corev1.ConfigMap)
		target, _ := strconv.Atoi(cm.Data["target"])
		count, _ := strconv.Atoi(cm.Data["count"])
		if count >= target {
			return nil
		}
		if nb, err := time.Parse(time.RFC3339Nano, cm.Data["notBefore"]); err == nil && clk.Now().Before(nb) {
			return controller.Requeue{After: nb.Sub(clk.Now())}
		}
		cm = cm.DeepCopy()
		cm.Data["count"] = strconv.Itoa(count + 1)
		cm.Data["notBefore"] = clk.Now().Add(every).Format(time.RFC3339Nano)
		_, err := st.Update(ctx, cm)
		return err
	}
}

func cutKey(key string) (ns, name string, ok bool) {
	for i := range len(key) {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

func counts(t testing.TB, st store.Store) map[string]string {
	t.Helper()
	objs, _, err := st.List(context.Background(), "ConfigMap", store.ListOptions{})
	must(t, err)
	out := map[string]string{}
	for _, o := range objs {
		cm := o.(*corev1.ConfigMap)
		out[cm.Name] = cm.Data["count"]
	}
	return out
}

// TestStepConvergesCounter: RunUntilIdle moves the fake clock to each due
// time until every counter reached its target, and a run is reproducible.
func TestStepConvergesCounter(t *testing.T) {
	run := func() ([]string, time.Duration, map[string]string) {
		clk := testingclock.NewFakeClock(t0)
		st := store.NewMemory(clk)
		create(t, st, newConfigMap("ns", "three", map[string]string{"target": "3"}))
		create(t, st, newConfigMap("ns", "one", map[string]string{"target": "1"}))
		cache := controller.NewCache(st, "ConfigMap")
		m := controller.NewManager(cache, clk)
		var trace []string
		m.Register(&toy{name: "counter", clock: clk, trace: &trace, sync: counter(st, cache.Lister("ConfigMap"), clk, time.Second)},
			controller.EnqueueSelf("ConfigMap"))
		must(t, m.RunUntilIdle(t.Context(), clk, time.Hour))
		return trace, clk.Now().Sub(t0), counts(t, st)
	}
	trace, took, got := run()
	if want := map[string]string{"one": "1", "three": "3"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	if took != 2*time.Second {
		t.Errorf("simulated time %v, want 2s (three steps a second apart)", took)
	}
	want := []string{
		"0s counter ns/one", "0s counter ns/three", // listed: count 0→1 each
		"0s counter ns/one", "0s counter ns/three", // their updates: one is done, three waits
		"1s counter ns/three", "1s counter ns/three", // 1→2, then waits
		"2s counter ns/three", "2s counter ns/three", // 2→3, done
	}
	if !slices.Equal(trace, want) {
		t.Errorf("trace\n%q\nwant\n%q", trace, want)
	}
	again, _, _ := run()
	if !slices.Equal(trace, again) {
		t.Errorf("second run differs:\n%q\n%q", trace, again)
	}
}

// TestStepErrorsBackOff: a failing sync is retried after 5, 10, 20ms;
// success forgets the backoff.
func TestStepErrorsBackOff(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	create(t, st, newConfigMap("ns", "a", nil))
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	var trace []string
	fails := 3
	q := m.Register(&toy{name: "flaky", clock: clk, trace: &trace, sync: func(context.Context, string) error {
		if fails > 0 {
			fails--
			return errors.New("boom")
		}
		return nil
	}}, controller.EnqueueSelf("ConfigMap"))
	must(t, m.RunUntilIdle(t.Context(), clk, time.Minute))
	want := []string{"0s flaky ns/a", "5ms flaky ns/a", "15ms flaky ns/a", "35ms flaky ns/a"}
	if !slices.Equal(trace, want) {
		t.Errorf("trace %q, want %q", trace, want)
	}
	if n := q.NumRequeues("ns/a"); n != 0 {
		t.Errorf("requeues after success = %d", n)
	}
}

// TestStepRoundRobin: controllers take turns.
func TestStepRoundRobin(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	for _, n := range []string{"x", "y"} {
		create(t, st, newConfigMap("ns", n, nil))
		create(t, st, newPod("ns", n, nil))
	}
	cache := controller.NewCache(st, "ConfigMap", "Pod")
	m := controller.NewManager(cache, clk)
	var trace []string
	m.Register(&toy{name: "cms", clock: clk, trace: &trace}, controller.EnqueueSelf("ConfigMap"))
	m.Register(&toy{name: "pods", clock: clk, trace: &trace}, controller.EnqueueSelf("Pod"))
	if !m.Step(t.Context()) {
		t.Fatal("Step did nothing")
	}
	want := []string{"0s cms ns/x", "0s pods ns/x", "0s cms ns/y", "0s pods ns/y"}
	if !slices.Equal(trace, want) {
		t.Errorf("trace %q, want %q", trace, want)
	}
	if m.Step(t.Context()) {
		t.Error("second Step found work")
	}
	if at, ok := m.NextDue(); ok {
		t.Errorf("NextDue = %v", at)
	}
}

// TestEnqueueOwner: a change to a ReplicaSet wakes its Deployment's key,
// and a change of owner wakes both owners.
func TestEnqueueOwner(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	d1 := create(t, st, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d1"}})
	d2 := create(t, st, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d2"}})
	cache := controller.NewCache(st, "Deployment", "ReplicaSet")
	m := controller.NewManager(cache, clk)
	var trace []string
	m.Register(&toy{name: "deployment", clock: clk, trace: &trace},
		controller.EnqueueSelf("Deployment"), controller.EnqueueOwner("ReplicaSet", "Deployment"))
	m.Step(t.Context())
	trace = nil

	rs := create(t, st, newRS("ns", "rs", ownedBy("Deployment", d1)))
	create(t, st, newRS("ns", "orphan"))
	m.Step(t.Context())
	if want := []string{"0s deployment ns/d1"}; !slices.Equal(trace, want) {
		t.Errorf("after RS create: %q, want %q", trace, want)
	}
	trace = nil
	rs.OwnerReferences = []metav1.OwnerReference{ownedBy("Deployment", d2)}
	update(t, st, rs)
	m.Step(t.Context())
	if want := []string{"0s deployment ns/d1", "0s deployment ns/d2"}; !slices.Equal(trace, want) {
		t.Errorf("after adoption: %q, want %q", trace, want)
	}
}

// TestTimers: RunUntilIdle moves the clock to a timer's due time; Step
// fires AddTimer's action; a source without action only moves time.
func TestTimers(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	var trace []string
	m.Register(&toy{name: "cms", clock: clk, trace: &trace}, controller.EnqueueSelf("ConfigMap"))
	fired := false
	m.AddTimer(func() (time.Time, bool) { return t0.Add(10 * time.Second), !fired }, func(ctx context.Context) {
		fired = true
		create(t, st, newConfigMap("ns", "ready", nil))
	})
	m.AddTimerSource(func() (time.Time, bool) { return t0.Add(3 * time.Second), true })
	must(t, m.RunUntilIdle(t.Context(), clk, time.Minute))
	if want := []string{"10s cms ns/ready"}; !slices.Equal(trace, want) {
		t.Errorf("trace %q, want %q", trace, want)
	}
	if got := clk.Now().Sub(t0); got != 10*time.Second {
		t.Errorf("clock at %v", got)
	}
}

// TestRunUntilIdleLimit: work due beyond the limit is reported, and the
// clock is not moved past the last due time reached.
func TestRunUntilIdleLimit(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	create(t, st, newConfigMap("ns", "a", nil))
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	m.Register(&toy{name: "slow", clock: clk, sync: func(context.Context, string) error {
		return controller.Requeue{After: time.Hour}
	}}, controller.EnqueueSelf("ConfigMap"))
	err := m.RunUntilIdle(t.Context(), clk, 10*time.Minute)
	if !errors.Is(err, controller.ErrNotIdle) {
		t.Fatalf("RunUntilIdle = %v, want ErrNotIdle", err)
	}
	if !clk.Now().Equal(t0) {
		t.Errorf("clock moved to %v", clk.Now().Sub(t0))
	}
	if at, ok := m.NextDue(); !ok || at.Sub(t0) != time.Hour {
		t.Errorf("NextDue = %v %v", at.Sub(t0), ok)
	}
}

// TestRunWorkers: Run mode converges the counters with worker goroutines
// on the real clock, never syncing one key twice at once.
func TestRunWorkers(t *testing.T) {
	clk := clock.RealClock{}
	st := store.NewMemory(clk)
	const n = 20
	for i := range n {
		create(t, st, newConfigMap("ns", fmt.Sprintf("c%02d", i), map[string]string{"target": "3"}))
	}
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	var busy sync.Map
	var overlaps atomic.Int32
	inner := counter(st, cache.Lister("ConfigMap"), clk, time.Millisecond)
	m.Register(&toy{name: "counter", clock: clk, sync: func(ctx context.Context, key string) error {
		if _, loaded := busy.LoadOrStore(key, true); loaded {
			overlaps.Add(1)
		}
		defer busy.Delete(key)
		return inner(ctx, key)
	}}, controller.EnqueueSelf("ConfigMap"))

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- m.Run(ctx, 4) }()
	for {
		got := counts(t, st)
		finished := 0
		for _, c := range got {
			if c == "3" {
				finished++
			}
		}
		if finished == n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("not converged: %v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if overlaps.Load() != 0 {
		t.Errorf("%d concurrent syncs of one key", overlaps.Load())
	}
}

// TestRunTimers: in Run mode a timer fires when the clock reaches its time.
func TestRunTimers(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	synced := make(chan string, 1)
	m.Register(&toy{name: "cms", clock: clk, sync: func(_ context.Context, key string) error {
		synced <- key
		return nil
	}}, controller.EnqueueSelf("ConfigMap"))
	var fired atomic.Bool
	m.AddTimer(func() (time.Time, bool) { return t0.Add(10 * time.Second), !fired.Load() }, func(context.Context) {
		fired.Store(true)
		create(t, st, newConfigMap("ns", "ready", nil))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- m.Run(ctx, 1) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	if fired.Load() {
		t.Fatal("fired early")
	}
	clk.Step(10 * time.Second)
	select {
	case key := <-synced:
		if key != "ns/ready" {
			t.Fatalf("synced %q", key)
		}
	case <-ctx.Done():
		t.Fatal("timer never fired")
	}
	cancel()
	must(t, <-done)
}

// TestRunUntilIdleStoreClosed: a store closed under the controllers is
// reported, not mistaken for idleness or for a stuck queue.
func TestRunUntilIdleStoreClosed(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	create(t, st, newConfigMap("ns", "a", nil))
	cache := controller.NewCache(st, "ConfigMap")
	m := controller.NewManager(cache, clk)
	m.Register(&toy{name: "cms", clock: clk}, controller.EnqueueSelf("ConfigMap"))
	must(t, m.RunUntilIdle(t.Context(), clk, time.Minute))
	must(t, st.Close())
	if err := m.RunUntilIdle(t.Context(), clk, time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("RunUntilIdle on a closed store = %v", err)
	}
}
