package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// Name is the collector's controller name.
const Name = "garbagecollector"

// DefaultKinds returns the kinds the collector watches when given none:
// the kinds berth's controllers create with ownerReferences, and their
// owners. Events carry no ownerReferences and are not watched.
func DefaultKinds() []string {
	return []string{
		"Deployment", "ReplicaSet", "Pod",
		"DaemonSet", "StatefulSet", "ControllerRevision",
		"CronJob", "Job",
	}
}

// attempts bounds how often one Sync re-reads an object that changed
// under it before retrying with backoff.
const attempts = 3

// Collector is the garbage collector, a controller keyed by Key. It reads
// the watch cache to decide quickly that an object's owners are alive, and
// the store before it acts: an owner missing from the cache may simply not
// have reached it yet, and the dependent may have changed (been adopted).
// Deletes carry the dependent's UID and resourceVersion as preconditions.
type Collector struct {
	st    store.Store
	cache *controller.Cache
	kinds []string
}

var _ controller.Controller = (*Collector)(nil)

// New returns a collector of the objects of kinds (DefaultKinds that cache
// holds, when none are given). Each of kinds is watched both as a
// dependent (its objects' ownerReferences are checked) and as an owner
// (its deletion wakes the check of its dependents); every kind must be
// held by cache. An owner of a kind not watched is still checked, in the
// store, whenever its dependents change or the collector starts.
func New(st store.Store, cache *controller.Cache, kinds ...string) *Collector {
	if len(kinds) == 0 {
		for _, k := range DefaultKinds() {
			if cache.Has(k) {
				kinds = append(kinds, k)
			}
		}
	}
	for _, k := range kinds {
		if !cache.Has(k) {
			panic(fmt.Sprintf("gc: the cache does not hold kind %q", k))
		}
	}
	return &Collector{st: st, cache: cache, kinds: slices.Clone(kinds)}
}

// Register adds a collector of kinds (as New) to m and returns it.
func Register(m *controller.Manager, st store.Store, kinds ...string) *Collector {
	c := New(st, m.Cache(), kinds...)
	m.Register(c, c.Watches()...)
	return c
}

// Name implements controller.Controller.
func (c *Collector) Name() string { return Name }

// Watches returns the cache handlers that feed the collector's queue: an
// object with owners is checked when it appears and when its owners
// change; when an object is deleted, its dependents are checked.
func (c *Collector) Watches() []controller.Watch {
	var ws []controller.Watch
	for _, kind := range c.kinds {
		ws = append(ws, controller.Watch{
			Kind:   kind,
			Keys:   func(obj store.Object) []string { return []string{keyOf(kind, obj)} },
			Filter: ownersChanged,
		})
		ws = append(ws, controller.Watch{
			Kind:   kind,
			Keys:   c.dependentKeys,
			Filter: func(_, new store.Object) bool { return new == nil },
		})
	}
	return ws
}

// Sync implements controller.Controller: it collects the object named by
// key if none of its owners exists, or drops its references to the owners
// that are gone if some still exist.
func (c *Collector) Sync(ctx context.Context, key string) error {
	kind, namespace, name, err := parseKey(key)
	if err != nil {
		return nil // nothing to retry
	}
	cached, ok := c.cache.Lister(kind).Get(namespace, name)
	if !ok || c.ownersCached(namespace, cached) {
		return nil
	}
	for range attempts {
		obj, err := c.st.Get(ctx, kind, namespace, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		err = c.collect(ctx, kind, obj)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		// The object changed between our read and our write: read again.
	}
	return fmt.Errorf("gc: %s keeps changing: %w", key, store.ErrConflict)
}

// collect acts on obj, as read from the store.
func (c *Collector) collect(ctx context.Context, kind string, obj store.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	var solid, dangling int
	keep := make([]metav1.OwnerReference, 0, len(m.GetOwnerReferences()))
	for _, ref := range m.GetOwnerReferences() {
		exists, err := c.ownerExists(ctx, m.GetNamespace(), ref)
		if err != nil {
			return err
		}
		if exists {
			solid++
			keep = append(keep, ref)
		} else {
			dangling++
		}
	}
	switch {
	case dangling == 0:
		return nil
	case solid == 0:
		rv, err := parseRV(m.GetResourceVersion())
		if err != nil {
			return err
		}
		err = c.st.Delete(ctx, kind, m.GetNamespace(), m.GetName(),
			store.DeleteOptions{UID: string(m.GetUID()), ResourceVersion: rv})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	default:
		m.SetOwnerReferences(keep)
		_, err := c.st.Update(ctx, obj)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
}

// ownersCached reports whether every owner of obj is in the cache with
// the UID obj names: then there is nothing to do, and no need to ask the
// store.
func (c *Collector) ownersCached(namespace string, obj store.Object) bool {
	for _, ref := range metaOf(obj).GetOwnerReferences() {
		if !c.cache.Has(ref.Kind) {
			return false
		}
		owner, ok := c.cache.Lister(ref.Kind).Get(ownerNamespace(namespace, ref.Kind), ref.Name)
		if !ok || metaOf(owner).GetUID() != ref.UID {
			return false
		}
	}
	return true
}

// ownerExists asks the store whether the owner ref names exists, with the
// UID it names. An owner that cannot be resolved (a namespaced owner of a
// cluster-scoped object, a kind the store does not hold) counts as
// existing: as in Kubernetes, it keeps the object from being collected.
func (c *Collector) ownerExists(ctx context.Context, namespace string, ref metav1.OwnerReference) (bool, error) {
	ns := ownerNamespace(namespace, ref.Kind)
	if namespace == "" && store.Namespaced(ref.Kind) {
		return true, nil
	}
	owner, err := c.st.Get(ctx, ref.Kind, ns, ref.Name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if errors.Is(err, store.ErrInvalid) {
		return true, nil // a kind the store does not hold: unresolvable, kept
	}
	if err != nil {
		return false, fmt.Errorf("gc: owner %s %s: %w", ref.Kind, ref.Name, err)
	}
	return ref.UID == "" || metaOf(owner).GetUID() == ref.UID, nil
}

// dependentKeys returns the keys of the watched objects owned by owner.
func (c *Collector) dependentKeys(owner store.Object) []string {
	uid := metaOf(owner).GetUID()
	if uid == "" {
		return nil
	}
	var keys []string
	for _, kind := range c.kinds {
		for _, dep := range c.cache.Lister(kind).ByOwner(uid) {
			keys = append(keys, keyOf(kind, dep))
		}
	}
	return keys
}

// ownersChanged keeps the changes that can make an object collectable:
// it appeared with owners, or its owners changed.
func ownersChanged(old, new store.Object) bool {
	if new == nil {
		return false
	}
	refs := metaOf(new).GetOwnerReferences()
	if old == nil {
		return len(refs) > 0
	}
	return len(refs) > 0 && !slices.EqualFunc(metaOf(old).GetOwnerReferences(), refs,
		func(a, b metav1.OwnerReference) bool { return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind })
}

// ownerNamespace is where an owner of kind lives for a dependent in
// namespace: the same namespace, or none for a cluster-scoped kind.
func ownerNamespace(namespace, kind string) string {
	if store.Namespaced(kind) {
		return namespace
	}
	return ""
}

func keyOf(kind string, obj store.Object) string {
	m := metaOf(obj)
	return Key(kind, m.GetNamespace(), m.GetName())
}

func metaOf(obj store.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic("gc: object without metadata: " + err.Error())
	}
	return m
}
