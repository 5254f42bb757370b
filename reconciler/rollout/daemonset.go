package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// daemonSetWorkload is kubectl's rollout support for DaemonSets: undo,
// restart and history from the ControllerRevisions the DaemonSet
// controller keeps; no pause (a DaemonSet has no spec.paused).
func daemonSetWorkload() *workload {
	return &workload{
		kind: "DaemonSet",
		undo: undoDaemonSet,
		restart: func(obj store.Object, now time.Time) error {
			stampRestart(&obj.(*appsv1.DaemonSet).Spec.Template, now)
			return nil
		},
		history: daemonSetHistory,
	}
}

// undoDaemonSet is kubectl's DaemonSetRollbacker: the revision numbered
// toRevision (0: the one before the newest) has its stored template put
// back into the DaemonSet, whose controller then rolls to it and gives
// that revision the next number. A template that already matches is
// skipped. berth's Update can conflict where kubectl's patch cannot: on a
// conflict it reads and plans again.
func undoDaemonSet(ctx context.Context, st store.Store, namespace, name string, toRevision int64, edit func(live, next store.Object)) (string, error) {
	if toRevision < 0 {
		_, err := rollouts.DaemonSetRollbackTarget(nil, toRevision)
		return "", err
	}
	for i := 0; ; i++ {
		ds, revs, err := readDaemonSetHistory(ctx, st, namespace, name)
		if err != nil {
			return "", err
		}
		target, err := rollouts.DaemonSetRollbackTarget(revs, toRevision)
		if err != nil {
			return "", err
		}
		if match, err := rollouts.DaemonSetRevisionMatches(ds, target); err != nil {
			return "", err
		} else if match {
			return rollouts.DaemonSetRollbackSkippedMessage(toRevision), nil
		}
		template, err := rollouts.DaemonSetRevisionTemplate(target)
		if err != nil {
			return "", err
		}
		next := ds.DeepCopy()
		next.Spec.Template = template
		edit(ds, next)
		_, err = st.Update(ctx, next)
		if err == nil {
			return rollouts.RollbackSuccessMessage, nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= conflictRetries {
			return "", fmt.Errorf("failed restoring revision %d: %v", toRevision, err)
		}
	}
}

// daemonSetHistory is kubectl's DaemonSetHistoryViewer: one revision per
// ControllerRevision, oldest first, with its change-cause annotation and
// the template it stores.
func daemonSetHistory(ctx context.Context, st store.Store, namespace, name string) ([]api.Revision, error) {
	_, revs, err := readDaemonSetHistory(ctx, st, namespace, name)
	if err != nil {
		return nil, err
	}
	rollouts.SortRevisions(revs)
	out := make([]api.Revision, 0, len(revs))
	for _, r := range revs {
		t, err := rollouts.DaemonSetRevisionTemplate(r)
		if err != nil {
			return nil, err
		}
		text, err := templateYAML(&t)
		if err != nil {
			return nil, fmt.Errorf("render revision %d of daemon set %s: %w", r.Revision, name, err)
		}
		out = append(out, api.Revision{Revision: r.Revision, ChangeCause: r.Annotations[rollouts.ChangeCauseAnnotation], Template: text})
	}
	return out, nil
}

// readDaemonSetHistory reads a DaemonSet and the ControllerRevisions it
// controls from the store, as kubectl's daemonSetHistory does: those in
// its namespace its selector matches whose controller is the DaemonSet.
func readDaemonSetHistory(ctx context.Context, st store.Store, namespace, name string) (*appsv1.DaemonSet, []*appsv1.ControllerRevision, error) {
	obj, err := st.Get(ctx, "DaemonSet", namespace, name)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to retrieve DaemonSet %s: %w", name, err)
	}
	ds := obj.(*appsv1.DaemonSet)
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("daemonset %s/%s has invalid label selector: %v", namespace, name, err)
	}
	objs, _, err := st.List(ctx, "ControllerRevision", store.ListOptions{Namespace: namespace, Selector: sel})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to retrieve history of daemon set %s: %w", name, err)
	}
	var revs []*appsv1.ControllerRevision
	for _, o := range objs {
		if r := o.(*appsv1.ControllerRevision); metav1.IsControlledBy(r, ds) {
			revs = append(revs, r)
		}
	}
	return ds, revs, nil
}
