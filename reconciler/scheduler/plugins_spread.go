package scheduler

import (
	"math"

	corev1 "k8s.io/api/core/v1"
)

// systemDefaultConstraints are upstream's default PodTopologySpread
// constraints (both ScheduleAnyway): spread a controller's pods across
// nodes with maxSkew 3 and across zones with maxSkew 5.
var systemDefaultConstraints = [...]struct {
	key     string
	maxSkew int64
}{
	{corev1.LabelHostname, 3},
	{corev1.LabelTopologyZone, 5},
}

// PodTopologySpread scores as upstream's plugin of that name with its
// system default constraints: a pod with a controller prefers the nodes
// and zones where fewer pods of the same controller (same namespace,
// same controller ownerReference — upstream selects them with the
// controller's selector) run; terminating pods are not counted, as
// upstream's countPodsMatchSelector skips them. Pods with their own
// topologySpreadConstraints are not spread (berth does not implement
// explicit constraints); pods without a controller are not spread, as
// upstream's default selector is then empty.
type PodTopologySpread struct{}

// Name implements Plugin.
func (PodTopologySpread) Name() string { return "PodTopologySpread" }

// spreadState is what PreScore computes for Score.
type spreadState struct {
	groups []*podGroup
	// hosts are the groups' counts per hostname, zoneTopo the zones.
	hosts    []*domainCounts
	zoneTopo *topology
	// weights are log(domains + 2) per constraint, upstream's
	// topologyNormalizingWeight.
	weights [len(systemDefaultConstraints)]float64
	zones   []int // the controller's pods per zone domain
}

// PreScore implements PreScorePlugin.
func (p PodTopologySpread) PreScore(state *CycleState, pod *PodInfo, feasible []*NodeInfo) {
	uid := controllerUID(pod.Pod)
	if uid == "" || len(pod.Pod.Spec.TopologySpreadConstraints) > 0 {
		state.Skip(p.Name())
		return
	}
	snap := state.Snapshot()
	st := &spreadState{zoneTopo: snap.topology(corev1.LabelTopologyZone)}
	st.zones = make([]int, st.zoneTopo.size())
	for _, g := range snap.groupList {
		if g.controller == uid && g.namespace == pod.Pod.Namespace && !g.terminating {
			st.groups = append(st.groups, g)
		}
	}
	if len(st.groups) == 0 {
		// No pod of the controller anywhere: every node scores the same.
		state.Skip(p.Name())
		return
	}
	// The zones of the feasible nodes, nodes without one making one more
	// (upstream's empty value).
	seen := make([]bool, st.zoneTopo.size()+1)
	zones := 0
	for _, ni := range feasible {
		dom := st.zoneTopo.domain(ni) + 1
		if !seen[dom] {
			seen[dom] = true
			zones++
		}
	}
	st.weights[0] = math.Log(float64(len(feasible) + 2))
	st.weights[1] = math.Log(float64(zones + 2))

	// Zone counts take the pods on the nodes that match the pod's node
	// affinity and selector, as upstream's NodeInclusionPolicy Honor.
	restricted := hasRequiredNodeAffinity(pod.Pod)
	for _, g := range st.groups {
		st.hosts = append(st.hosts, snap.domains(g, corev1.LabelHostname))
		if !restricted {
			for zone, n := range snap.domains(g, corev1.LabelTopologyZone).counts {
				st.zones[zone] += n
			}
			continue
		}
		for name, n := range g.byNode {
			ni := snap.Node(name)
			if ni == nil || !MatchesNodeAffinity(pod.Pod, ni.Node) {
				continue
			}
			if dom := st.zoneTopo.domain(ni); dom >= 0 {
				st.zones[dom] += n
			}
		}
	}
	state.Write(p.Name(), st)
}

func hasRequiredNodeAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.NodeSelector) > 0 ||
		a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil
}

// Score implements ScorePlugin: per constraint whose key the node has,
// count·weight + maxSkew - 1, rounded (higher is worse; NormalizeScores
// turns it over). The per-node count is the count of the node's hostname
// label value: the same while hostnames are unique, as they are.
func (p PodTopologySpread) Score(state *CycleState, _ *PodInfo, node *NodeInfo) int64 {
	v, _ := state.Read(p.Name())
	st := v.(*spreadState)
	var score float64
	if len(st.hosts) > 0 && st.hosts[0].topo.domain(node) >= 0 {
		n := 0
		for _, d := range st.hosts {
			c, _ := d.at(node)
			n += c
		}
		score += float64(n)*st.weights[0] + float64(systemDefaultConstraints[0].maxSkew-1)
	}
	if dom := st.zoneTopo.domain(node); dom >= 0 {
		score += float64(st.zones[dom])*st.weights[1] + float64(systemDefaultConstraints[1].maxSkew-1)
	}
	return int64(math.Round(score))
}

// NormalizeScores implements ScoreNormalizer, as upstream's:
// MaxNodeScore·(max + min - score)/max, all MaxNodeScore when max is 0.
func (PodTopologySpread) NormalizeScores(_ *CycleState, _ *PodInfo, scores []int64) {
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i, s := range scores {
		if hi == 0 {
			scores[i] = MaxNodeScore
			continue
		}
		scores[i] = MaxNodeScore * (hi + lo - s) / hi
	}
}
