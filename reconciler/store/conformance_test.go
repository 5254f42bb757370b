package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/berth-io/berth/reconciler/store"
)

func TestMemoryConformance(t *testing.T) { testConformance(t, openMemory) }
func TestBoltConformance(t *testing.T)   { testConformance(t, openBolt) }

// testConformance is the one suite both implementations must pass.
func testConformance(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"CRUD", testCRUD},
		{"CreateErrors", testCreateErrors},
		{"ClusterScoped", testClusterScoped},
		{"UpdateConflicts", testUpdateConflicts},
		{"Generation", testGeneration},
		{"NoOpUpdate", testNoOpUpdate},
		{"GenerateName", testGenerateName},
		{"DeletePreconditions", testDeletePreconditions},
		{"PodGracefulDelete", testPodGracefulDelete},
		{"ListOrderAndFilters", testList},
		{"WatchNoGaps", testWatchNoGaps},
		{"WatchByKind", testWatchByKind},
		{"WatchReplay", testWatchReplay},
		{"WatchPrevObject", testWatchPrevObject},
		{"WatchExpired", testWatchExpired},
		{"WatchClosing", testWatchClosing},
		{"WatchOverflow", testWatchOverflow},
		{"TxnAtomic", testTxnAtomic},
		{"TxnSeesOwnWrites", testTxnOwnWrites},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"DeepCopies", testDeepCopies},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

func testCRUD(t *testing.T, open opener) {
	ctx := context.Background()
	clk := newClock()
	s := open(t, clk, store.Options{})

	d := mustCreate(t, s, deployment("", "web"))
	if d.Namespace != "default" || d.Name != "web" {
		t.Fatalf("created %s/%s, want default/web", d.Namespace, d.Name)
	}
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" {
		t.Fatalf("TypeMeta %q %q", d.APIVersion, d.Kind)
	}
	if d.UID == "" || d.ResourceVersion != "1" || d.Generation != 1 {
		t.Fatalf("uid %q rv %q generation %d", d.UID, d.ResourceVersion, d.Generation)
	}
	if want := epoch.Truncate(time.Second); !d.CreationTimestamp.Time.Equal(want) {
		t.Fatalf("creationTimestamp %v, want %v", d.CreationTimestamp, want)
	}

	got := mustGet[*appsv1.Deployment](t, s, "Deployment", "default", "web")
	if got.UID != d.UID || got.ResourceVersion != d.ResourceVersion || got.Kind != "Deployment" || *got.Spec.Replicas != 3 {
		t.Fatalf("get returned %+v", got.ObjectMeta)
	}

	clk.Step(time.Hour)
	got.Spec.Replicas = ptr.To[int32](5)
	got.CreationTimestamp = metav1.Now() // ignored
	up := mustUpdate(t, s, got)
	if up.ResourceVersion != "2" || up.UID != d.UID || !up.CreationTimestamp.Equal(&d.CreationTimestamp) || *up.Spec.Replicas != 5 {
		t.Fatalf("update returned rv %s uid %s created %v", up.ResourceVersion, up.UID, up.CreationTimestamp)
	}

	list, rv, err := s.List(ctx, "Deployment", store.ListOptions{})
	if err != nil || len(list) != 1 || rv != 2 {
		t.Fatalf("list: %d objects at %d, %v", len(list), rv, err)
	}
	if list[0].GetObjectKind().GroupVersionKind().Kind != "Deployment" {
		t.Fatal("list lost TypeMeta")
	}

	if err := s.Delete(ctx, "Deployment", "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "Deployment", "default", "web")
	wantErr(t, err, store.ErrNotFound, "Deployment default/web not found")
	err = s.Delete(ctx, "Deployment", "default", "web", store.DeleteOptions{})
	wantErr(t, err, store.ErrNotFound, "Deployment default/web")
	_, err = s.Update(ctx, up)
	wantErr(t, err, store.ErrNotFound, "Deployment default/web")
	if _, rv, _ := s.List(ctx, "Deployment", store.ListOptions{}); rv != 3 {
		t.Fatalf("rv after delete %d, want 3", rv)
	}
}

