package rollouts

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// DaemonSetNode is one node as a DaemonSet rolling update sees it.
type DaemonSetNode struct {
	Name string
	// ShouldRun: the DaemonSet wants a pod on the node (its placement
	// rules admit the node).
	ShouldRun bool
	// Pods are the DaemonSet's pods bound to (or meant for) the node,
	// terminating ones included.
	Pods []*corev1.Pod
}

// DaemonSetRollingPlan is one step of a DaemonSet rolling update: the pods
// to delete and the nodes to create a new pod on. The controller's manage
// loop creates the replacements of deleted pods once they are gone.
type DaemonSetRollingPlan struct {
	Delete   []*corev1.Pod
	CreateOn []string
}

// DaemonSetRollingUpdate plans one step of ds's rolling update towards the
// template whose controller-revision-hash is hash, over nodes (every node
// that should run a pod, and every node that has one), in their order. It
// mirrors upstream's rollingUpdate (pkg/controller/daemon/update.go):
//
// Without surge it deletes old pods, never leaving more than maxUnavailable
// desired nodes without an available pod: a node with no pod, with two,
// with an unavailable new pod, or with only a terminating one counts as
// unavailable; an old pod that is not available is replaced at once; an
// available old pod is replaced while the budget lasts.
//
// With surge (maxUnavailable 0) it creates the new pod next to the old one:
// at once where the old pod is unavailable, on at most maxSurge nodes
// otherwise, and deletes the old pod once the new one is available. Old
// pods on nodes that no longer should run one go only as the available
// pods exceed the desired count, so that a change of placement never
// leaves the set without available pods.
//
// generation is the current template generation (a pod with it, or with
// hash, is up to date); nil reads the DaemonSet's annotation.
func DaemonSetRollingUpdate(ds *appsv1.DaemonSet, nodes []DaemonSetNode, hash string, generation *int64, now time.Time) (DaemonSetRollingPlan, error) {
	desired := 0
	for _, n := range nodes {
		if n.ShouldRun {
			desired++
		}
	}
	maxSurge, maxUnavailable, err := DaemonSetFenceposts(ds, desired)
	if err != nil {
		return DaemonSetRollingPlan{}, err
	}
	if generation == nil {
		generation = DaemonSetTemplateGeneration(ds)
	}
	minReady := ds.Spec.MinReadySeconds
	available := func(p *corev1.Pod) bool { return IsPodAvailable(p, minReady, now) }

	if maxSurge == 0 {
		return rollingWithoutSurge(nodes, hash, generation, maxUnavailable, available), nil
	}
	return rollingWithSurge(nodes, hash, generation, maxSurge, desired, available), nil
}

// rollingWithoutSurge deletes old pods within the unavailability budget.
func rollingWithoutSurge(nodes []DaemonSetNode, hash string, generation *int64, maxUnavailable int, available func(*corev1.Pod) bool) DaemonSetRollingPlan {
	var numUnavailable int
	var replacements, candidates []*corev1.Pod
	for _, n := range nodes {
		newPod, oldPod, ok := DaemonPodsOnNode(n.Pods, hash, generation)
		if !ok {
			// The manage loop removes the excess first; the node counts as
			// unavailable meanwhile.
			numUnavailable++
			continue
		}
		switch {
		case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
			numUnavailable++
		case newPod != nil:
			if !available(newPod) {
				numUnavailable++
			}
		default:
			switch {
			case !available(oldPod):
				// Already down: replacing it costs nothing.
				replacements = append(replacements, oldPod)
				numUnavailable++
			case numUnavailable >= maxUnavailable:
			default:
				candidates = append(candidates, oldPod)
			}
		}
	}
	remaining := min(max(maxUnavailable-numUnavailable, 0), len(candidates))
	return DaemonSetRollingPlan{Delete: append(replacements, candidates[:remaining]...)}
}

// rollingWithSurge starts new pods next to old ones within the surge budget.
func rollingWithSurge(nodes []DaemonSetNode, hash string, generation *int64, maxSurge, desired int, available func(*corev1.Pod) bool) DaemonSetRollingPlan {
	var (
		plan            DaemonSetRollingPlan
		shouldNotRunOld []*corev1.Pod // available old pods on nodes that should not run one
		allowedNodes    []string      // old pod down: the new one starts at once
		candidateNodes  []string      // old pod up: a surge candidate
		numSurge        int
		numAvailable    int
	)
	for _, n := range nodes {
		newPod, oldPod, ok := DaemonPodsOnNode(n.Pods, hash, generation)
		if !ok {
			numSurge++
			continue
		}
		switch {
		case oldPod != nil && available(oldPod), oldPod == nil && newPod != nil && available(newPod):
			numAvailable++
		}
		switch {
		case oldPod == nil:
			// Nothing to update; the manage loop creates a missing pod.
		case newPod == nil:
			switch {
			case !available(oldPod):
				if !n.ShouldRun {
					plan.Delete = append(plan.Delete, oldPod)
					continue
				}
				allowedNodes = append(allowedNodes, n.Name)
			case !n.ShouldRun:
				shouldNotRunOld = append(shouldNotRunOld, oldPod)
			case numSurge >= maxSurge:
			default:
				candidateNodes = append(candidateNodes, n.Name)
			}
		default:
			if !available(newPod) {
				numSurge++
				continue
			}
			plan.Delete = append(plan.Delete, oldPod)
		}
	}
	if deletable := min(numAvailable-desired, len(shouldNotRunOld)); deletable > 0 {
		plan.Delete = append(plan.Delete, shouldNotRunOld[:deletable]...)
	}
	remaining := min(max(maxSurge-numSurge, 0), len(candidateNodes))
	plan.CreateOn = append(allowedNodes, candidateNodes[:remaining]...)
	return plan
}

// DaemonPodsOnNode splits a node's pods that are not being deleted into the
// one running the current template and the one running an older one; ok is
// false when there are two of either, which the manage loop prunes first
// (mirrors upstream's findUpdatedPodsOnNode).
func DaemonPodsOnNode(pods []*corev1.Pod, hash string, generation *int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if IsDaemonPodUpdated(p, hash, generation) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}
