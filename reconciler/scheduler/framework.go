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
	// data is a short list rather than a map: plugins read it for every
	// node, and a scan of a few keys beats hashing.
	data []stateEntry
	snap *Snapshot
	skip []string // plugins whose Filter or Score this cycle leaves out
}

type stateEntry struct {
	key string
	v   any
}

// Read returns what key stored in this cycle.
func (c *CycleState) Read(key string) (any, bool) {
	for i := range c.data {
		if c.data[i].key == key {
			return c.data[i].v, true
		}
	}
	return nil, false
}

// Write stores v under key for the rest of the cycle.
func (c *CycleState) Write(key string, v any) {
	for i := range c.data {
		if c.data[i].key == key {
			c.data[i].v = v
			return
		}
	}
	c.data = append(c.data, stateEntry{key, v})
}

// Snapshot is the cluster the cycle schedules on (nil outside Schedule).
func (c *CycleState) Snapshot() *Snapshot { return c.snap }

// Skip leaves plugin's Filter (when called from PreFilter) or Score (from
// PreScore) out of this cycle, as upstream's Skip status: the plugin has
// nothing to say about this pod.
func (c *CycleState) Skip(plugin string) { c.skip = append(c.skip, plugin) }

func (c *CycleState) skipped(plugin string) bool {
	for _, s := range c.skip {
		if s == plugin {
			return true
		}
	}
	return false
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

// PreScorePlugin runs once per pod before its Score, with the feasible
// nodes: to compute state for Score, or to call state.Skip when every
// node would score the same.
type PreScorePlugin interface {
	ScorePlugin
	PreScore(state *CycleState, pod *PodInfo, feasible []*NodeInfo)
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
// berth has, in upstream's order and with its default score weights
// (TaintToleration 3; NodeAffinity, PodTopologySpread and
// InterPodAffinity 2; NodeResourcesFit 1). NodeReady stands in for the
// node lifecycle's not-ready/unreachable NoSchedule taints.
func DefaultProfile() Profile {
	fit := NodeResourcesFit{}
	ipa := InterPodAffinity{}
	return Profile{
		PreFilters: []PreFilterPlugin{NodeAffinity{}, ipa},
		Filters: []FilterPlugin{
			NodeUnschedulable{},
			NodeReady{},
			TaintToleration{},
			NodeAffinity{},
			fit,
			ipa,
		},
		Scores: []WeightedScore{
			{Plugin: TaintToleration{}, Weight: 3},
			{Plugin: NodeAffinity{}, Weight: 2},
			{Plugin: fit, Weight: 1},
			{Plugin: PodTopologySpread{}, Weight: 2},
			{Plugin: ipa, Weight: 2},
		},
	}
}
