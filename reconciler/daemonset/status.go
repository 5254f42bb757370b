package daemonset

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/scheduler"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
)

// NodesEligibleCondition (berth's) is False while no node admits the
// DaemonSet's pod, with the reasons in the scheduler's words; it is
// removed once one does.
const NodesEligibleCondition appsv1.DaemonSetConditionType = "NodesEligible"

// calculateStatus is upstream's updateDaemonSetStatus arithmetic: over the
// nodes that should run a pod, how many have one (current), whose oldest
// pod is Ready, available for minReadySeconds, and of the current
// revision (updated); pods on other nodes are misscheduled.
func calculateStatus(s *syncState) appsv1.DaemonSetStatus {
	st := *s.ds.Status.DeepCopy()
	byNode := podsByNode(s.pods, false)
	var desired, current, misscheduled, ready, updated, available int32
	for _, n := range s.nodes {
		pods := byNode[n.Name]
		if !s.placement[n.Name].shouldRun {
			if len(pods) > 0 {
				misscheduled++
			}
			continue
		}
		desired++
		if len(pods) == 0 {
			continue
		}
		current++
		sortOldestFirst(pods)
		pod := pods[0]
		if rollouts.IsPodReady(pod) {
			ready++
			if rollouts.IsPodAvailable(pod, s.ds.Spec.MinReadySeconds, s.now) {
				available++
			}
		}
		if rollouts.IsDaemonPodUpdated(pod, s.hash, s.generation) {
			updated++
		}
	}
	st.DesiredNumberScheduled = desired
	st.CurrentNumberScheduled = current
	st.NumberMisscheduled = misscheduled
	st.NumberReady = ready
	st.UpdatedNumberScheduled = updated
	st.NumberAvailable = available
	st.NumberUnavailable = desired - available
	st.Conditions = eligibilityConditions(st.Conditions, s)
	return st
}

// eligibilityConditions sets or clears NodesEligibleCondition.
func eligibilityConditions(conds []appsv1.DaemonSetCondition, s *syncState) []appsv1.DaemonSetCondition {
	var kept []appsv1.DaemonSetCondition
	var prev *appsv1.DaemonSetCondition
	for i := range conds {
		if conds[i].Type == NodesEligibleCondition {
			prev = &conds[i]
			continue
		}
		kept = append(kept, conds[i])
	}
	msg, none := noEligibleNodesMessage(s)
	if !none {
		return kept
	}
	cond := appsv1.DaemonSetCondition{
		Type: NodesEligibleCondition, Status: corev1.ConditionFalse,
		Reason: NoEligibleNodesReason, Message: msg, LastTransitionTime: metav1.NewTime(s.now),
	}
	if prev != nil && prev.Status == cond.Status {
		cond.LastTransitionTime = prev.LastTransitionTime
	}
	return append(kept, cond)
}

// noEligibleNodesMessage says, as the scheduler's FailedScheduling does,
// why no node admits the pod: "0/3 nodes are available: 3 node(s) didn't
// match Pod's node affinity/selector."; none is false when some node does.
func noEligibleNodesMessage(s *syncState) (msg string, none bool) {
	if len(s.nodes) == 0 {
		return scheduler.ErrNoNodes.Error(), true
	}
	fe := &scheduler.FitError{NumAllNodes: len(s.nodes), Reasons: map[string]int{}}
	for _, n := range s.nodes {
		pl := s.placement[n.Name]
		if pl.shouldRun {
			return "", false
		}
		fe.Reasons[pl.reason]++
	}
	return fe.Error(), true
}

// updateStatus writes the status (and the template generation annotation)
// unless the stored DaemonSet already says the same; observedGeneration
// moves only when this sync acted on the generation (upstream's
// storeDaemonSetStatus, with its one retry on a conflict).
func (c *Controller) updateStatus(ctx context.Context, s *syncState, st appsv1.DaemonSetStatus, observed bool) error {
	ds := s.ds
	if observed {
		st.ObservedGeneration = ds.Generation
	}
	genValue := ""
	if s.generation != nil {
		genValue = strconv.FormatInt(*s.generation, 10)
	}
	if reflect.DeepEqual(ds.Status, st) && ds.Annotations[appsv1.DeprecatedTemplateGeneration] == genValue {
		return nil
	}
	cur := ds.DeepCopy()
	for i := 0; ; i++ {
		cur.Status = st
		if genValue != "" {
			if cur.Annotations == nil {
				cur.Annotations = map[string]string{}
			}
			cur.Annotations[appsv1.DeprecatedTemplateGeneration] = genValue
		}
		if _, err := c.store.Update(ctx, cur); err == nil {
			c.recordEligibility(ds, st)
			return nil
		} else if !errors.Is(err, store.ErrConflict) || i >= 1 {
			return err
		}
		fresh, err := c.store.Get(ctx, "DaemonSet", ds.Namespace, ds.Name)
		if err != nil {
			return err
		}
		cur = fresh.(*appsv1.DaemonSet)
		if cur.UID != ds.UID {
			return store.ErrNotFound
		}
		// The status counts no longer reflect a generation that changed.
		if cur.Generation != ds.Generation {
			st.ObservedGeneration = ds.Status.ObservedGeneration
		}
		st.CollisionCount = cur.Status.CollisionCount
	}
}

// recordEligibility records a Warning event when NodesEligibleCondition
// turns False.
func (c *Controller) recordEligibility(ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) {
	now := condition(st.Conditions, NodesEligibleCondition)
	if now == nil {
		return
	}
	if before := condition(ds.Status.Conditions, NodesEligibleCondition); before != nil && before.Message == now.Message {
		return
	}
	c.recorder.Eventf(ds, corev1.EventTypeWarning, NoEligibleNodesReason, "%s", now.Message)
}

func condition(conds []appsv1.DaemonSetCondition, t appsv1.DaemonSetConditionType) *appsv1.DaemonSetCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// nextAvailability is how long until the next Ready daemon pod becomes
// available under minReadySeconds; 0 when none is waiting.
func nextAvailability(pods []*corev1.Pod, minReady int32, now time.Time) time.Duration {
	var next time.Duration
	for _, p := range pods {
		if d := rollouts.NextPodAvailabilityCheck(p, minReady, now); d != nil && (next == 0 || *d < next) {
			next = *d
		}
	}
	return next
}
