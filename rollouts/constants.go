package rollouts

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Annotation keys and labels the Deployment controller reads and writes; the
// values are upstream's, so objects move between berth and Kubernetes intact.
const (
	// RevisionAnnotation records a ReplicaSet's (and the Deployment's) place in
	// the rollout sequence.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists, comma separated, the earlier revisions a
	// ReplicaSet served before a rollback made it new again.
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is spec.replicas of the Deployment when the
	// ReplicaSet was last scaled; a mismatch marks a scaling event.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is spec.replicas + maxSurge of the Deployment when
	// the ReplicaSet was last scaled; proportional scaling divides by it.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// ChangeCauseAnnotation is what `rollout history` shows as CHANGE-CAUSE.
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
	// PodDeletionCostAnnotation ranks pods for deletion on scale-down (lower
	// cost goes first).
	PodDeletionCostAnnotation = corev1.PodDeletionCost
	// PodTemplateHashLabel is the label (and selector term) that ties a
	// ReplicaSet and its pods to one pod template.
	PodTemplateHashLabel = appsv1.DefaultDeploymentUniqueLabelKey

	// MaxRevisionHistoryLengthInChars caps revision-history (about 100
	// entries), as upstream's sync.go does.
	MaxRevisionHistoryLengthInChars = 2000
)

// Condition reasons, exactly as upstream's deployment util sets them.
const (
	// ReplicaSetUpdatedReason: Progressing=True while the rollout moves.
	ReplicaSetUpdatedReason = "ReplicaSetUpdated"
	// FailedRSCreateReason: Progressing=False when the new ReplicaSet could not be created.
	FailedRSCreateReason = "ReplicaSetCreateError"
	// NewReplicaSetReason: Progressing=True when a new ReplicaSet was created.
	NewReplicaSetReason = "NewReplicaSetCreated"
	// FoundNewRSReason: Progressing=True when an existing ReplicaSet is adopted as the new one.
	FoundNewRSReason = "FoundNewReplicaSet"
	// NewRSAvailableReason: Progressing=True when the rollout completed.
	NewRSAvailableReason = "NewReplicaSetAvailable"
	// TimedOutReason: Progressing=False after progressDeadlineSeconds without progress.
	TimedOutReason = "ProgressDeadlineExceeded"
	// PausedDeployReason: Progressing=Unknown while paused.
	PausedDeployReason = "DeploymentPaused"
	// ResumedDeployReason: Progressing=Unknown right after resuming.
	ResumedDeployReason = "DeploymentResumed"
	// MinimumReplicasAvailable: Available=True.
	MinimumReplicasAvailable = "MinimumReplicasAvailable"
	// MinimumReplicasUnavailable: Available=False.
	MinimumReplicasUnavailable = "MinimumReplicasUnavailable"
)

// Event reasons the Deployment controller records (upstream's strings).
const (
	// ScalingReplicaSetReason is the Normal event for every ReplicaSet resize.
	ScalingReplicaSetReason = "ScalingReplicaSet"
	// RollbackRevisionNotFound is the Warning event of the legacy rollback annotation path.
	RollbackRevisionNotFound = "DeploymentRollbackRevisionNotFound"
	// RollbackTemplateUnchanged is the Warning event when the target template is already current.
	RollbackTemplateUnchanged = "DeploymentRollbackTemplateUnchanged"
	// RollbackDone is the Normal event after a rollback.
	RollbackDone = "DeploymentRollback"
	// SelectingAllReason is the Warning event for an empty selector.
	SelectingAllReason = "SelectingAll"
	// SelectingAllMessage goes with SelectingAllReason.
	SelectingAllMessage = "This deployment is selecting all pods. A non-empty selector is required."
)

// SkipCopyAnnotation reports whether key stays on the Deployment only: never
// copied to its ReplicaSets, nor back from a ReplicaSet on rollback (mirrors
// upstream's annotationsToSkip, shared by the controller and kubectl). A
// switch rather than a map keeps the list immutable.
func SkipCopyAnnotation(key string) bool {
	switch key {
	case corev1.LastAppliedConfigAnnotation,
		RevisionAnnotation,
		RevisionHistoryAnnotation,
		DesiredReplicasAnnotation,
		MaxReplicasAnnotation,
		appsv1.DeprecatedRollbackTo:
		return true
	}
	// berth's own GitOps bookkeeping (the source's last-applied manifest,
	// revision, pins) describes the Deployment, not a revision of it, as
	// kubectl's last-applied-configuration above.
	return strings.HasPrefix(key, "berth.io/")
}