func testCreateErrors(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	mustCreate(t, s, deployment("prod", "web"))

	withRV := deployment("prod", "api")
	withRV.ResourceVersion = "7"
	tests := []struct {
		name   string
		obj    store.Object
		target error
		text   string
	}{
		{"exists", deployment("prod", "web"), store.ErrAlreadyExists, "Deployment prod/web already exists"},
		{"resourceVersion set", withRV, store.ErrInvalid, "resourceVersion must be empty"},
		{"no name", deployment("prod", ""), store.ErrInvalid, "metadata.name or metadata.generateName is required"},
		{"slash in name", deployment("prod", "a/b"), store.ErrInvalid, "may not contain"},
		{"unknown type", &corev1.PersistentVolume{}, store.ErrInvalid, "does not hold"},
		{"nil", nil, store.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, tt.obj)
			wantErr(t, err, tt.target, tt.text)
		})
	}
	_, err := s.Get(ctx, "Widget", "", "x")
	wantErr(t, err, store.ErrInvalid, `kind "Widget"`)
	_, _, err = s.List(ctx, "Widget", store.ListOptions{})
	wantErr(t, err, store.ErrInvalid, "")
	_, err = s.Watch(ctx, "Widget", 0)
	wantErr(t, err, store.ErrInvalid, "")
	if _, rv, _ := s.List(ctx, "Deployment", store.ListOptions{}); rv != 1 {
		t.Fatalf("failed creates moved the version to %d", rv)
	}
}

func testClusterScoped(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	n := mustCreate(t, s, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Namespace: "ignored"}})
	if n.Namespace != "" {
		t.Fatalf("Node got namespace %q", n.Namespace)
	}
	if _, err := s.Get(ctx, "Node", "", "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "Node", "whatever", "n1"); err != nil {
		t.Fatalf("cluster-scoped get ignores the namespace: %v", err)
	}
	_, err := s.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	wantErr(t, err, store.ErrAlreadyExists, "Node n1 already exists")
	list, _, _ := s.List(ctx, "Node", store.ListOptions{Namespace: "x"})
	if len(list) != 1 {
		t.Fatalf("listing a cluster-scoped kind with a namespace found %d", len(list))
	}
}

func testUpdateConflicts(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	v1 := mustCreate(t, s, deployment("default", "web"))
	v2 := v1.DeepCopy()
	v2.Spec.Replicas = ptr.To[int32](4)
	mustUpdate(t, s, v2)

	stale := v1.DeepCopy()
	stale.Spec.Replicas = ptr.To[int32](9)
	noRV := v1.DeepCopy()
	noRV.ResourceVersion = ""
	otherUID := mustGet[*appsv1.Deployment](t, s, "Deployment", "default", "web")
	otherUID.UID = "someone-else"
	tests := []struct {
		name string
		obj  *appsv1.Deployment
		text string
	}{
		{"stale", stale, "resourceVersion 1 is not the stored 2"},
		{"empty resourceVersion", noRV, "metadata.resourceVersion must be set on update"},
		{"other uid", otherUID, "uid someone-else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(ctx, tt.obj)
			wantErr(t, err, store.ErrConflict, "Deployment default/web: "+tt.text)
		})
	}
	if got := mustGet[*appsv1.Deployment](t, s, "Deployment", "default", "web"); *got.Spec.Replicas != 4 {
		t.Fatalf("a refused update changed replicas to %d", *got.Spec.Replicas)
	}
}

