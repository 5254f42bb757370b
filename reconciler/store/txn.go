package store

import (
	"context"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// change is one write of a transaction.
type change struct {
	kind *kindInfo
	key  string
	typ  EventType
	// obj is the stored object (for Deleted: the last stored one, stamped
	// with the delete's version). Nobody mutates it.
	obj  Object
	data []byte // obj encoded by the backend; nil for Deleted
	rv   int64
}

type overlayKey struct{ kind, key string }

// txn is a transaction in progress. It runs with the engine's writeMu
// held; its writes are visible to itself through overlay and to everyone
// else only after commit.
type txn struct {
	e       *engine
	rv      int64 // the last version handed out (the store's, at first)
	changes []change
	overlay map[overlayKey]Object // keys written so far; nil value: deleted
	done    bool
}

var errTxnDone = errors.New("store: transaction used after it finished")

// lookup returns the current object under key, as this transaction sees
// it, or nil.
func (t *txn) lookup(k *kindInfo, key string) Object {
	if t.overlay != nil {
		if obj, ok := t.overlay[overlayKey{k.gvk.Kind, key}]; ok {
			return obj
		}
	}
	if ix := t.e.kinds[k.gvk.Kind]; ix != nil {
		return ix.objs[key]
	}
	return nil
}

// record adds a write of version rv and returns the caller's copy of the
// stored object.
func (t *txn) record(k *kindInfo, key string, typ EventType, obj Object, rv int64) (Object, error) {
	var data []byte
	if t.e.backend != nil {
		stored, b, err := t.e.backend.encode(obj)
		if err != nil {
			m := accessor(obj)
			return nil, newObjError(k, m.GetNamespace(), m.GetName(), ErrInvalid, "cannot encode: %v", err)
		}
		obj, data = stored, b
	}
	t.put(change{kind: k, key: key, typ: typ, obj: obj, data: data, rv: rv})
	return obj.DeepCopyObject(), nil
}

func (t *txn) put(c change) {
	t.rv = c.rv
	t.changes = append(t.changes, c)
	if t.overlay == nil {
		t.overlay = make(map[overlayKey]Object)
	}
	if c.typ == Deleted {
		t.overlay[overlayKey{c.kind.gvk.Kind, c.key}] = nil
	} else {
		t.overlay[overlayKey{c.kind.gvk.Kind, c.key}] = c.obj
	}
}

// Get implements Txn.
func (t *txn) Get(kind, namespace, name string) (Object, error) {
	if t.done {
		return nil, errTxnDone
	}
	k, err := knownKind(kind)
	if err != nil {
		return nil, err
	}
	namespace = normalizeNamespace(k, namespace)
	obj := t.lookup(k, objKey(namespace, name))
	if obj == nil {
		return nil, newObjError(k, namespace, name, ErrNotFound, "")
	}
	return obj.DeepCopyObject(), nil
}

// Create implements Txn.
func (t *txn) Create(obj Object) (Object, error) {
	if t.done {
		return nil, errTxnDone
	}
	k, err := kindInfoOf(obj)
	if err != nil {
		return nil, err
	}
	c := obj.DeepCopyObject()
	m := accessor(c)
	ns := normalizeNamespace(k, m.GetNamespace())
	m.SetNamespace(ns)
	if rv := m.GetResourceVersion(); rv != "" {
		return nil, newObjError(k, ns, m.GetName(), ErrInvalid, "metadata.resourceVersion must be empty on create (it is %s)", rv)
	}
	name := m.GetName()
	if name == "" {
		if name, err = t.generateName(k, ns, m.GetGenerateName()); err != nil {
			return nil, err
		}
		m.SetName(name)
	}
	if err := checkName(k, ns, name); err != nil {
		return nil, err
	}
	key := objKey(ns, name)
	if t.lookup(k, key) != nil {
		return nil, newObjError(k, ns, name, ErrAlreadyExists, "")
	}
	rv := t.rv + 1
	m.SetUID(types.UID(fmt.Sprintf("%s%012x", t.e.uidPrefix, rv)))
	m.SetCreationTimestamp(metav1.NewTime(t.e.clock.Now().Truncate(time.Second)))
	m.SetResourceVersion(itoa(rv))
	m.SetGeneration(1)
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	if pod, ok := c.(*corev1.Pod); ok && pod.Status.Phase == "" {
		pod.Status.Phase = corev1.PodPending // as the API server's pod strategy does
	}
	setTypeMeta(c, k)
	return t.record(k, key, Added, c, rv)
}

// generateName picks a free name from prefix, retrying on collisions as
// the API server does.
func (t *txn) generateName(k *kindInfo, ns, prefix string) (string, error) {
	if prefix == "" {
		return "", newObjError(k, ns, "", ErrInvalid, "metadata.name or metadata.generateName is required")
	}
	for range generateNameRetries {
		name := generatedName(prefix, t.e.rnd.IntN)
		if t.lookup(k, objKey(ns, name)) == nil {
			return name, nil
		}
	}
	return "", newObjError(k, ns, prefix+"*", ErrAlreadyExists, "no free name after %d tries", generateNameRetries)
}

// Update implements Txn.
func (t *txn) Update(obj Object) (Object, error) {
	if t.done {
		return nil, errTxnDone
	}
	k, err := kindInfoOf(obj)
	if err != nil {
		return nil, err
	}
	ns := normalizeNamespace(k, accessor(obj).GetNamespace())
	name := accessor(obj).GetName()
	if err := checkName(k, ns, name); err != nil {
		return nil, err
	}
	key := objKey(ns, name)
	old := t.lookup(k, key)
	if old == nil {
		return nil, newObjError(k, ns, name, ErrNotFound, "")
	}
	c := obj.DeepCopyObject()
	m := accessor(c)
	m.SetNamespace(ns)
	specChange, err := prepareUpdate(k, old, c)
	if err != nil {
		return nil, err
	}
	if !specChange && unchanged(k, old, c) {
		return old.DeepCopyObject(), nil
	}
	rv := t.rv + 1
	m.SetResourceVersion(itoa(rv))
	return t.record(k, key, Modified, c, rv)
}

// Delete implements Txn.
func (t *txn) Delete(kind, namespace, name string, opts DeleteOptions) error {
	if t.done {
		return errTxnDone
	}
	k, err := knownKind(kind)
	if err != nil {
		return err
	}
	ns := normalizeNamespace(k, namespace)
	key := objKey(ns, name)
	old := t.lookup(k, key)
	if old == nil {
		return newObjError(k, ns, name, ErrNotFound, "")
	}
	om := accessor(old)
	if opts.UID != "" && opts.UID != string(om.GetUID()) {
		return newObjError(k, ns, name, ErrConflict, "uid precondition %s does not match the stored %s", opts.UID, om.GetUID())
	}
	if opts.ResourceVersion != 0 && itoa(opts.ResourceVersion) != om.GetResourceVersion() {
		return newObjError(k, ns, name, ErrConflict, "resourceVersion precondition %d does not match the stored %s", opts.ResourceVersion, om.GetResourceVersion())
	}
	if pod, ok := old.(*corev1.Pod); ok {
		if marked, done := t.markPodDeleted(pod, opts.GracePeriodSeconds); done {
			if marked == nil {
				return nil
			}
			_, err := t.Update(marked)
			return err
		}
	}
	rv := t.rv + 1
	gone := old.DeepCopyObject()
	accessor(gone).SetResourceVersion(itoa(rv))
	t.put(change{kind: k, key: key, typ: Deleted, obj: gone, rv: rv})
	return nil
}

// Txn implements Store.
func (e *engine) Txn(ctx context.Context, fn func(Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	t := &txn{e: e, rv: e.rv}
	err := fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if len(t.changes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.backend != nil {
		if err := e.backend.commit(t.changes, t.rv); err != nil {
			return fmt.Errorf("store write failed, nothing was written: %w", err)
		}
	}
	e.apply(t.changes, t.rv)
	return nil
}

// apply makes committed changes visible: indexes, version, event log and
// watchers, under one hold of mu.
func (e *engine) apply(changes []change, rv int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range changes {
		kind := c.kind.gvk.Kind
		ix := e.index(kind)
		var prev Object
		if c.typ == Modified {
			prev = ix.objs[c.key] // stored objects are never mutated: shared safely
		}
		if c.typ == Deleted {
			ix.remove(c.key)
		} else {
			ix.put(c.key, c.obj)
		}
		ev := Event{Type: c.typ, Object: c.obj, PrevObject: prev, ResourceVersion: c.rv}
		e.log.add(kind, ev)
		e.watchers.dispatch(kind, ev)
	}
	e.rv = rv
}

// Create implements Store.
func (e *engine) Create(ctx context.Context, obj Object) (Object, error) {
	var out Object
	err := e.Txn(ctx, func(t Txn) (err error) {
		out, err = t.Create(obj)
		return err
	})
	return out, err
}

// Update implements Store.
func (e *engine) Update(ctx context.Context, obj Object) (Object, error) {
	var out Object
	err := e.Txn(ctx, func(t Txn) (err error) {
		out, err = t.Update(obj)
		return err
	})
	return out, err
}

// Delete implements Store.
func (e *engine) Delete(ctx context.Context, kind, namespace, name string, opts DeleteOptions) error {
	return e.Txn(ctx, func(t Txn) error {
		return t.Delete(kind, namespace, name, opts)
	})
}

// markPodDeleted applies the API server's graceful deletion to a pod: done
// is false when the pod is to be removed now; otherwise marked is the pod
// with its deletionTimestamp set, or nil when it is terminating already
// (unlike Kubernetes, a second delete does not shorten the grace period;
// only 0, a force delete, does).
func (t *txn) markPodDeleted(pod *corev1.Pod, graceOpt *int64) (marked *corev1.Pod, done bool) {
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if graceOpt != nil {
		grace = *graceOpt
	}
	finished := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if grace <= 0 || pod.Spec.NodeName == "" || finished || !t.nodeExists(pod.Spec.NodeName) {
		return nil, false
	}
	if pod.DeletionTimestamp != nil {
		return nil, true // already terminating: its node finishes the job
	}
	marked = pod.DeepCopy()
	at := metav1.NewTime(t.e.clock.Now().Add(time.Duration(grace) * time.Second))
	marked.DeletionTimestamp, marked.DeletionGracePeriodSeconds = &at, &grace
	return marked, true
}

// nodeExists reports whether the store holds the Node name.
func (t *txn) nodeExists(name string) bool {
	k, err := knownKind("Node")
	return err == nil && t.lookup(k, objKey("", name)) != nil
}
