package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// MaxNodeScore is the highest score a score plugin gives a node.
const MaxNodeScore int64 = 100

// PodInfo is the pod being scheduled with what is computed once per
// scheduling cycle.
type PodInfo struct {
	Pod *corev1.Pod
	Key string
	// Requests is the effective request (PodRequests).
	Requests Resource
	// NonZeroCPU and NonZeroMemory are the scoring requests.
	NonZeroCPU, NonZeroMemory int64
}

// NewPodInfo computes a PodInfo.
func NewPodInfo(key string, pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Key: key, Requests: PodRequests(pod)}
	pi.NonZeroCPU, pi.NonZeroMemory = podNonZeroRequests(pod)
	return pi
}

// CycleState is per-pod scratch space that plugins share across the
// extension points of one scheduling cycle (what a PreFilter computes for
// its Filter), keyed by plugin name.
type CycleState struct {
	data map[string]any
}

// Read returns what key stored in this cycle.
func (c *CycleState) Read(key string) (any, bool) {
	v, ok := c.data[key]
	return v, ok
}

// Write stores v under key for the rest of the cycle.
func (c *CycleState) Write(key string, v any) {
	if c.data == nil {
		c.data = map[string]any{}
	}
	c.data[key] = v
}

// Plugin is one scheduling rule, named as upstream names its plugins.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per pod before the filters: to compute state
// for its Filter, or to reject the pod outright (a non-empty reason, which
// becomes the whole message, as upstream's PreFilter statuses).
type PreFilterPlugin interface {
	Plugin
	PreFilter(state *CycleState, pod *PodInfo) (reason string)
}

// FilterPlugin decides whether a pod may run on a node. It returns nil if
// so, else the reasons it may not, in upstream's words ("Insufficient
// cpu"): they make the FailedScheduling histogram.
type FilterPlugin interface {
	Plugin
	Filter(state *CycleState, pod *PodInfo, node *NodeInfo) []string
}

// ScorePlugin ranks a feasible node from 0 to MaxNodeScore.
type ScorePlugin interface {
	Plugin
	Score(state *CycleState, pod *PodInfo, node *NodeInfo) int64
}

// ScoreNormalizer is implemented by score plugins whose raw scores need
// rescaling to 0..MaxNodeScore once all feasible nodes are scored (node
// affinity's preferred terms, taints' PreferNoSchedule). scores are in the
// order of the feasible nodes.
type ScoreNormalizer interface {
	NormalizeScores(state *CycleState, pod *PodInfo, scores []int64)
}

// WeightedScore is a score plugin with its weight in the total.
type WeightedScore struct {
	Plugin ScorePlugin
	Weight int64
}

// Profile is the list of plugins the scheduler runs, in order. Filters
// stop at the first plugin that rejects a node, as upstream's do.
type Profile struct {
	PreFilters []PreFilterPlugin
	Filters    []FilterPlugin
	Scores     []WeightedScore
}

// DefaultProfile is berth's scheduler: upstream's default plugins that
// berth has so far, in upstream's order. (TaintToleration takes over
// NodeReady's job once a node lifecycle controller taints nodes.)
func DefaultProfile() Profile {
	fit := NodeResourcesFit{}
	return Profile{
		Filters: []FilterPlugin{
			NodeUnschedulable{},
			NodeReady{},
			TaintToleration{},
			NodeAffinity{},
			fit,
		},
		Scores: []WeightedScore{{Plugin: fit, Weight: 1}},
	}
}