func testGeneration(t *testing.T, open opener) {
	tests := []struct {
		name   string
		obj    func() store.Object
		change func(store.Object)
		bumps  bool
	}{
		{"deployment spec", func() store.Object { return deployment("default", "d") },
			func(o store.Object) { o.(*appsv1.Deployment).Spec.Replicas = ptr.To[int32](7) }, true},
		{"deployment template", func() store.Object { return deployment("default", "d") },
			func(o store.Object) { o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "nginx:1.28" }, true},
		{"deployment status", func() store.Object { return deployment("default", "d") },
			func(o store.Object) { o.(*appsv1.Deployment).Status.Replicas = 3 }, false},
		{"deployment labels", func() store.Object { return deployment("default", "d") },
			func(o store.Object) { o.(*appsv1.Deployment).Labels["tier"] = "web" }, false},
		{"deployment annotations (as Kubernetes)", func() store.Object { return deployment("default", "d") },
			func(o store.Object) { metav1.SetMetaDataAnnotation(&o.(*appsv1.Deployment).ObjectMeta, "a", "b") }, true},
		{"replicaset annotations", func() store.Object { return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"}} },
			func(o store.Object) { metav1.SetMetaDataAnnotation(&o.(*appsv1.ReplicaSet).ObjectMeta, "a", "b") }, false},
		{"pod spec", func() store.Object { return pod("default", "p", nil) },
			func(o store.Object) { o.(*corev1.Pod).Spec.NodeName = "n1" }, true},
		{"pod status", func() store.Object { return pod("default", "p", nil) },
			func(o store.Object) { o.(*corev1.Pod).Status.Phase = corev1.PodRunning }, false},
		{"pod deletionTimestamp (graceful deletion)", func() store.Object { return pod("default", "p", nil) },
			func(o store.Object) { o.(*corev1.Pod).DeletionTimestamp = ptr.To(metav1.NewTime(epoch)) }, true},
		{"nil vs empty map", func() store.Object { return configMap("default", "c") },
			func(o store.Object) {
				o.(*corev1.ConfigMap).Data = nil
				o.(*corev1.ConfigMap).Labels = map[string]string{"x": "y"}
			}, false},
		{"configmap data", func() store.Object { return configMap("default", "c") },
			func(o store.Object) { o.(*corev1.ConfigMap).Data = map[string]string{"k": "v"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, newClock(), store.Options{})
			created, err := s.Create(context.Background(), tt.obj())
			if err != nil {
				t.Fatal(err)
			}
			tt.change(created)
			updated := mustUpdate(t, s, created)
			want := int64(1)
			if tt.bumps {
				want = 2
			}
			if got := metaOf(updated).GetGeneration(); got != want {
				t.Fatalf("generation %d, want %d", got, want)
			}
			if rvOf(t, updated) != 2 {
				t.Fatalf("resourceVersion %d, want 2", rvOf(t, updated))
			}
		})
	}
}

func testNoOpUpdate(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	d := mustCreate(t, s, deployment("default", "web"))
	ch, err := s.Watch(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	same := mustUpdate(t, s, d.DeepCopy())
	if same.ResourceVersion != "1" || same.Generation != 1 {
		t.Fatalf("no-op update wrote: rv %s generation %d", same.ResourceVersion, same.Generation)
	}
	if evs := receive(ch); len(evs) != 0 {
		t.Fatalf("no-op update sent %d events", len(evs))
	}
	// A deletionTimestamp, once set, stays.
	d.DeletionTimestamp = ptr.To(metav1.NewTime(epoch))
	d = mustUpdate(t, s, d)
	d.DeletionTimestamp = nil
	d.Labels["x"] = "y"
	d = mustUpdate(t, s, d)
	if d.DeletionTimestamp == nil {
		t.Fatal("update cleared deletionTimestamp")
	}
}

func testGenerateName(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{Seed: 42})
	seen := map[string]bool{}
	for range 50 {
		p := pod("default", "", nil)
		p.GenerateName = "web-7d4b9c-"
		got := mustCreate(t, s, p)
		suffix, ok := strings.CutPrefix(got.Name, "web-7d4b9c-")
		if !ok || len(suffix) != 5 || strings.Trim(suffix, "bcdfghjklmnpqrstvwxz2456789") != "" {
			t.Fatalf("generated name %q", got.Name)
		}
		if seen[got.Name] {
			t.Fatalf("generated %q twice", got.Name)
		}
		seen[got.Name] = true
	}
	long := pod("default", "", nil)
	long.GenerateName = strings.Repeat("a", 70)
	if got := mustCreate(t, s, long); len(got.Name) != 63 {
		t.Fatalf("generated name of %d characters, want 63", len(got.Name))
	}
	// The same seed gives the same names.
	s2 := open(t, newClock(), store.Options{Seed: 42})
	p := pod("default", "", nil)
	p.GenerateName = "web-7d4b9c-"
	first := mustCreate(t, s2, p)
	if !seen[first.Name] {
		t.Fatalf("seed 42 gave %q, not one of the first store's names", first.Name)
	}
	if _, err := s.Get(ctx, "Pod", "default", first.Name); err != nil {
		t.Fatal(err)
	}
}

func testDeletePreconditions(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	p := mustCreate(t, s, pod("default", "p", nil))
	ch, err := s.Watch(ctx, "Pod", rvOf(t, p))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts store.DeleteOptions
		text string
	}{
		{"uid", store.DeleteOptions{UID: "other"}, "uid precondition other"},
		{"resourceVersion", store.DeleteOptions{ResourceVersion: 99}, "resourceVersion precondition 99"},
	}
	for _, tt := range tests {
		err := s.Delete(ctx, "Pod", "default", "p", tt.opts)
		wantErr(t, err, store.ErrConflict, "Pod default/p: "+tt.text)
	}
	if err := s.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{UID: string(p.UID), ResourceVersion: 1}); err != nil {
		t.Fatal(err)
	}
	evs := receive(ch)
	if len(evs) != 1 || evs[0].Type != store.Deleted || evs[0].ResourceVersion != 2 {
		t.Fatalf("events %+v", evs)
	}
	gone := evs[0].Object.(*corev1.Pod)
	if gone.Name != "p" || gone.UID != p.UID || gone.ResourceVersion != "2" || gone.Kind != "Pod" {
		t.Fatalf("deleted event object %+v", gone.ObjectMeta)
	}
}

