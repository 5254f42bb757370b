package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// PreScore implements PreScorePlugin: it keeps the pod's tolerations that
// can tolerate a PreferNoSchedule taint (effect empty or
// PreferNoSchedule), as upstream's getAllTolerationPreferNoSchedule.
//
// When no feasible node has a PreferNoSchedule taint every node would
// score the same, so it skips.
func (p TaintToleration) PreScore(state *CycleState, pod *PodInfo, feasible []*NodeInfo) {
	if !anyPreferNoSchedule(feasible) {
		state.Skip(p.Name())
		return
	}
	var tols []corev1.Toleration
	for _, t := range pod.Pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(p.Name(), tols)
}

// Score implements ScorePlugin: the number of the node's PreferNoSchedule
// taints the pod does not tolerate (fewer is better: NormalizeScores
// reverses the scale).
func (p TaintToleration) Score(state *CycleState, _ *PodInfo, node *NodeInfo) int64 {
	taints := node.Node.Spec.Taints
	if len(taints) == 0 {
		return 0
	}
	v, _ := state.Read(p.Name())
	tols, _ := v.([]corev1.Toleration)
	var n int64
	for i := range taints {
		t := &taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !tolerates(tols, t.Key, t.Value, t.Effect) {
			n++
		}
	}
	return n
}

// NormalizeScores implements ScoreNormalizer: the node with the most
// untolerated PreferNoSchedule taints scores 0, one with none
// MaxNodeScore.
func (TaintToleration) NormalizeScores(_ *CycleState, _ *PodInfo, scores []int64) {
	defaultNormalizeScore(scores, true)
}

func anyPreferNoSchedule(nodes []*NodeInfo) bool {
	for _, ni := range nodes {
		for i := range ni.Node.Spec.Taints {
			if ni.Node.Spec.Taints[i].Effect == corev1.TaintEffectPreferNoSchedule {
				return true
			}
		}
	}
	return false
}
