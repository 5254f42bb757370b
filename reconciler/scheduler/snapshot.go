package scheduler

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NodeInfo is the scheduler's view of one node: the node and what the
// non-terminal pods bound (or assumed) to it request. Plugins read it;
// only the Snapshot changes it.
type NodeInfo struct {
	// Node is the node as last seen in the cache (shared: never modify);
	// nil while pods still name a node that is gone.
	Node *corev1.Node
	Name string
	// Allocatable is the node's status.allocatable (capacity when
	// allocatable is unset); AllowedPods its pods count.
	Allocatable Resource
	AllowedPods int64
	// Requested sums the effective requests (PodRequests) of its pods.
	Requested Resource
	// NonZeroCPU and NonZeroMemory sum its pods' scoring requests
	// (podNonZeroRequests).
	NonZeroCPU, NonZeroMemory int64
	// Pods counts its pods.
	Pods int64
	// Ready is the status of the node's Ready condition (Unknown when it
	// has none), read once when the node changes.
	Ready corev1.ConditionStatus

	pods map[string]struct{} // keys of the pods counted
	// id is the node's dense index while it exists, for per-node arrays
	// (topology domains); ids of removed nodes are reused.
	id int32
	// taintReasons[i] is the filter reason for Node.Spec.Taints[i],
	// formatted once per node update rather than per rejection.
	taintReasons [][]string
}

// podEntry is what the snapshot counted for one pod.
type podEntry struct {
	node                 string
	uid                  string
	req                  Resource
	nonZeroCPU, nonZeroM int64
	assumed              bool // bound by us; the cache has not shown it yet
	group                *podGroup
}

// Snapshot is the scheduler's incremental picture of the cluster: every
// node with the requests of the pods on it, updated from cache events
// (SetNode, RemoveNode, SetPod, RemovePod) and from the scheduler's own
// bindings (Assume, Forget), so that scheduling a pod never walks the
// pods. It is not safe for concurrent use: the Scheduler serialises it.
type Snapshot struct {
	nodes map[string]*NodeInfo
	// order holds the nodes that exist (Node != nil), sorted by name: the
	// order filters and the round-robin tie-break walk.
	order []*NodeInfo
	pods  map[string]*podEntry // by pod key

	// groups index the counted pods for the inter-pod rules (podgroups.go):
	// by key, in creation order, and those with pod (anti-)affinity.
	groups    map[string]*podGroup
	groupList []*podGroup
	withTerms []*podGroup
	topoGen   uint64
	topos     map[string]*topology // by topology key, valid for topoGen
	nextID    int32
	freeIDs   []int32
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{nodes: map[string]*NodeInfo{}, pods: map[string]*podEntry{}, groups: map[string]*podGroup{}, topos: map[string]*topology{}}
}

// Nodes returns the existing nodes in name order (shared; read only).
func (s *Snapshot) Nodes() []*NodeInfo { return s.order }

// Node returns one node's info, or nil.
func (s *Snapshot) Node(name string) *NodeInfo {
	if ni := s.nodes[name]; ni != nil && ni.Node != nil {
		return ni
	}
	return nil
}

func (s *Snapshot) info(name string) *NodeInfo {
	ni := s.nodes[name]
	if ni == nil {
		ni = &NodeInfo{Name: name, pods: map[string]struct{}{}}
		s.nodes[name] = ni
	}
	return ni
}

// SetNode adds or updates a node.
func (s *Snapshot) SetNode(node *corev1.Node) {
	ni := s.info(node.Name)
	isNew := ni.Node == nil
	if isNew || !equalStrings(ni.Node.Labels, node.Labels) {
		s.invalidateDomains()
	}
	if isNew {
		ni.id = s.newNodeID()
	}
	ni.setTaintReasons(node.Spec.Taints)
	ni.Node = node
	alloc := node.Status.Allocatable
	if len(alloc) == 0 {
		alloc = node.Status.Capacity
	}
	ni.Allocatable = NewResource(alloc)
	ni.AllowedPods = alloc.Pods().Value()
	ni.Ready = corev1.ConditionUnknown
	for i := range node.Status.Conditions {
		if c := &node.Status.Conditions[i]; c.Type == corev1.NodeReady {
			ni.Ready = c.Status
		}
	}
	if isNew {
		i, _ := slices.BinarySearchFunc(s.order, node.Name, func(n *NodeInfo, name string) int {
			return strings.Compare(n.Name, name)
		})
		s.order = slices.Insert(s.order, i, ni)
	}
}

