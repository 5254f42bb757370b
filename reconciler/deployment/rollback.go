package deployment

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// rollbackConflictRetries bounds how often Rollback re-reads a Deployment
// that the controller wrote between the read and the write. kubectl sends
// a JSON patch, which cannot conflict; berth's Update can, so it replans on
// the fresh object instead.
const rollbackConflictRetries = 5

// Rollback is `berth rollout undo deployment/NAME [--to-revision=N]`,
// kubectl's client-side undo: it finds the ReplicaSet of revision
// toRevision among those the Deployment owns (0: the previous revision)
// and writes its pod template (without pod-template-hash) and its
// annotations back into the Deployment. The Deployment controller then
// rolls forward to that template, reusing that ReplicaSet and giving it
// the next revision (its old one goes to revision-history).
//
// message is kubectl's, to print after "deployment.apps/NAME ": "rolled
// back", or "skipped rollback (current template already matches revision
// N)" when nothing had to change. Errors are kubectl's too: "unable to
// find specified revision N in history", `no rollout history found for
// deployment "NAME"`, and the refusal to roll back a paused Deployment.
func Rollback(ctx context.Context, st store.Store, namespace, name string, toRevision int64) (message string, err error) {
	return RollbackWith(ctx, st, namespace, name, toRevision, nil)
}

// RollbackWith is Rollback with edit applied to the Deployment it writes,
// in the same store update: edit gets the live Deployment and the rolled
// back copy about to be written, and may change the copy (the GitOps pin).
// It is called again on each retry after a conflict, with fresh objects,
// and never for a skipped rollback or an error. A nil edit is Rollback.
func RollbackWith(ctx context.Context, st store.Store, namespace, name string, toRevision int64, edit func(live, next *appsv1.Deployment)) (message string, err error) {
	if toRevision < 0 {
		// kubectl checks this before reading anything.
		_, err := rollouts.RollbackTarget(&appsv1.Deployment{}, nil, toRevision)
		return "", err
	}
	for i := 0; ; i++ {
		d, rss, err := readDeploymentHistory(ctx, st, namespace, name)
		if err != nil {
			return "", err
		}
		plan, err := rollouts.PlanRollback(d, rss, toRevision)
		if err != nil {
			return "", err
		}
		if plan.Skipped {
			return plan.Message, nil
		}
		next := plan.Apply(d)
		if edit != nil {
			edit(d, next)
		}
		_, err = st.Update(ctx, next)
		if err == nil {
			return plan.Message, nil
		}
		if !errors.Is(err, store.ErrConflict) || i >= rollbackConflictRetries {
			return "", fmt.Errorf("failed restoring revision %d: %v", toRevision, err)
		}
	}
}

// History is `berth rollout history deployment/NAME`: the Deployment's
// revisions in ascending order, one per ReplicaSet it owns, with their
// change-cause (render with rollouts.FormatHistory; pick one with
// rollouts.HistoryRevision).
func History(ctx context.Context, st store.Store, namespace, name string) ([]rollouts.HistoryEntry, error) {
	d, rss, err := readDeploymentHistory(ctx, st, namespace, name)
	if err != nil {
		return nil, err
	}
	return rollouts.History(d, rss), nil
}

// readDeploymentHistory reads a Deployment and the ReplicaSets it controls
// from the store (not a cache), as kubectl's GetAllReplicaSets does: those
// in its namespace its selector matches whose controller is the Deployment.
func readDeploymentHistory(ctx context.Context, st store.Store, namespace, name string) (*appsv1.Deployment, []*appsv1.ReplicaSet, error) {
	obj, err := st.Get(ctx, "Deployment", namespace, name)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to retrieve Deployment %s: %w", name, err)
	}
	d := obj.(*appsv1.Deployment)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("deployment %s/%s has invalid label selector: %v", d.Namespace, d.Name, err)
	}
	objs, _, err := st.List(ctx, "ReplicaSet", store.ListOptions{Namespace: namespace, Selector: sel})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to retrieve replica sets from deployment %s: %w", name, err)
	}
	var rss []*appsv1.ReplicaSet
	for _, o := range objs {
		rs := o.(*appsv1.ReplicaSet)
		if metav1.IsControlledBy(rs, d) {
			rss = append(rss, rs)
		}
	}
	return d, rss, nil
}

// rollback is the controller side of the deprecated
// deprecated.deployment.rollback.to annotation (extensions/v1beta1
// rollbackTo), still honoured as upstream does: restore the template of
// the requested revision (0: the previous one) and clear the annotation,
// with upstream's events.
func (c *Controller) rollback(ctx context.Context, d *appsv1.Deployment, rsList *replicaSets) error {
	newRS, oldRSs, err := c.getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)
	revision := *getRollbackTo(d)
	if revision == 0 {
		if revision = rollouts.LastRevision(allRSs); revision == 0 {
			c.recorder.Eventf(d, corev1.EventTypeWarning, rollouts.RollbackRevisionNotFound, "%s", "Unable to find last revision.")
			return c.updateDeploymentAndClearRollbackTo(ctx, d)
		}
	}
	for _, rs := range allRSs {
		if rs == nil {
			continue
		}
		v, err := rollouts.Revision(rs)
		if err != nil || v != revision {
			continue
		}
		performed := false
		if !rollouts.EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			rollouts.SetFromReplicaSetTemplate(d, rs.Spec.Template)
			// The change-cause and other annotations follow the template back,
			// or the Deployment's current ones would be copied onto rs.
			rollouts.SetDeploymentAnnotationsTo(d, rs)
			performed = true
		} else {
			c.recorder.Eventf(d, corev1.EventTypeWarning, rollouts.RollbackTemplateUnchanged,
				"The rollback revision contains the same template as current deployment %q", d.Name)
		}
		err = c.updateDeploymentAndClearRollbackTo(ctx, d)
		if performed && err == nil {
			c.recorder.Eventf(d, corev1.EventTypeNormal, rollouts.RollbackDone, "Rolled back deployment %q to revision %d", d.Name, revision)
		}
		return err
	}
	c.recorder.Eventf(d, corev1.EventTypeWarning, rollouts.RollbackRevisionNotFound, "%s", "Unable to find the revision to rollback to.")
	return c.updateDeploymentAndClearRollbackTo(ctx, d)
}

// updateDeploymentAndClearRollbackTo drops the rollback annotation and
// writes d.
func (c *Controller) updateDeploymentAndClearRollbackTo(ctx context.Context, d *appsv1.Deployment) error {
	delete(d.Annotations, appsv1.DeprecatedRollbackTo)
	return c.updateDeployment(ctx, d)
}

// getRollbackTo returns the revision the deprecated rollback annotation
// asks for, or nil when it is absent or not a number.
func getRollbackTo(d *appsv1.Deployment) *int64 {
	v := d.Annotations[appsv1.DeprecatedRollbackTo]
	if v == "" {
		return nil
	}
	rev, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &rev
}
