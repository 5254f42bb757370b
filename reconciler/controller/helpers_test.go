package controller_test

import (
	"context"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

func newPod(ns, name string, lbls map[string]string, owners ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, Labels: lbls, OwnerReferences: owners,
	}}
}

func newRS(ns, name string, owners ...metav1.OwnerReference) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners}}
}

func newConfigMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

// ownedBy returns a controller reference to owner (as stored).
func ownedBy(kind string, owner store.Object) metav1.OwnerReference {
	m := mustMeta(owner)
	yes := true
	return metav1.OwnerReference{Kind: kind, Name: m.GetName(), UID: m.GetUID(), Controller: &yes}
}

func mustMeta(obj store.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(err)
	}
	return m
}

func create[T store.Object](t testing.TB, st store.Store, obj T) T {
	t.Helper()
	out, err := st.Create(context.Background(), obj)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return out.(T)
}

func update[T store.Object](t testing.TB, st store.Store, obj T) T {
	t.Helper()
	out, err := st.Update(context.Background(), obj)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return out.(T)
}

func del(t testing.TB, st store.Store, kind, ns, name string) {
	t.Helper()
	if err := st.Delete(context.Background(), kind, ns, name, store.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s %s/%s: %v", kind, ns, name, err)
	}
}

// storeRV returns the store's current resourceVersion.
func storeRV(t testing.TB, st store.Store) int64 {
	t.Helper()
	_, rv, err := st.List(context.Background(), "Namespace", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

// handlerLog records handler calls as "Kind add ns/name",
// "Kind update ns/name", "Kind delete ns/name".
type handlerLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *handlerLog) handler(kind string) func(old, new store.Object) {
	return func(old, new store.Object) {
		var s string
		switch {
		case old == nil:
			s = "add " + key(new)
		case new == nil:
			s = "delete " + key(old)
		default:
			s = "update " + key(new)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.calls = append(l.calls, kind+" "+s)
	}
}

func (l *handlerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

func key(obj store.Object) string {
	m := mustMeta(obj)
	return m.GetNamespace() + "/" + m.GetName()
}

func names(objs []store.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, key(o))
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
