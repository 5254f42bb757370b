package scheduler

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podGroup is the counted pods that the inter-pod rules cannot tell
// apart: same namespace, labels, controller and pod (anti-)affinity — in
// practice the replicas of one controller revision — and terminating or
// not, which PodTopologySpread tells apart. The Snapshot indexes
// pods by group so that a scheduling cycle matches a term against each
// group once, not against every pod, and reads per-domain counts from
// maps it keeps up to date as pods come and go (what upstream's PreFilter
// and PreScore compute by walking every pod).
type podGroup struct {
	key        string
	namespace  string
	labels     labels.Set
	controller string // UID of the controller ownerReference, "" if none
	terms      podTerms
	// terminating groups the pods being deleted (deletionTimestamp set):
	// the inter-pod rules count them, default spreading does not (as
	// upstream's countPodsMatchSelector).
	terminating bool

	count  int
	byNode map[string]int // pods per node name

	// topo counts the pods per domain of a topology key, built on first
	// use and then kept up to date; valid while topoGen matches the
	// snapshot's (node labels changing invalidate every group's).
	topo    map[string]*domainCounts
	topoGen uint64
}

// domainCounts counts a group's pods per domain of one topology key,
// among the nodes that exist and have the key.
type domainCounts struct {
	topo   *topology
	counts []int // by domain
	total  int
}

// at returns the count in node's domain, and false when node lacks the
// key.
func (d *domainCounts) at(node *NodeInfo) (int, bool) {
	dom := d.topo.domain(node)
	if dom < 0 {
		return 0, false
	}
	return d.counts[dom], true
}

// groupKey identifies the group of pod.
func groupKey(pod *corev1.Pod, controller string) string {
	var b strings.Builder
	if isTerminating(pod) {
		b.WriteByte('T')
	} else {
		b.WriteByte('L')
	}
	b.WriteString(pod.Namespace)
	b.WriteByte(0)
	b.WriteString(controller)
	b.WriteByte(0)
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(pod.Labels[k])
		b.WriteByte(0)
	}
	if a := pod.Spec.Affinity; a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil) {
		b.WriteString(a.PodAffinity.String())
		b.WriteString(a.PodAntiAffinity.String())
	}
	return b.String()
}

// isTerminating reports whether pod is being deleted.
func isTerminating(pod *corev1.Pod) bool { return pod.DeletionTimestamp != nil }

// controllerUID is the UID of pod's controller, "" if it has none.
func controllerUID(pod *corev1.Pod) string {
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		return string(ref.UID)
	}
	return ""
}

// joinGroup counts one pod on node in its group, creating the group.
func (s *Snapshot) joinGroup(pod *corev1.Pod, node *NodeInfo) *podGroup {
	uid := controllerUID(pod)
	key := groupKey(pod, uid)
	g := s.groups[key]
	if g == nil {
		g = &podGroup{
			key: key, namespace: pod.Namespace, labels: labels.Set(pod.Labels), controller: uid,
			terms: parsePodTerms(pod), terminating: isTerminating(pod), byNode: map[string]int{}, topoGen: s.topoGen,
		}
		s.groups[key] = g
		s.groupList = append(s.groupList, g)
		if !g.terms.empty() {
			s.withTerms = append(s.withTerms, g)
		}
	}
	g.count++
	g.byNode[node.Name]++
	s.countDomains(g, node, 1)
	return g
}

// leaveGroup uncounts one pod on node, dropping the group when empty.
func (s *Snapshot) leaveGroup(g *podGroup, node *NodeInfo) {
	g.count--
	if g.byNode[node.Name]--; g.byNode[node.Name] == 0 {
		delete(g.byNode, node.Name)
	}
	s.countDomains(g, node, -1)
	if g.count > 0 {
		return
	}
	delete(s.groups, g.key)
	s.groupList = slices.DeleteFunc(s.groupList, func(o *podGroup) bool { return o == g })
	s.withTerms = slices.DeleteFunc(s.withTerms, func(o *podGroup) bool { return o == g })
}

// countDomains adds delta to g's domain counts that exist for node.
func (s *Snapshot) countDomains(g *podGroup, node *NodeInfo, delta int) {
	if g.topoGen != s.topoGen || node.Node == nil {
		return
	}
	for _, d := range g.topo {
		if dom := d.topo.domain(node); dom >= 0 {
			d.counts[dom] += delta
			d.total += delta
		}
	}
}

// domains returns g's pods counted per domain of topology key key.
func (s *Snapshot) domains(g *podGroup, key string) *domainCounts {
	if g.topoGen != s.topoGen {
		g.topo, g.topoGen = nil, s.topoGen
	}
	if d := g.topo[key]; d != nil {
		return d
	}
	t := s.topology(key)
	d := &domainCounts{topo: t, counts: make([]int, t.size())}
	for name, n := range g.byNode {
		ni := s.nodes[name]
		if ni == nil || ni.Node == nil {
			continue
		}
		if dom := t.domain(ni); dom >= 0 {
			d.counts[dom] += n
			d.total += n
		}
	}
	if g.topo == nil {
		g.topo = map[string]*domainCounts{}
	}
	g.topo[key] = d
	return d
}

// invalidateDomains drops every group's domain counts: a node that holds
// pods changed labels, appeared or went.
func (s *Snapshot) invalidateDomains() { s.topoGen++ }
