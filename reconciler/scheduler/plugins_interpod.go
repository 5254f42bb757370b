package scheduler

import (
	"k8s.io/apimachinery/pkg/labels"
)

// Inter-pod affinity filter reasons, upstream's words.
const (
	ReasonAffinityRulesNotMatch              = "node(s) didn't match pod affinity rules"
	ReasonAntiAffinityRulesNotMatch          = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingAntiAffinityNotMatch       = "node(s) didn't satisfy existing pods anti-affinity rules"
	interPodAffinityTermsKey                 = "InterPodAffinity/terms"
	interPodAffinityScoreKey                 = "InterPodAffinity/score"
	hardPodAffinityWeight              int64 = 1 // upstream's default HardPodAffinityWeight
)

var (
	reasonsAffinity        = []string{ReasonAffinityRulesNotMatch}
	reasonsAntiAffinity    = []string{ReasonAntiAffinityRulesNotMatch}
	reasonsExistingAntiAff = []string{ReasonExistingAntiAffinityNotMatch}
)

// InterPodAffinity is upstream's plugin of that name. Filter: the pod's
// required podAffinity (every term has a matching pod in the node's
// domain of its topologyKey, the node having every key), its required
// podAntiAffinity (no term has a matching pod in the node's domain), and
// the required anti-affinity of the pods already placed (none of them
// selects this pod within the node's domain). Score: its preferred terms
// and the placed pods' terms about it, weighted, per domain.
//
// The work is done per cycle against the snapshot's pod groups, whose
// per-domain counts are kept incrementally: a cycle costs the number of
// groups plus, per node, a few map lookups.
type InterPodAffinity struct{}

// Name implements Plugin.
func (InterPodAffinity) Name() string { return "InterPodAffinity" }

// interPodFilterState is what PreFilter computes for Filter.
type interPodFilterState struct {
	affinity []podTerm
	// affinityTopo[i] are the domains of term i's topology key.
	affinityTopo []*topology
	// affinityDomains[i] are term i's counts of the groups that match
	// every affinity term (upstream counts the pods that match all).
	affinityDomains [][]*domainCounts
	// selfFirst: no pod matches, and the pod matches its own terms, so
	// it may be the first of its kind (upstream's special case).
	selfFirst bool
	anti      []podTerm
	antiTopo  []*topology
	// antiDomains[i] are term i's counts of the groups it matches.
	antiDomains [][]*domainCounts
	existing    []keyedDomains
}

// keyedDomains are a group's counts for one topology key, with a weight
// when scoring.
type keyedDomains struct {
	weight int64
	d      *domainCounts
}

// PreFilter implements PreFilterPlugin.
func (p InterPodAffinity) PreFilter(state *CycleState, pod *PodInfo) string {
	snap := state.Snapshot()
	terms := parsePodTerms(pod.Pod)
	state.Write(interPodAffinityTermsKey, &terms)
	ns, lbls := pod.Pod.Namespace, labels.Set(pod.Pod.Labels)
	st := &interPodFilterState{affinity: terms.requiredAffinity, anti: terms.requiredAnti}

	for _, g := range snap.withTerms {
		for i := range g.terms.requiredAnti {
			if t := &g.terms.requiredAnti[i]; t.matches(ns, lbls) {
				st.existing = append(st.existing, keyedDomains{d: snap.domains(g, t.topologyKey)})
			}
		}
	}
	if len(st.affinity) > 0 {
		st.affinityDomains = make([][]*domainCounts, len(st.affinity))
		for i := range st.affinity {
			st.affinityTopo = append(st.affinityTopo, snap.topology(st.affinity[i].topologyKey))
		}
		any := false
		for _, g := range snap.groupList {
			if !allTermsMatch(st.affinity, g.namespace, g.labels) {
				continue
			}
			for i := range st.affinity {
				d := snap.domains(g, st.affinity[i].topologyKey)
				st.affinityDomains[i] = append(st.affinityDomains[i], d)
				any = any || d.total > 0
			}
		}
		st.selfFirst = !any && allTermsMatch(st.affinity, ns, lbls)
	}
	if len(st.anti) > 0 {
		st.antiDomains = make([][]*domainCounts, len(st.anti))
		for i := range st.anti {
			st.antiTopo = append(st.antiTopo, snap.topology(st.anti[i].topologyKey))
		}
		for _, g := range snap.groupList {
			for i := range st.anti {
				if st.anti[i].matches(g.namespace, g.labels) {
					st.antiDomains[i] = append(st.antiDomains[i], snap.domains(g, st.anti[i].topologyKey))
				}
			}
		}
	}
	if len(st.affinity) == 0 && len(st.anti) == 0 && len(st.existing) == 0 {
		state.Skip(p.Name())
		return ""
	}
	state.Write(p.Name(), st)
	return ""
}

func allTermsMatch(terms []podTerm, ns string, lbls labels.Set) bool {
	for i := range terms {
		if !terms[i].matches(ns, lbls) {
			return false
		}
	}
	return true
}

// sumAt counts the pods in one domain over several groups' counts (of
// one topology key).
func sumAt(ds []*domainCounts, dom int32) int {
	n := 0
	for _, d := range ds {
		n += d.counts[dom]
	}
	return n
}

// Filter implements FilterPlugin, in upstream's order: affinity, then
// anti-affinity, then the placed pods' anti-affinity.
func (p InterPodAffinity) Filter(state *CycleState, _ *PodInfo, node *NodeInfo) []string {
	v, _ := state.Read(p.Name())
	st, ok := v.(*interPodFilterState)
	if !ok {
		return nil
	}
	if len(st.affinity) > 0 {
		exist := true
		for i := range st.affinity {
			dom := st.affinityTopo[i].domain(node)
			if dom < 0 {
				return reasonsAffinity // the node must have every topology key
			}
			if exist && sumAt(st.affinityDomains[i], dom) <= 0 {
				exist = false
			}
		}
		if !exist && !st.selfFirst {
			return reasonsAffinity
		}
	}
	for i := range st.anti {
		if dom := st.antiTopo[i].domain(node); dom >= 0 && sumAt(st.antiDomains[i], dom) > 0 {
			return reasonsAntiAffinity
		}
	}
	for _, e := range st.existing {
		if n, ok := e.d.at(node); ok && n > 0 {
			return reasonsExistingAntiAff
		}
	}
	return nil
}
