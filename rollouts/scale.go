package rollouts

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// ReplicaSetScale is one step of a plan: resize ReplicaSet from From to To
// replicas. Plans are ordered as upstream performs the writes; a ReplicaSet
// may appear twice in one plan (unhealthy cleanup, then scale-down), each
// step starting where the previous left it.
type ReplicaSetScale struct {
	ReplicaSet *appsv1.ReplicaSet
	From, To   int32
	// Force means write the ReplicaSet even when From == To, so its
	// desired-/max-replicas annotations catch up with the Deployment
	// (upstream's scaleReplicaSet forceUpdate, used by proportional scaling).
	Force bool
}

// ScaledReplicaSet applies s for d the way sync.go scaleReplicaSet does,
// without writing: it returns a deep copy of the ReplicaSet with spec.replicas
// = To and desired-/max-replicas set for d, whether that copy must be
// written, and whether the size changed (the condition for the
// ScalingReplicaSet event, see ScalingMessage). Without Force and with an
// unchanged size nothing is written.
func ScaledReplicaSet(d *appsv1.Deployment, s ReplicaSetScale) (rs *appsv1.ReplicaSet, write, sizeChanged bool) {
	cur := ReplicaSetReplicas(s.ReplicaSet)
	if !s.Force && cur == s.To {
		return s.ReplicaSet, false, false
	}
	replicas := DeploymentReplicas(d)
	maxReplicas := replicas + MaxSurge(d)
	sizeChanged = cur != s.To
	if !sizeChanged && !ReplicasAnnotationsNeedUpdate(s.ReplicaSet, replicas, maxReplicas) {
		return s.ReplicaSet, false, false
	}
	rs = s.ReplicaSet.DeepCopy()
	rs.Spec.Replicas = new(s.To)
	SetReplicasAnnotations(rs, replicas, maxReplicas)
	return rs, true, sizeChanged
}

// ScalingMessage is the ScalingReplicaSet event message for a resize of the
// named ReplicaSet: "Scaled up replica set NAME from 2 to 5" (sync.go
// scaleReplicaSet). Creating a ReplicaSet with n > 0 replicas reads
// "Scaled up replica set NAME from 0 to n".
func ScalingMessage(rsName string, from, to int32) string {
	op := "down"
	if from < to {
		op = "up"
	}
	return fmt.Sprintf("Scaled %s replica set %s from %d to %d", op, rsName, from, to)
}