func testList(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	// Created out of order; "a-b" sorts after "a" as a namespace.
	for _, k := range []struct{ ns, name, tier string }{
		{"a-b", "x", "web"}, {"a", "y", "db"}, {"b", "x", "web"}, {"a", "x", "web"}, {"a", "x-1", "db"},
	} {
		mustCreate(t, s, pod(k.ns, k.name, map[string]string{"tier": k.tier}))
	}
	mustCreate(t, s, deployment("a", "d"))
	tests := []struct {
		name string
		opts store.ListOptions
		want []string
	}{
		{"all", store.ListOptions{}, []string{"a/x", "a/x-1", "a/y", "a-b/x", "b/x"}},
		{"namespace", store.ListOptions{Namespace: "a"}, []string{"a/x", "a/x-1", "a/y"}},
		{"namespace a-b", store.ListOptions{Namespace: "a-b"}, []string{"a-b/x"}},
		{"missing namespace", store.ListOptions{Namespace: "zzz"}, nil},
		{"selector", store.ListOptions{Selector: labels.SelectorFromSet(labels.Set{"tier": "web"})}, []string{"a/x", "a-b/x", "b/x"}},
		{"namespace and selector", store.ListOptions{Namespace: "a", Selector: labels.SelectorFromSet(labels.Set{"tier": "db"})}, []string{"a/x-1", "a/y"}},
		{"empty selector", store.ListOptions{Selector: labels.Everything()}, []string{"a/x", "a/x-1", "a/y", "a-b/x", "b/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, rv, err := s.List(ctx, "Pod", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range list {
				got = append(got, metaOf(o).GetNamespace()+"/"+metaOf(o).GetName())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if rv != 6 {
				t.Fatalf("list rv %d, want 6", rv)
			}
		})
	}
	if list, _, _ := s.List(ctx, "Service", store.ListOptions{}); len(list) != 0 {
		t.Fatal("listed services that do not exist")
	}
}