// RemoveNode removes a node. Pods still bound to it stay counted, so that
// a node that comes back is seen with them.
func (s *Snapshot) RemoveNode(name string) {
	ni := s.nodes[name]
	if ni == nil || ni.Node == nil {
		return
	}
	ni.Node = nil
	s.freeIDs = append(s.freeIDs, ni.id)
	s.invalidateDomains()
	s.order = slices.DeleteFunc(s.order, func(n *NodeInfo) bool { return n == ni })
	s.dropIfEmpty(ni)
}

func (s *Snapshot) dropIfEmpty(ni *NodeInfo) {
	if ni.Node == nil && len(ni.pods) == 0 {
		delete(s.nodes, ni.Name)
	}
}

// countsOnNode reports whether a pod occupies its node's resources: bound
// and not terminal (Succeeded or Failed).
func countsOnNode(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" && !isTerminal(pod)
}

// isTerminal reports whether a pod has finished (Succeeded or Failed).
func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// SetPod records a pod as the cache shows it: counted on its node while
// bound and not terminal, not counted otherwise.
func (s *Snapshot) SetPod(key string, pod *corev1.Pod) {
	if !countsOnNode(pod) {
		if e := s.pods[key]; e != nil && e.assumed && pod.Spec.NodeName == "" &&
			e.uid == string(pod.UID) && !isTerminal(pod) {
			return // an older version than our binding: the cache lags
		}
		s.RemovePod(key)
		return
	}
	if e := s.pods[key]; e != nil && e.node == pod.Spec.NodeName && e.uid == string(pod.UID) &&
		equalStrings(e.group.labels, pod.Labels) && e.group.controller == controllerUID(pod) &&
		e.group.terminating == isTerminating(pod) {
		// Confirmed; requests and affinity of a bound pod don't change
		// (its labels, controller reference and deletionTimestamp may:
		// then it moves to another group below).
		e.assumed = false
		return
	}
	s.RemovePod(key)
	s.add(key, pod, pod.Spec.NodeName, false)
}

// RemovePod stops counting a pod.
func (s *Snapshot) RemovePod(key string) {
	e := s.pods[key]
	if e == nil {
		return
	}
	delete(s.pods, key)
	ni := s.nodes[e.node]
	ni.Requested.Sub(e.req)
	ni.NonZeroCPU -= e.nonZeroCPU
	ni.NonZeroMemory -= e.nonZeroM
	ni.Pods--
	delete(ni.pods, key)
	s.leaveGroup(e.group, ni)
	s.dropIfEmpty(ni)
}

// Assume counts a pod on node before the cache shows it bound: the
// scheduler calls it as it binds, so the next pod sees the change.
func (s *Snapshot) Assume(key string, pod *corev1.Pod, node string) {
	s.RemovePod(key)
	s.add(key, pod, node, true)
}

// Forget undoes Assume after a failed binding, unless the cache has
// confirmed the pod meanwhile.
func (s *Snapshot) Forget(key string) {
	if e := s.pods[key]; e != nil && e.assumed {
		s.RemovePod(key)
	}
}

func (s *Snapshot) add(key string, pod *corev1.Pod, node string, assumed bool) {
	e := &podEntry{node: node, uid: string(pod.UID), req: PodRequests(pod), assumed: assumed}
	e.nonZeroCPU, e.nonZeroM = podNonZeroRequests(pod)
	s.pods[key] = e
	ni := s.info(node)
	ni.Requested.Add(e.req)
	ni.NonZeroCPU += e.nonZeroCPU
	ni.NonZeroMemory += e.nonZeroM
	ni.Pods++
	ni.pods[key] = struct{}{}
	e.group = s.joinGroup(pod, ni)
}
