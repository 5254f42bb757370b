package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// topology numbers the domains of one topology key (the values of that
// label on the nodes) and records each node's, so that per-domain counts
// are slices and a node's count is two index operations: the inter-pod
// and spreading rules ask it for every node of every cycle.
type topology struct {
	gen    uint64
	values map[string]int32
	byNode []int32 // by node id: the node's domain, -1 without the key
}

// domain returns node's domain, or -1 when node lacks the key.
func (t *topology) domain(node *NodeInfo) int32 {
	if int(node.id) >= len(t.byNode) {
		return -1
	}
	return t.byNode[node.id]
}

// size is the number of domains.
func (t *topology) size() int { return len(t.values) }

// topology returns key's domains, rebuilt after any node was added,
// removed or relabelled.
func (s *Snapshot) topology(key string) *topology {
	if t := s.topos[key]; t != nil && t.gen == s.topoGen {
		return t
	}
	t := &topology{gen: s.topoGen, values: map[string]int32{}, byNode: make([]int32, s.nextID)}
	for i := range t.byNode {
		t.byNode[i] = -1
	}
	for _, ni := range s.order {
		v, ok := ni.Node.Labels[key]
		if !ok {
			continue
		}
		d, ok := t.values[v]
		if !ok {
			d = int32(len(t.values))
			t.values[v] = d
		}
		t.byNode[ni.id] = d
	}
	s.topos[key] = t
	return t
}

// newNodeID returns a free node id.
func (s *Snapshot) newNodeID() int32 {
	if n := len(s.freeIDs); n > 0 {
		id := s.freeIDs[n-1]
		s.freeIDs = s.freeIDs[:n-1]
		return id
	}
	s.nextID++
	return s.nextID - 1
}

// setTaintReasons formats the filter reason of each taint.
func (ni *NodeInfo) setTaintReasons(taints []corev1.Taint) {
	ni.taintReasons = ni.taintReasons[:0]
	for i := range taints {
		ni.taintReasons = append(ni.taintReasons, []string{UntoleratedTaintReason(&taints[i])})
	}
}
