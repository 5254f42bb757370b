package scheduler

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// NodeResourcesFit is upstream's plugin of that name with its default
// LeastAllocated scoring strategy (cpu and memory, weight 1 each).
//
// Filter (k8s-semantics 7.4): the node's pod count plus one must not
// exceed allocatable pods; each resource the pod requests (cpu, memory,
// ephemeral-storage, extended) must fit in allocatable minus what the
// node's non-terminal pods request. Every shortfall is a reason.
//
// Score: the average over cpu and memory of
// (allocatable - requested) * MaxNodeScore / allocatable, where requested
// counts the node's pods and this one with the non-zero defaults for
// missing requests; a resource with allocatable 0 is left out of the
// average, and one overcommitted scores 0.
type NodeResourcesFit struct{}

// Name implements Plugin.
func (NodeResourcesFit) Name() string { return "NodeResourcesFit" }

// Filter implements FilterPlugin.
func (NodeResourcesFit) Filter(_ *CycleState, pod *PodInfo, node *NodeInfo) []string {
	var reasons []string
	if node.Pods+1 > node.AllowedPods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	req := &pod.Requests
	if req.MilliCPU > 0 && req.MilliCPU > node.Allocatable.MilliCPU-node.Requested.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if req.Memory > 0 && req.Memory > node.Allocatable.Memory-node.Requested.Memory {
		reasons = append(reasons, ReasonInsufficientMem)
	}
	if req.EphemeralStorage > 0 &&
		req.EphemeralStorage > node.Allocatable.EphemeralStorage-node.Requested.EphemeralStorage {
		reasons = append(reasons, ReasonInsufficientStore)
	}
	if len(req.Scalar) > 0 {
		// Map order is random; sort the names for a stable reason order.
		names := make([]corev1.ResourceName, 0, len(req.Scalar))
		for name := range req.Scalar {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if v := req.Scalar[name]; v > 0 && v > node.Allocatable.Scalar[name]-node.Requested.Scalar[name] {
				reasons = append(reasons, "Insufficient "+string(name))
			}
		}
	}
	return reasons
}

// Score implements ScorePlugin.
func (NodeResourcesFit) Score(_ *CycleState, pod *PodInfo, node *NodeInfo) int64 {
	var sum, weights int64
	if alloc := node.Allocatable.MilliCPU; alloc > 0 {
		sum += leastRequestedScore(node.NonZeroCPU+pod.NonZeroCPU, alloc)
		weights++
	}
	if alloc := node.Allocatable.Memory; alloc > 0 {
		sum += leastRequestedScore(node.NonZeroMemory+pod.NonZeroMemory, alloc)
		weights++
	}
	if weights == 0 {
		return 0
	}
	return sum / weights
}

// leastRequestedScore is the share of capacity left free, 0..MaxNodeScore.
func leastRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxNodeScore / capacity
}