// testWatchNoGaps writes 1000 objects from 8 goroutines while a watch runs:
// every version arrives exactly once, in order, and each writer finds its
// own write's event already delivered when its write returns.
func testWatchNoGaps(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	mustCreate(t, s, configMap("default", "before"))
	_, listRV, err := s.List(ctx, "ConfigMap", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "", listRV)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 125
	var (
		wg     sync.WaitGroup
		errs   = make(chan error, writers)
		maxRVs = make([]int64, writers)
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				var obj store.Object = configMap(fmt.Sprintf("ns-%d", w), fmt.Sprintf("cm-%d", i))
				if i%2 == 1 {
					obj = pod(fmt.Sprintf("ns-%d", w), fmt.Sprintf("p-%d", i), nil)
				}
				out, err := s.Create(ctx, obj)
				if err != nil {
					errs <- err
					return
				}
				maxRVs[w] = rvOf(t, out)
				// The write has returned, so the channel holds at least
				// every version up to this one.
				if n := int64(len(ch)); n < maxRVs[w]-listRV {
					errs <- fmt.Errorf("after the write of version %d the watch holds only %d events", maxRVs[w], n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := receive(ch)
	if len(evs) != writers*each {
		t.Fatalf("got %d events, want %d", len(evs), writers*each)
	}
	for i, ev := range evs {
		if want := listRV + 1 + int64(i); ev.ResourceVersion != want || rvOf(t, ev.Object) != want || ev.Type != store.Added {
			t.Fatalf("event %d: %s at %d (object at %s), want ADDED at %d", i, ev.Type, ev.ResourceVersion, metaOf(ev.Object).GetResourceVersion(), want)
		}
	}
}

func testWatchByKind(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	pods, _ := s.Watch(ctx, "Pod", 0)
	all, _ := s.Watch(ctx, "", 0)
	mustCreate(t, s, pod("default", "p", nil))
	mustCreate(t, s, configMap("default", "c"))
	mustCreate(t, s, deployment("default", "d"))
	s.Delete(ctx, "Pod", "default", "p", store.DeleteOptions{})
	kinds := func(evs []store.Event) (out []string) {
		for _, ev := range evs {
			out = append(out, string(ev.Type)+" "+ev.Object.GetObjectKind().GroupVersionKind().Kind)
		}
		return out
	}
	if got, want := kinds(receive(pods)), []string{"ADDED Pod", "DELETED Pod"}; !slices.Equal(got, want) {
		t.Fatalf("pod watch: %v, want %v", got, want)
	}
	if got, want := kinds(receive(all)), []string{"ADDED Pod", "ADDED ConfigMap", "ADDED Deployment", "DELETED Pod"}; !slices.Equal(got, want) {
		t.Fatalf("all-kinds watch: %v, want %v", got, want)
	}
}

func testWatchReplay(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	for i := range 10 {
		mustCreate(t, s, configMap("default", fmt.Sprint(i)))
		mustCreate(t, s, pod("default", fmt.Sprint(i), nil))
	}
	ch, err := s.Watch(ctx, "Pod", 11)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, ev := range receive(ch) {
		got = append(got, ev.ResourceVersion)
	}
	if want := []int64{12, 14, 16, 18, 20}; !slices.Equal(got, want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	// From the future: nothing until that version passes.
	future, _ := s.Watch(ctx, "", 21)
	mustCreate(t, s, configMap("default", "x")) // 21
	mustCreate(t, s, configMap("default", "y")) // 22
	if evs := receive(future); len(evs) != 1 || evs[0].ResourceVersion != 22 {
		t.Fatalf("watch from 21 got %+v", evs)
	}
}

func testWatchExpired(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{EventLogSize: 10})
	for i := range 25 {
		mustCreate(t, s, configMap("default", fmt.Sprint(i)))
	}
	_, err := s.Watch(ctx, "", 14)
	wantErr(t, err, store.ErrExpired, "the oldest a watch can start from is 15")
	ch, err := s.Watch(ctx, "", 15)
	if err != nil {
		t.Fatal(err)
	}
	if evs := receive(ch); len(evs) != 10 || evs[0].ResourceVersion != 16 {
		t.Fatalf("watch from 15 got %d events", len(evs))
	}
}

func testWatchClosing(t *testing.T, open opener) {
	s := open(t, newClock(), store.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event on an idle watch")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the context did not close the watch")
	}
	mustCreate(t, s, pod("default", "p", nil)) // no send on the closed channel

	ch2, _ := s.Watch(context.Background(), "", 0)
	s.Close()
	if _, ok := <-ch2; !ok {
		t.Fatal("want the replayed event first")
	}
	if _, ok := <-ch2; ok {
		t.Fatal("closing the store did not close the watch")
	}
}

func testWatchOverflow(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{WatchBuffer: 5})
	ch, _ := s.Watch(ctx, "", 0)
	for i := range 8 {
		mustCreate(t, s, configMap("default", fmt.Sprint(i)))
	}
	n := 0
	for range ch {
		n++
	}
	if n != 5 {
		t.Fatalf("a watcher that fell behind got %d events, then should be closed after its 5", n)
	}
	// Watching again from the last seen version picks up the rest.
	ch, err := s.Watch(ctx, "", 5)
	if err != nil {
		t.Fatal(err)
	}
	if evs := receive(ch); len(evs) != 3 {
		t.Fatalf("re-watch got %d events, want 3", len(evs))
	}
}

func testTxnAtomic(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	mustCreate(t, s, configMap("default", "existing"))
	ch, _ := s.Watch(ctx, "", 1)

	boom := errors.New("boom")
	tests := []struct {
		name string
		fn   func(tx store.Txn) error
		want error
	}{
		{"fn fails", func(tx store.Txn) error {
			if _, err := tx.Create(configMap("default", "a")); err != nil {
				return err
			}
			if _, err := tx.Create(pod("default", "b", nil)); err != nil {
				return err
			}
			if err := tx.Delete("ConfigMap", "default", "existing", store.DeleteOptions{}); err != nil {
				return err
			}
			return boom
		}, boom},
		{"an op fails", func(tx store.Txn) error {
			if _, err := tx.Create(configMap("default", "a")); err != nil {
				return err
			}
			_, err := tx.Create(configMap("default", "existing"))
			return err
		}, store.ErrAlreadyExists},
		{"fn panics", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.fn == nil {
				func() {
					defer func() { recover() }()
					s.Txn(ctx, func(tx store.Txn) error {
						tx.Create(configMap("default", "a"))
						panic("fn panics")
					})
				}()
			} else {
				err = s.Txn(ctx, tt.fn)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("txn error %v, want %v", err, tt.want)
			}
			for _, k := range [][2]string{{"ConfigMap", "a"}, {"Pod", "b"}} {
				if _, err := s.Get(ctx, k[0], "default", k[1]); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("%s %s exists after a failed txn", k[0], k[1])
				}
			}
			if _, err := s.Get(ctx, "ConfigMap", "default", "existing"); err != nil {
				t.Fatal("a failed txn deleted an object")
			}
			if _, rv, _ := s.List(ctx, "ConfigMap", store.ListOptions{}); rv != 1 {
				t.Fatalf("a failed txn moved the version to %d", rv)
			}
			if evs := receive(ch); len(evs) != 0 {
				t.Fatalf("a failed txn sent %d events", len(evs))
			}
		})
	}

	// A good one: consecutive versions, events after commit, in order.
	var created []store.Object
	err := s.Txn(ctx, func(tx store.Txn) error {
		for i := range 3 {
			o, err := tx.Create(pod("default", fmt.Sprint(i), nil))
			if err != nil {
				return err
			}
			created = append(created, o)
			if evs := receive(ch); len(evs) != 0 {
				return fmt.Errorf("event before commit")
			}
		}
		return tx.Delete("ConfigMap", "default", "existing", store.DeleteOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range created {
		if rvOf(t, o) != int64(2+i) {
			t.Fatalf("txn write %d at version %d", i, rvOf(t, o))
		}
	}
	var got []string
	for _, ev := range receive(ch) {
		got = append(got, fmt.Sprintf("%s@%d", ev.Type, ev.ResourceVersion))
	}
	if want := []string{"ADDED@2", "ADDED@3", "ADDED@4", "DELETED@5"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	var txRef store.Txn
	s.Txn(ctx, func(tx store.Txn) error { txRef = tx; return nil })
	if _, err := txRef.Create(configMap("default", "late")); err == nil {
		t.Fatal("a finished txn accepted a write")
	}
}

func testTxnOwnWrites(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	err := s.Txn(ctx, func(tx store.Txn) error {
		c, err := tx.Create(configMap("default", "c"))
		if err != nil {
			return err
		}
		got, err := tx.Get("ConfigMap", "default", "c")
		if err != nil {
			return err
		}
		got.(*corev1.ConfigMap).Data = map[string]string{"k": "v"}
		up, err := tx.Update(got)
		if err != nil {
			return err
		}
		if _, err := tx.Update(c); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("stale update inside a txn: %v", err)
		}
		if rvOf(t, up) != 2 {
			return fmt.Errorf("second write at %d", rvOf(t, up))
		}
		if err := tx.Delete("ConfigMap", "default", "c", store.DeleteOptions{}); err != nil {
			return err
		}
		if _, err := tx.Get("ConfigMap", "default", "c"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("deleted object still visible: %v", err)
		}
		_, err = tx.Create(configMap("default", "c"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mustGet[*corev1.ConfigMap](t, s, "ConfigMap", "default", "c")
	if c.ResourceVersion != "4" || len(c.Data) != 0 {
		t.Fatalf("final object rv %s data %v", c.ResourceVersion, c.Data)
	}
}

// testConcurrentUpdates: writers increment one counter with a read-modify-
// write retry loop; conflicts make them retry, and no increment is lost.
func testConcurrentUpdates(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	mustCreate(t, s, configMap("default", "counter"))
	const writers, each = 8, 40
	var wg sync.WaitGroup
	var conflicts sync.Map
	for w := range writers {
		wg.Go(func() {
			for range each {
				for {
					cm := mustGet[*corev1.ConfigMap](t, s, "ConfigMap", "default", "counter")
					if cm.Data == nil {
						cm.Data = map[string]string{} // {} does not survive JSON
					}
					n, _ := strconv.Atoi(cm.Data["n"])
					cm.Data["n"] = strconv.Itoa(n + 1)
					cm.Data[fmt.Sprint("w", w)] = strconv.Itoa(n)
					_, err := s.Update(ctx, cm)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Error(err)
						return
					}
					conflicts.Store(w, true)
				}
			}
		})
	}
	wg.Wait()
	cm := mustGet[*corev1.ConfigMap](t, s, "ConfigMap", "default", "counter")
	if cm.Data["n"] != strconv.Itoa(writers*each) {
		t.Fatalf("counter %s, want %d", cm.Data["n"], writers*each)
	}
	if rvOf(t, cm) != 1+writers*each {
		t.Fatalf("version %d, want %d", rvOf(t, cm), 1+writers*each)
	}
}

func testDeepCopies(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	ch, _ := s.Watch(ctx, "", 0)
	ch2, _ := s.Watch(ctx, "", 0)
	in := deployment("default", "web")
	out := mustCreate(t, s, in)
	// Mutate everything the caller holds.
	in.Spec.Replicas = ptr.To[int32](100)
	in.Labels["app"] = "changed"
	out.Spec.Template.Spec.Containers[0].Image = "evil"
	out.Labels["app"] = "changed"
	got := mustGet[*appsv1.Deployment](t, s, "Deployment", "default", "web")
	got.Spec.Selector.MatchLabels["app"] = "changed"
	list, _, _ := s.List(ctx, "Deployment", store.ListOptions{})
	list[0].(*appsv1.Deployment).Annotations = map[string]string{"x": "y"}
	ev := <-ch
	ev.Object.(*appsv1.Deployment).Spec.Paused = true

	ev2 := <-ch2
	if ev2.Object.(*appsv1.Deployment).Spec.Paused {
		t.Fatal("watchers share event objects")
	}
	fresh := mustGet[*appsv1.Deployment](t, s, "Deployment", "default", "web")
	want := deployment("default", "web")
	if *fresh.Spec.Replicas != 3 || fresh.Labels["app"] != "web" || fresh.Spec.Selector.MatchLabels["app"] != "web" ||
		fresh.Spec.Template.Spec.Containers[0].Image != want.Spec.Template.Spec.Containers[0].Image ||
		len(fresh.Annotations) != 0 || fresh.Spec.Paused {
		t.Fatalf("stored object changed through a returned one: %+v", fresh)
	}
	// An event replayed later is a clean copy too.
	ch3, _ := s.Watch(ctx, "", 0)
	if (<-ch3).Object.(*appsv1.Deployment).Spec.Paused {
		t.Fatal("the event log shares objects with watchers")
	}
	if !maps.Equal(fresh.Labels, map[string]string{"app": "web"}) {
		t.Fatalf("labels %v", fresh.Labels)
	}
}

func testClosed(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	mustCreate(t, s, pod("default", "p", nil))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	_, err := s.Get(ctx, "Pod", "default", "p")
	wantErr(t, err, store.ErrClosed, "")
	_, err = s.Create(ctx, pod("default", "q", nil))
	wantErr(t, err, store.ErrClosed, "")
	_, _, err = s.List(ctx, "Pod", store.ListOptions{})
	wantErr(t, err, store.ErrClosed, "")
	_, err = s.Watch(ctx, "", 0)
	wantErr(t, err, store.ErrClosed, "")
}

// testWatchPrevObject: a Modified event carries the object as it was
// before the change (live and replayed, each in a transaction that
// changes it twice too); Added and Deleted carry none.
func testWatchPrevObject(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t, newClock(), store.Options{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live, err := s.Watch(ctx, "Pod", 0)
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, s, pod("default", "a", map[string]string{"app": "web"}))
	p.Labels["app"] = "api"
	p = mustUpdate(t, s, p)
	err = s.Txn(ctx, func(tx store.Txn) error {
		obj, err := tx.Get("Pod", "default", "a")
		if err != nil {
			return err
		}
		q := obj.(*corev1.Pod)
		q.Labels["app"] = "db"
		obj, err = tx.Update(q)
		if err != nil {
			return err
		}
		q = obj.(*corev1.Pod)
		q.Labels["app"] = "cache"
		_, err = tx.Update(q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "Pod", "default", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	replay, err := s.Watch(ctx, "Pod", 0)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		typ       store.EventType
		app, prev string
	}
	want := []step{{store.Added, "web", ""}, {store.Modified, "api", "web"}, {store.Modified, "db", "api"}, {store.Modified, "cache", "db"}, {store.Deleted, "cache", ""}}
	for name, ch := range map[string]<-chan store.Event{"live": live, "replayed": replay} {
		var got []step
		for _, ev := range receive(ch) {
			st := step{typ: ev.Type, app: metaOf(ev.Object).GetLabels()["app"]}
			if ev.PrevObject != nil {
				st.prev = metaOf(ev.PrevObject).GetLabels()["app"]
				if prv, cur := rvOf(t, ev.PrevObject), rvOf(t, ev.Object); prv >= cur {
					t.Errorf("%s: previous object at version %d, the event's at %d", name, prv, cur)
				}
			}
			got = append(got, st)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: events %+v, want %+v", name, got, want)
		}
	}
}
