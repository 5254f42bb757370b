package scheduler

import (
	"k8s.io/apimachinery/pkg/labels"
)

// PreScore implements PreScorePlugin, as upstream's: per domain, + weight
// for each placed pod that a preferred affinity term of the pod selects,
// - weight for each one a preferred anti-affinity term selects, and for
// each placed pod whose terms select this pod: + hardPodAffinityWeight
// per required affinity term, + weight per preferred affinity term,
// - weight per preferred anti-affinity term. Nothing to count: skip.
func (p InterPodAffinity) PreScore(state *CycleState, pod *PodInfo, _ []*NodeInfo) {
	snap := state.Snapshot()
	terms := p.terms(state, pod)
	ns, lbls := pod.Pod.Namespace, labels.Set(pod.Pod.Labels)
	var sum []keyedDomains
	add := func(g *podGroup, t *podTerm, weight int64) {
		sum = append(sum, keyedDomains{weight: weight, d: snap.domains(g, t.topologyKey)})
	}
	if len(terms.preferredAffinity) > 0 || len(terms.preferredAnti) > 0 {
		for _, g := range snap.groupList {
			for i := range terms.preferredAffinity {
				if t := &terms.preferredAffinity[i]; t.matches(g.namespace, g.labels) {
					add(g, t, t.weight)
				}
			}
			for i := range terms.preferredAnti {
				if t := &terms.preferredAnti[i]; t.matches(g.namespace, g.labels) {
					add(g, t, -t.weight)
				}
			}
		}
	}
	for _, g := range snap.withTerms {
		for i := range g.terms.requiredAffinity {
			if t := &g.terms.requiredAffinity[i]; t.matches(ns, lbls) {
				add(g, t, hardPodAffinityWeight)
			}
		}
		for i := range g.terms.preferredAffinity {
			if t := &g.terms.preferredAffinity[i]; t.matches(ns, lbls) {
				add(g, t, t.weight)
			}
		}
		for i := range g.terms.preferredAnti {
			if t := &g.terms.preferredAnti[i]; t.matches(ns, lbls) {
				add(g, t, -t.weight)
			}
		}
	}
	if len(sum) == 0 {
		state.Skip(p.Name())
		return
	}
	state.Write(interPodAffinityScoreKey, sum)
}

// terms returns the pod's parsed terms, from PreFilter when it ran.
func (InterPodAffinity) terms(state *CycleState, pod *PodInfo) *podTerms {
	if v, ok := state.Read(interPodAffinityTermsKey); ok {
		return v.(*podTerms)
	}
	t := parsePodTerms(pod.Pod)
	return &t
}

// Score implements ScorePlugin: the weighted counts in the node's domains.
func (InterPodAffinity) Score(state *CycleState, _ *PodInfo, node *NodeInfo) int64 {
	v, _ := state.Read(interPodAffinityScoreKey)
	sum, _ := v.([]keyedDomains)
	var score int64
	for _, s := range sum {
		if n, ok := s.d.at(node); ok {
			score += s.weight * int64(n)
		}
	}
	return score
}

// NormalizeScores implements ScoreNormalizer: lowest 0, highest
// MaxNodeScore.
func (InterPodAffinity) NormalizeScores(_ *CycleState, _ *PodInfo, scores []int64) {
	minMaxNormalizeScore(scores)
}
