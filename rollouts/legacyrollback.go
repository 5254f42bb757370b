package rollouts

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// RollbackToAnnotation reads the deprecated.deployment.rollback.to
// annotation (the old spec.rollbackTo); ok is false when it is absent, empty
// or not an integer, which upstream ignores (mirrors rollback.go getRollbackTo).
func RollbackToAnnotation(d *appsv1.Deployment) (revision int64, ok bool) {
	v := d.Annotations[appsv1.DeprecatedRollbackTo]
	if v == "" {
		return 0, false
	}
	r, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return r, true
}

// LegacyRollbackResult is what the controller does for the rollback
// annotation: write Deployment (a full update, not a status update) and
// record one event.
type LegacyRollbackResult struct {
	Deployment              *appsv1.Deployment
	EventType, Reason, Text string
}

// LegacyRollback handles a Deployment carrying the deprecated rollback
// annotation, as the controller's rollback.go does (after creating the new
// ReplicaSet if missing; allRSs are the old ones then the new one). Revision
// 0 means LastRevision. The target's template (minus pod-template-hash) and
// annotations (RollbackAnnotations) are restored, or nothing when the
// template already matches; the annotation is always cleared. Events:
// Normal DeploymentRollback `Rolled back deployment "D" to revision N`;
// Warning DeploymentRollbackRevisionNotFound "Unable to find last
// revision." or "Unable to find the revision to rollback to."; Warning
// DeploymentRollbackTemplateUnchanged `The rollback revision contains the
// same template as current deployment "D"`. ok is false without a usable
// annotation.
func LegacyRollback(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet) (res LegacyRollbackResult, ok bool) {
	rev, ok := RollbackToAnnotation(d)
	if !ok {
		return LegacyRollbackResult{}, false
	}
	out := d.DeepCopy()
	done := func(eventType, reason, text string) (LegacyRollbackResult, bool) {
		delete(out.Annotations, appsv1.DeprecatedRollbackTo)
		return LegacyRollbackResult{Deployment: out, EventType: eventType, Reason: reason, Text: text}, true
	}
	if rev == 0 {
		if rev = LastRevision(allRSs); rev == 0 {
			return done(corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find last revision.")
		}
	}
	for _, rs := range allRSs {
		if rs == nil {
			continue
		}
		if v, err := Revision(rs); err != nil || v != rev {
			continue
		}
		if EqualIgnoreHash(&out.Spec.Template, &rs.Spec.Template) {
			return done(corev1.EventTypeWarning, RollbackTemplateUnchanged,
				fmt.Sprintf("The rollback revision contains the same template as current deployment %q", d.Name))
		}
		SetFromReplicaSetTemplate(out, rs.Spec.Template)
		SetDeploymentAnnotationsTo(out, rs)
		return done(corev1.EventTypeNormal, RollbackDone, fmt.Sprintf("Rolled back deployment %q to revision %d", d.Name, rev))
	}
	return done(corev1.EventTypeWarning, RollbackRevisionNotFound, "Unable to find the revision to rollback to.")
}
