// Package rollouts holds the pure rollout logic, without I/O: resolving
// maxSurge and maxUnavailable, planning the next rolling step, revision
// numbering, history limits, picking a rollback target and DaemonSet rolling
// math. It arrives with the engine; see ARCHITECTURE.md.
//
// Everything here mirrors the Kubernetes Deployment controller
// (pkg/controller/deployment and its util package, pkg/controller's
// controller_utils.go) and kubectl's `rollout undo` and `rollout history`
// (k8s.io/kubectl polymorphichelpers), read at v1.37: same rounding, same
// orders, same annotations, reasons and messages. Each exported name says
// which upstream function it mirrors. Functions take typed k8s.io/api objects
// and plain values, read no clock (now is a parameter) and perform no
// writes: where upstream scales or deletes, these return a plan
// ([]ReplicaSetScale, Step) for the controller to apply. Inputs are never
// reordered; functions documented as setting something (Set*, Check*,
// SyncExisting*, Record*) modify only the object passed for that purpose.
// Objects are expected to be defaulted (workloads.Default); a nil replicas
// counts as 1 and a nil maxSurge/maxUnavailable as 25%, the API defaults.
//
// Files, one job each:
//
//	constants.go      annotation keys, condition and event reasons
//	fenceposts.go     ResolveFenceposts, MaxSurge, MaxUnavailable, MinAvailable
//	replicasets.go    new/old ReplicaSets, orders, replica sums, EqualIgnoreHash
//	newreplicaset.go  building the new ReplicaSet, adopting an existing one
//	hash.go           ComputeHash (pod-template-hash)
//	revisions.go      revision numbers, revision-history, replica annotations
//	scale.go          ReplicaSetScale plans and applying one step
//	rolling.go        RollingUpdate: NewRSNewReplicas, scale-down budget, RollingStep
//	recreate.go       Recreate: OldPodsRunning, RecreateStep
//	proportional.go   scaling events and paused resizes: ScalePlan
//	cleanup.go        revisionHistoryLimit: ReplicaSetsToCleanup
//	status.go         CalculateStatus, complete/progressing/timed out
//	conditions.go     condition helpers and upstream's exact messages
//	progress.go       RolloutStatus, RequeueAfter, CheckPausedConditions
//	rollback.go       `rollout undo`: RollbackTarget, PlanRollback
//	legacyrollback.go the deprecated.deployment.rollback.to annotation
//	history.go        `rollout history`: History, FormatHistory
//	podranking.go     pod availability and which pods a ReplicaSet deletes first
//
// A Deployment sync, in upstream's order (deployment_controller.go): an empty
// selector only bumps observedGeneration (SelectingAllReason); a Deployment
// being deleted only gets its status (CalculateStatus); CheckPausedConditions;
// paused: ScalePlan, ReplicaSetsToCleanup (unless a rollback annotation is
// pending), CalculateStatus; the rollback annotation: LegacyRollback;
// IsScalingEvent: ScalePlan, CalculateStatus; otherwise RollingStep or
// RecreateStep, then RolloutStatus and RequeueAfter. Every path first
// refreshes an existing new ReplicaSet (SyncExistingNewReplicaSet);
// RollingUpdate and the rollback annotation create a missing one up front
// (NewReplicaSet, HashCollision, RecordNewReplicaSet), Recreate when its Step
// asks.
package rollouts
