package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// Watch says which changes wake a controller: every change to an object
// of Kind is mapped by Keys to keys of the controller's queue (the old and
// the new state both, so that a change of owner or of labels wakes both
// sides). Filter, when set, drops changes it returns false for.
type Watch struct {
	Kind   string
	Keys   KeysFunc
	Filter func(old, new store.Object) bool
}

// KeysFunc maps an object to the queue keys it concerns (often one, or
// none). It runs in the cache's goroutine: it may read Listers but must be
// quick.
type KeysFunc func(obj store.Object) []string

// EnqueueSelf wakes the controller of kind with the changed object's own
// key: the Deployment controller watching Deployments.
func EnqueueSelf(kind string) Watch {
	return Watch{Kind: kind, Keys: func(obj store.Object) []string { return []string{KeyOf(obj)} }}
}

// EnqueueOwner wakes the controller of ownerKind with the key of the
// changed object's controlling owner, when that owner is of ownerKind: the
// Deployment controller watching ReplicaSets. Objects without such an
// owner wake nothing.
func EnqueueOwner(kind, ownerKind string) Watch {
	return Watch{Kind: kind, Keys: func(obj store.Object) []string {
		if key, ok := OwnerKey(obj, ownerKind); ok {
			return []string{key}
		}
		return nil
	}}
}

// EnqueueFunc wakes the controller with the keys keys returns for the
// changed object: for mappings that need a lookup (the Deployment of a
// Pod's ReplicaSet, the DaemonSets whose selector matches a Node).
func EnqueueFunc(kind string, keys KeysFunc) Watch { return Watch{Kind: kind, Keys: keys} }

// OwnerKey returns the queue key of obj's controlling owner (the
// ownerReference with controller: true) if it is of ownerKind. Owners live
// in their dependent's namespace.
func OwnerKey(obj store.Object, ownerKind string) (string, bool) {
	m := metaOf(obj)
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil || ref.Kind != ownerKind {
		return "", false
	}
	if m.GetNamespace() == "" {
		return ref.Name, true
	}
	return m.GetNamespace() + "/" + ref.Name, true
}

// handler turns w into a cache Handler adding keys to q.
func (w Watch) handler(q *Queue) Handler {
	return func(old, new store.Object) {
		if w.Filter != nil && !w.Filter(old, new) {
			return
		}
		if old != nil {
			for _, k := range w.Keys(old) {
				q.Add(k)
			}
		}
		if new != nil {
			for _, k := range w.Keys(new) {
				q.Add(k)
			}
		}
	}
}
