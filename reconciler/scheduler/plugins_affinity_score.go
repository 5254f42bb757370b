package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// preferredNodeTerm is a parsed preferredDuringScheduling node term.
type preferredNodeTerm struct {
	weight int64
	labels labels.Selector // nil when the term has no matchExpressions
	fields []corev1.NodeSelectorRequirement
}

func (t *preferredNodeTerm) matches(node *corev1.Node) bool {
	if t.labels != nil && !t.labels.Matches(labels.Set(node.Labels)) {
		return false
	}
	for _, r := range t.fields {
		if !matchesField(r, node) {
			return false
		}
	}
	return true
}

// PreScore implements PreScorePlugin: it parses the pod's preferred node
// affinity terms once, dropping those of weight 0, empty ones and invalid
// ones (upstream rejects the pod for an invalid one); none left: skip.
func (p NodeAffinity) PreScore(state *CycleState, pod *PodInfo, _ []*NodeInfo) {
	a := pod.Pod.Spec.Affinity
	var terms []preferredNodeTerm
	if a != nil && a.NodeAffinity != nil {
		for _, pt := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			pref := &pt.Preference
			if pt.Weight == 0 || len(pref.MatchExpressions) == 0 && len(pref.MatchFields) == 0 {
				continue
			}
			t := preferredNodeTerm{weight: int64(pt.Weight), fields: pref.MatchFields}
			if len(pref.MatchExpressions) > 0 {
				sel, ok := labelRequirements(pref.MatchExpressions)
				if !ok {
					continue
				}
				t.labels = sel
			}
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		state.Skip(p.Name())
		return
	}
	state.Write(p.Name(), terms)
}

// Score implements ScorePlugin: the sum of the weights of the preferred
// terms the node matches.
func (p NodeAffinity) Score(state *CycleState, _ *PodInfo, node *NodeInfo) int64 {
	v, _ := state.Read(p.Name())
	terms, _ := v.([]preferredNodeTerm)
	var sum int64
	for i := range terms {
		if terms[i].matches(node.Node) {
			sum += terms[i].weight
		}
	}
	return sum
}

// NormalizeScores implements ScoreNormalizer: proportional to the best.
func (NodeAffinity) NormalizeScores(_ *CycleState, _ *PodInfo, scores []int64) {
	defaultNormalizeScore(scores, false)
}

// PreFilter implements PreFilterPlugin: a pod without nodeSelector and
// required node affinity skips the Filter, as upstream's.
func (p NodeAffinity) PreFilter(state *CycleState, pod *PodInfo) string {
	if !hasRequiredNodeAffinity(pod.Pod) {
		state.Skip(p.Name())
	}
	return ""
}
