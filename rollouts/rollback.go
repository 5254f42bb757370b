package rollouts

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Messages of `rollout undo`, as kubectl prints them after "<kind>/<name> ".
const (
	RollbackSuccessMessage = "rolled back"
	rollbackSkippedFormat  = "skipped rollback (current template already matches revision %d)"
	// PausedRollbackMessage is the error for undoing a paused Deployment:
	// kubectl's, naming berth's own command (`berth rollout resume` also
	// lifts a pin, SPEC.md).
	PausedRollbackMessage = "you cannot rollback a paused deployment; resume it first with 'berth rollout resume' and try again"
)

// ownedInHistoryOrder lists rss as kubectl does: the old ReplicaSets oldest
// first, then the new one. Ties between equal revisions resolve by it.
func ownedInHistoryOrder(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	_, all := FindOldReplicaSets(d, rss)
	if newRS := FindNewReplicaSet(d, rss); newRS != nil {
		all = append(all, newRS)
	}
	return all
}

// RollbackTarget is the ReplicaSet `rollout undo --to-revision=N` restores
// (mirrors kubectl polymorphichelpers deploymentRevision). rss are the
// ReplicaSets d owns. N > 0 picks the ReplicaSet annotated with revision N,
// else "unable to find specified revision N in history" (also for N < 0).
// N == 0 picks the second-highest revision, else `no rollout history found
// for deployment "NAME"`. A ReplicaSet without a revision annotation counts
// as revision 0 and can be picked as the previous one, as in kubectl.
func RollbackTarget(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, toRevision int64) (*appsv1.ReplicaSet, error) {
	if toRevision < 0 {
		return nil, revisionNotFound(toRevision)
	}
	var latest, previous *appsv1.ReplicaSet
	latestRev, previousRev := int64(-1), int64(-1)
	for _, rs := range ownedInHistoryOrder(d, rss) {
		v, err := Revision(rs)
		if err != nil {
			continue
		}
		switch {
		case toRevision > 0:
			if v == toRevision {
				return rs, nil
			}
		case latestRev < v:
			previous, previousRev = latest, latestRev
			latest, latestRev = rs, v
		case previousRev < v:
			previous, previousRev = rs, v
		}
	}
	if toRevision > 0 {
		return nil, revisionNotFound(toRevision)
	}
	if previous == nil {
		return nil, fmt.Errorf("no rollout history found for deployment %q", d.Name)
	}
	return previous, nil
}

// revisionNotFound is kubectl's revisionNotFoundErr.
func revisionNotFound(rev int64) error {
	return fmt.Errorf("unable to find specified revision %d in history", rev)
}

// RollbackPlan is what `rollout undo` writes to a Deployment.
type RollbackPlan struct {
	// Target is the ReplicaSet whose template comes back.
	Target *appsv1.ReplicaSet
	// Skipped: d's template already equals Target's (EqualIgnoreHash);
	// nothing is written.
	Skipped bool
	// Template is Target's pod template without pod-template-hash: the new
	// spec.template.
	Template corev1.PodTemplateSpec
	// Annotations replace d's annotations (RollbackAnnotations): d's
	// revision and other skipped ones stay, Target's change-cause and the
	// rest come back.
	Annotations map[string]string
	// Message is kubectl's summary: "rolled back", or "skipped rollback
	// (current template already matches revision N)" with N as requested
	// (0 when no revision was given).
	Message string
}

// PlanRollback plans `rollout undo --to-revision=toRevision` (0: the
// previous revision) as kubectl's DeploymentRollbacker does, in its order:
// find the target (RollbackTarget's errors), refuse a paused Deployment
// (PausedRollbackMessage), skip when the template already matches. The
// controller then rolls forward to the restored template: FindNewReplicaSet
// adopts Target and SetNewReplicaSetAnnotations gives it the next revision,
// recording its old one in revision-history.
func PlanRollback(d *appsv1.Deployment, rss []*appsv1.ReplicaSet, toRevision int64) (RollbackPlan, error) {
	target, err := RollbackTarget(d, rss, toRevision)
	if err != nil {
		return RollbackPlan{}, err
	}
	if d.Spec.Paused {
		return RollbackPlan{}, fmt.Errorf("%s", PausedRollbackMessage)
	}
	if EqualIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		return RollbackPlan{Target: target, Skipped: true, Message: fmt.Sprintf(rollbackSkippedFormat, toRevision)}, nil
	}
	template := *target.Spec.Template.DeepCopy()
	template.Labels = cloneAndRemove(template.Labels, PodTemplateHashLabel)
	return RollbackPlan{
		Target:      target,
		Template:    template,
		Annotations: RollbackAnnotations(d, target),
		Message:     RollbackSuccessMessage,
	}, nil
}

// Apply returns a copy of d with the plan written (template and
// annotations), or d's copy unchanged for a skipped plan.
func (p RollbackPlan) Apply(d *appsv1.Deployment) *appsv1.Deployment {
	out := d.DeepCopy()
	if p.Skipped {
		return out
	}
	out.Spec.Template = *p.Template.DeepCopy()
	out.Annotations = make(map[string]string, len(p.Annotations))
	for k, v := range p.Annotations {
		out.Annotations[k] = v
	}
	return out
}
