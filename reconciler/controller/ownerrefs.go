package controller

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
)

// The adoption and release of dependents, shared by every controller that
// owns objects (upstream's ControllerRefManager): a ReplicaSet adopts
// orphan pods that match its selector, a Deployment orphan ReplicaSets.
// Each write re-reads the object from the store and retries a conflict a
// few times, since it races the object's other writers (its node, the
// user).

// ConflictRetries bounds the re-reads when a write races another writer;
// past it the conflict is returned and the key retried with backoff.
const ConflictRetries = 3

// Fresh re-reads obj (of kind) from st. An object replaced by another of
// the same name counts as gone (store.ErrNotFound).
func Fresh(ctx context.Context, st store.Store, kind string, obj store.Object) (store.Object, error) {
	m := metaOf(obj)
	cur, err := st.Get(ctx, kind, m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	if metaOf(cur).GetUID() != m.GetUID() {
		return nil, fmt.Errorf("%s %s/%s was replaced: %w", kind, m.GetNamespace(), m.GetName(), store.ErrNotFound)
	}
	return cur, nil
}

// RecheckCanAdopt re-reads owner (of kind) from the store before a first
// adoption: an owner being deleted, or replaced by another of the same
// name, must not adopt (upstream's RecheckDeletionTimestamp).
func RecheckCanAdopt(ctx context.Context, st store.Store, kind string, owner metav1.Object) error {
	cur, err := st.Get(ctx, kind, owner.GetNamespace(), owner.GetName())
	if err != nil {
		return err
	}
	fresh := metaOf(cur)
	if fresh.GetUID() != owner.GetUID() {
		return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s", kind, owner.GetNamespace(), owner.GetName(), fresh.GetUID(), owner.GetUID())
	}
	if fresh.GetDeletionTimestamp() != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", owner.GetNamespace(), owner.GetName(), fresh.GetDeletionTimestamp())
	}
	return nil
}

// Adopt makes owner (of ownerKind) the controller of the orphan obj (of
// kind) and returns obj as stored; nil, nil when obj found a controller
// meanwhile.
func Adopt(ctx context.Context, st store.Store, kind string, obj store.Object, owner metav1.Object, ownerKind schema.GroupVersionKind) (store.Object, error) {
	for i := 0; ; i++ {
		cur, err := Fresh(ctx, st, kind, obj)
		if err != nil {
			return nil, err
		}
		m := metaOf(cur)
		if metav1.GetControllerOfNoCopy(m) != nil {
			return nil, nil
		}
		m.SetOwnerReferences(append(m.GetOwnerReferences(), *metav1.NewControllerRef(owner, ownerKind)))
		updated, err := st.Update(ctx, cur)
		if err == nil {
			return updated, nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= ConflictRetries {
			return nil, err
		}
	}
}

// Release removes obj's (of kind) ownerReference to ownerUID, from an
// object its owner's selector no longer matches.
func Release(ctx context.Context, st store.Store, kind string, obj store.Object, ownerUID types.UID) error {
	for i := 0; ; i++ {
		cur, err := Fresh(ctx, st, kind, obj)
		if err != nil {
			return err
		}
		m := metaOf(cur)
		refs := m.GetOwnerReferences()
		kept := refs[:0:0]
		for _, r := range refs {
			if r.UID != ownerUID {
				kept = append(kept, r)
			}
		}
		if len(kept) == len(refs) {
			return nil
		}
		m.SetOwnerReferences(kept)
		_, err = st.Update(ctx, cur)
		if err == nil || !errors.Is(err, store.ErrConflict) || i >= ConflictRetries {
			return err
		}
	}
}

// ResolveControllerRef returns the cached owner a controller reference
// names: of kind, in namespace, with the reference's UID (an owner
// recreated under the same name is another owner); nil otherwise.
func ResolveControllerRef(owners Lister, kind, namespace string, ref *metav1.OwnerReference) store.Object {
	if ref == nil || ref.Kind != kind {
		return nil
	}
	obj, ok := owners.Get(namespace, ref.Name)
	if !ok || metaOf(obj).GetUID() != ref.UID {
		return nil
	}
	return obj
}

// SelectingOwners returns the cached owners in namespace whose selector
// (selectorOf) matches objLabels: those that may adopt an orphan (upstream's
// GetPodReplicaSets, GetDeploymentsForReplicaSet). A nil or empty selector
// matches nothing, nor do empty labels.
func SelectingOwners(owners Lister, namespace string, objLabels map[string]string, selectorOf func(store.Object) *metav1.LabelSelector) []store.Object {
	if len(objLabels) == 0 {
		return nil
	}
	var out []store.Object
	for _, obj := range owners.List(namespace, nil) {
		sel, err := metav1.LabelSelectorAsSelector(selectorOf(obj))
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(objLabels)) {
			continue
		}
		out = append(out, obj)
	}
	return out
}
