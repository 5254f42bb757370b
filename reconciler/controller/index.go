package controller

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
)

// kindIndex holds the cached objects of one kind, indexed by key, by
// namespace and by owner UID. Every listing is in key order (namespace,
// then name) so that controllers see the same order on every run; the
// sorted slices are maintained on insert and delete, which for objects
// arriving in key order (a list) is an append.
type kindIndex struct {
	kind string

	mu         sync.RWMutex
	objs       map[objKey]store.Object
	namespaces []string            // sorted namespaces that hold objects
	names      map[string][]string // namespace → sorted names
	byOwner    map[types.UID][]objKey
}

var _ Lister = (*kindIndex)(nil)

func newKindIndex(kind string) *kindIndex {
	return &kindIndex{
		kind:    kind,
		objs:    map[objKey]store.Object{},
		names:   map[string][]string{},
		byOwner: map[types.UID][]objKey{},
	}
}

// Get returns the cached object namespace/name.
func (x *kindIndex) Get(namespace, name string) (store.Object, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	obj, ok := x.objs[objKey{namespace, name}]
	return obj, ok
}

// List returns the cached objects in namespace ("" for all) that match sel.
func (x *kindIndex) List(namespace string, sel labels.Selector) []store.Object {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if sel != nil && sel.Empty() {
		sel = nil
	}
	var out []store.Object
	add := func(ns string) {
		for _, name := range x.names[ns] {
			obj := x.objs[objKey{ns, name}]
			if sel == nil || sel.Matches(labels.Set(metaOf(obj).GetLabels())) {
				out = append(out, obj)
			}
		}
	}
	if namespace != "" {
		add(namespace)
		return out
	}
	for _, ns := range x.namespaces {
		add(ns)
	}
	return out
}

// ByOwner returns the cached objects with an ownerReference to uid.
func (x *kindIndex) ByOwner(uid types.UID) []store.Object {
	x.mu.RLock()
	defer x.mu.RUnlock()
	keys := x.byOwner[uid]
	out := make([]store.Object, 0, len(keys))
	for _, k := range keys {
		out = append(out, x.objs[k])
	}
	return out
}

// orphanUID indexes the objects without a controller ownerReference (no
// real UID is empty of printable characters), so that adopting controllers
// find them without scanning a namespace.
const orphanUID = types.UID("\x00orphans")

// Orphans returns the cached objects in namespace ("" for all) that no
// controller owns, in key order.
func (x *kindIndex) Orphans(namespace string) []store.Object {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []store.Object
	for _, k := range x.byOwner[orphanUID] {
		if namespace == "" || k.namespace == namespace {
			out = append(out, x.objs[k])
		}
	}
	return out
}

// Len returns how many objects are cached.
func (x *kindIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.objs)
}

// set stores obj and returns the object it replaces, if any.
func (x *kindIndex) set(obj store.Object) store.Object {
	m := metaOf(obj)
	k := keyOfMeta(m)
	x.mu.Lock()
	defer x.mu.Unlock()
	old, existed := x.objs[k]
	x.objs[k] = obj
	if existed {
		oldRefs := metaOf(old).GetOwnerReferences()
		newRefs := m.GetOwnerReferences()
		if !sameOwnerUIDs(oldRefs, newRefs) {
			x.unindexOwners(k, oldRefs)
			x.indexOwners(k, newRefs)
		}
		return old
	}
	names, ok := x.names[k.namespace]
	if !ok {
		x.namespaces = insertSorted(x.namespaces, k.namespace)
	}
	x.names[k.namespace] = insertSorted(names, k.name)
	x.indexOwners(k, m.GetOwnerReferences())
	return nil
}

// remove deletes namespace/name and returns the object it held, if any.
func (x *kindIndex) remove(k objKey) store.Object {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, ok := x.objs[k]
	if !ok {
		return nil
	}
	delete(x.objs, k)
	names := removeSorted(x.names[k.namespace], k.name)
	if len(names) == 0 {
		delete(x.names, k.namespace)
		x.namespaces = removeSorted(x.namespaces, k.namespace)
	} else {
		x.names[k.namespace] = names
	}
	x.unindexOwners(k, metaOf(old).GetOwnerReferences())
	return old
}

// snapshot returns every cached object, in key order.
func (x *kindIndex) snapshot() []store.Object { return x.List("", nil) }

func (x *kindIndex) indexOwners(k objKey, refs []metav1.OwnerReference) {
	for _, uid := range indexUIDs(refs) {
		keys := x.byOwner[uid]
		i, found := slices.BinarySearchFunc(keys, k, compareKeys)
		if !found {
			x.byOwner[uid] = slices.Insert(keys, i, k)
		}
	}
}

func (x *kindIndex) unindexOwners(k objKey, refs []metav1.OwnerReference) {
	for _, uid := range indexUIDs(refs) {
		keys := x.byOwner[uid]
		if i, found := slices.BinarySearchFunc(keys, k, compareKeys); found {
			keys = slices.Delete(keys, i, i+1)
		}
		if len(keys) == 0 {
			delete(x.byOwner, uid)
		} else {
			x.byOwner[uid] = keys
		}
	}
}

// indexUIDs returns the owner UIDs an object with refs is indexed under:
// each owner once, and orphanUID when none of them is its controller.
func indexUIDs(refs []metav1.OwnerReference) []types.UID {
	uids := make([]types.UID, 0, len(refs)+1)
	controlled := false
	for i, r := range refs {
		controlled = controlled || (r.Controller != nil && *r.Controller)
		if !ownerSeen(refs[:i], r.UID) {
			uids = append(uids, r.UID)
		}
	}
	if !controlled {
		uids = append(uids, orphanUID)
	}
	return uids
}

// ownerSeen reports whether refs name uid (a duplicate reference).
func ownerSeen(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}

// sameOwnerUIDs reports whether a and b name the same owners in order,
// with the same controller.
func sameOwnerUIDs(a, b []metav1.OwnerReference) bool {
	return slices.EqualFunc(a, b, func(x, y metav1.OwnerReference) bool {
		return x.UID == y.UID && (x.Controller != nil && *x.Controller) == (y.Controller != nil && *y.Controller)
	})
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}
