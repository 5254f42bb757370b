package daemonset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// claimer adopts and releases the objects of one kind for one DaemonSet
// (upstream's ControllerRefManager): of the candidates it returns those
// the DaemonSet controls after adopting orphans its selector matches and
// releasing owned objects it no longer matches. Objects controlled by
// someone else are ignored. A DaemonSet being deleted adopts and releases
// nothing.
type claimer struct {
	st       store.Store
	ds       *appsv1.DaemonSet
	sel      labels.Selector
	canAdopt *error // checked at most once, on the first adoption
}

func (c *claimer) claim(ctx context.Context, kind string, candidates []store.Object) ([]store.Object, error) {
	var claimed []store.Object
	var errs []error
	for _, obj := range candidates {
		m, err := meta.Accessor(obj)
		if err != nil {
			continue
		}
		match := c.sel.Matches(labels.Set(m.GetLabels()))
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			if ref.UID != c.ds.UID {
				continue
			}
			if match {
				claimed = append(claimed, obj)
				continue
			}
			if c.ds.DeletionTimestamp != nil {
				continue
			}
			if err := controller.Release(ctx, c.st, kind, obj, c.ds.UID); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if c.ds.DeletionTimestamp != nil || !match || m.GetDeletionTimestamp() != nil || m.GetNamespace() != c.ds.Namespace {
			continue
		}
		if c.canAdopt == nil {
			err := controller.RecheckCanAdopt(ctx, c.st, "DaemonSet", c.ds)
			c.canAdopt = &err
		}
		if *c.canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt %s %s/%s (%s): %w", kind, m.GetNamespace(), m.GetName(), m.GetUID(), *c.canAdopt))
			continue
		}
		adopted, err := controller.Adopt(ctx, c.st, kind, obj, c.ds, dsKind)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		if adopted != nil {
			claimed = append(claimed, adopted)
		}
	}
	return claimed, errors.Join(errs...)
}

// candidates returns the cached objects of lister that ds controls and
// the orphans in its namespace its selector matches.
func candidates(lister controller.Lister, ds *appsv1.DaemonSet, sel labels.Selector) []store.Object {
	var out []store.Object
	for _, obj := range lister.ByOwner(ds.UID) {
		if ref := metav1.GetControllerOfNoCopy(obj.(metav1.Object)); ref != nil && ref.UID == ds.UID {
			out = append(out, obj)
		}
	}
	for _, obj := range lister.Orphans(ds.Namespace) {
		if sel.Matches(labels.Set(obj.(metav1.Object).GetLabels())) {
			out = append(out, obj)
		}
	}
	return out
}

// claimPods returns the pods ds controls (upstream's getDaemonPods).
func (c *Controller) claimPods(ctx context.Context, cl *claimer) ([]*corev1.Pod, error) {
	objs, err := cl.claim(ctx, "Pod", candidates(c.pods, cl.ds, cl.sel))
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		pods = append(pods, o.(*corev1.Pod))
	}
	return pods, err
}

// claimRevisions returns the ControllerRevisions ds controls (upstream's
// controlledHistories).
func (c *Controller) claimRevisions(ctx context.Context, cl *claimer) ([]*appsv1.ControllerRevision, error) {
	objs, err := cl.claim(ctx, "ControllerRevision", candidates(c.revisions, cl.ds, cl.sel))
	revs := make([]*appsv1.ControllerRevision, 0, len(objs))
	for _, o := range objs {
		revs = append(revs, o.(*appsv1.ControllerRevision))
	}
	return revs, err
}
