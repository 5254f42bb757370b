package daemonset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// hashLabel is the label naming a revision on ControllerRevisions and pods.
const hashLabel = appsv1.DefaultDaemonSetUniqueLabelKey

// constructHistory sorts the DaemonSet's revisions into the current one
// (storing its template) and the old ones, creating the current one
// (numbered one past the old ones) when the template is new and
// renumbering it when an old template comes back (upstream's
// constructHistory). Revisions without the hash label get it, from their
// name.
func (c *Controller) constructHistory(ctx context.Context, ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision) (cur *appsv1.ControllerRevision, old []*appsv1.ControllerRevision, err error) {
	var current []*appsv1.ControllerRevision
	for _, r := range revs {
		if _, ok := r.Labels[hashLabel]; !ok {
			next := r.DeepCopy()
			if next.Labels == nil {
				next.Labels = map[string]string{}
			}
			next.Labels[hashLabel] = next.Name
			obj, err := c.store.Update(ctx, next)
			if err != nil {
				return nil, nil, err
			}
			r = obj.(*appsv1.ControllerRevision)
		}
		match, err := rollouts.DaemonSetRevisionMatches(ds, r)
		if err != nil {
			return nil, nil, err
		}
		if match {
			current = append(current, r)
		} else {
			old = append(old, r)
		}
	}
	next := rollouts.MaxRevisionNumber(old) + 1
	if len(current) == 0 {
		cur, err = c.snapshot(ctx, ds, next)
		return cur, old, err
	}
	cur, err = c.dedupCurrent(ctx, ds, current)
	if err != nil {
		return nil, nil, err
	}
	if cur.Revision < next {
		renumbered := cur.DeepCopy()
		renumbered.Revision = next
		obj, err := c.store.Update(ctx, renumbered)
		if err != nil {
			return nil, nil, err
		}
		cur = obj.(*appsv1.ControllerRevision)
	}
	return cur, old, nil
}

// snapshot creates the revision of ds's current template, named
// "<ds>-<hash>" (upstream's snapshot). A revision of that name that
// stores the same template is reused; one that stores another template is
// a hash collision: status.collisionCount goes up and the sync fails, to
// try the next name.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, revision int64) (*appsv1.ControllerRevision, error) {
	patch, err := rollouts.DaemonSetPatch(ds)
	if err != nil {
		return nil, err
	}
	hash := rollouts.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	rev := &appsv1.ControllerRevision{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            ds.Name + "-" + hash,
			Namespace:       ds.Namespace,
			Labels:          withLabel(ds.Spec.Template.Labels, hashLabel, hash),
			Annotations:     revisionAnnotations(ds.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, dsKind)},
		},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: revision,
	}
	obj, err := c.store.Create(ctx, rev)
	if err == nil {
		return obj.(*appsv1.ControllerRevision), nil
	}
	if !errors.Is(err, store.ErrAlreadyExists) {
		return nil, err
	}
	existing, getErr := c.store.Get(ctx, "ControllerRevision", ds.Namespace, rev.Name)
	if getErr != nil {
		return nil, getErr
	}
	if ok, _ := rollouts.DaemonSetRevisionMatches(ds, existing.(*appsv1.ControllerRevision)); ok {
		return existing.(*appsv1.ControllerRevision), nil
	}
	fresh, getErr := c.store.Get(ctx, "DaemonSet", ds.Namespace, ds.Name)
	if getErr != nil {
		return nil, getErr
	}
	curDS := fresh.(*appsv1.DaemonSet)
	if !reflect.DeepEqual(curDS.Status.CollisionCount, ds.Status.CollisionCount) {
		return nil, fmt.Errorf("found a stale collision count (%v, expected %v) of DaemonSet %q while processing; will retry until it is updated",
			ds.Status.CollisionCount, curDS.Status.CollisionCount, ds.Name)
	}
	count := int32(0)
	if curDS.Status.CollisionCount != nil {
		count = *curDS.Status.CollisionCount
	}
	count++
	curDS.Status.CollisionCount = &count
	if _, updateErr := c.store.Update(ctx, curDS); updateErr != nil {
		return nil, updateErr
	}
	return nil, fmt.Errorf("hash collision on ControllerRevision %s: %w", rev.Name, err)
}

// dedupCurrent keeps, of several revisions storing the current template,
// the newest; the others are deleted after the pods carrying their hash
// are relabelled (upstream's dedupCurHistories).
func (c *Controller) dedupCurrent(ctx context.Context, ds *appsv1.DaemonSet, current []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	keep := rollouts.NewestRevision(current)
	if len(current) == 1 {
		return keep, nil
	}
	keepHash := keep.Labels[hashLabel]
	for _, dup := range current {
		if dup.Name == keep.Name {
			continue
		}
		dupHash := dup.Labels[hashLabel]
		for _, obj := range c.pods.ByOwner(ds.UID) {
			pod := obj.(*corev1.Pod)
			if pod.Labels[hashLabel] != dupHash {
				continue
			}
			next := pod.DeepCopy()
			next.Labels[hashLabel] = keepHash
			if _, err := c.store.Update(ctx, next); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		err := c.store.Delete(ctx, "ControllerRevision", dup.Namespace, dup.Name, store.DeleteOptions{UID: string(dup.UID)})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return keep, nil
}

// cleanupHistory deletes old revisions beyond spec.revisionHistoryLimit,
// oldest first, never one a live pod still runs (upstream's
// cleanupHistory).
func (c *Controller) cleanupHistory(ctx context.Context, ds *appsv1.DaemonSet, pods []*corev1.Pod, old []*appsv1.ControllerRevision) error {
	limit := int32(10)
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = *ds.Spec.RevisionHistoryLimit
	}
	live := map[string]bool{}
	for _, p := range pods {
		if h := p.Labels[hashLabel]; h != "" {
			live[h] = true
		}
	}
	for _, r := range rollouts.RevisionsToCleanup(old, limit, live) {
		err := c.store.Delete(ctx, "ControllerRevision", r.Namespace, r.Name, store.DeleteOptions{UID: string(r.UID)})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("failed to clean up revisions of DaemonSet: %w", err)
		}
	}
	return nil
}

// revisionAnnotations are the DaemonSet's annotations a revision keeps
// (upstream copies them all: the change-cause is what `rollout history`
// shows). berth's GitOps bookkeeping describes the live object, not a
// revision of it, and stays behind.
func revisionAnnotations(ann map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range ann {
		if !strings.HasPrefix(k, "berth.io/") {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[k] = v
	return out
}
