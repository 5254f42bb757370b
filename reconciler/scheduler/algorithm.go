package scheduler

// Algorithm picks a node for one pod from a Snapshot by running a
// Profile's plugins: PreFilter, Filter on every node, PreScore and Score
// on the feasible ones, highest total (Σ weight × score) wins. Ties go
// round-robin: the nodes are walked in name order starting after the node
// picked last, and the first best one wins, so that equal nodes take
// turns (upstream picks at random among ties; this is its deterministic
// stand-in). Not safe for concurrent use; it reuses its buffers.
type Algorithm struct {
	profile Profile
	next    int // index in the node order where the walk starts

	// Per cycle: the plugins not skipped, and the nodes that passed.
	filters  []FilterPlugin
	active   []WeightedScore
	feasible []*NodeInfo
	index    []int     // feasible node i's index in the snapshot order
	scores   [][]int64 // per active score plugin, per feasible node
}

// NewAlgorithm returns an Algorithm running profile.
func NewAlgorithm(profile Profile) *Algorithm {
	return &Algorithm{profile: profile, scores: make([][]int64, len(profile.Scores))}
}

// Schedule returns the node for pod, or ErrNoNodes, or a *FitError.
func (a *Algorithm) Schedule(pod *PodInfo, snap *Snapshot) (string, error) {
	nodes := snap.Nodes()
	n := len(nodes)
	if n == 0 {
		return "", ErrNoNodes
	}
	state := CycleState{snap: snap}
	for _, p := range a.profile.PreFilters {
		if reason := p.PreFilter(&state, pod); reason != "" {
			return "", &FitError{NumAllNodes: n, PreFilterMsg: reason}
		}
	}
	a.filters = a.filters[:0]
	for _, f := range a.profile.Filters {
		if !state.skipped(f.Name()) {
			a.filters = append(a.filters, f)
		}
	}
	state.skip = state.skip[:0]

	start := a.next % n
	a.feasible, a.index = a.feasible[:0], a.index[:0]
	var fitErr *FitError
	for off := range n {
		i := (start + off) % n
		ni := nodes[i]
		if reasons := a.filter(&state, pod, ni); len(reasons) > 0 {
			if fitErr == nil {
				fitErr = &FitError{NumAllNodes: n, Reasons: map[string]int{}}
			}
			for _, r := range reasons {
				fitErr.Reasons[r]++
			}
			continue
		}
		a.feasible = append(a.feasible, ni)
		a.index = append(a.index, i)
	}
	if len(a.feasible) == 0 {
		return "", fitErr
	}

	best := a.pick(&state, pod)
	a.next = a.index[best] + 1
	return a.feasible[best].Name, nil
}

// filter runs the filters on one node until one rejects it.
func (a *Algorithm) filter(state *CycleState, pod *PodInfo, ni *NodeInfo) []string {
	for _, f := range a.filters {
		if reasons := f.Filter(state, pod, ni); len(reasons) > 0 {
			return reasons
		}
	}
	return nil
}

// pick scores the feasible nodes and returns the index of the first with
// the highest total.
func (a *Algorithm) pick(state *CycleState, pod *PodInfo) int {
	if len(a.feasible) == 1 || len(a.profile.Scores) == 0 {
		return 0
	}
	a.active = a.active[:0]
	normalizes := false
	for _, s := range a.profile.Scores {
		if pre, ok := s.Plugin.(PreScorePlugin); ok {
			pre.PreScore(state, pod, a.feasible)
			if state.skipped(s.Plugin.Name()) {
				continue
			}
		}
		if _, ok := s.Plugin.(ScoreNormalizer); ok {
			normalizes = true
		}
		a.active = append(a.active, s)
	}
	if len(a.active) == 0 {
		return 0
	}
	if !normalizes {
		// The common case: total each node as it is scored.
		best, bestScore := 0, int64(-1)
		for i, ni := range a.feasible {
			var total int64
			for _, s := range a.active {
				total += s.Weight * s.Plugin.Score(state, pod, ni)
			}
			if total > bestScore {
				best, bestScore = i, total
			}
		}
		return best
	}
	for p, s := range a.active {
		scores := a.scores[p][:0]
		for _, ni := range a.feasible {
			scores = append(scores, s.Plugin.Score(state, pod, ni))
		}
		if norm, ok := s.Plugin.(ScoreNormalizer); ok {
			norm.NormalizeScores(state, pod, scores)
		}
		a.scores[p] = scores
	}
	best, bestScore := 0, int64(-1)
	for i := range a.feasible {
		var total int64
		for p, s := range a.active {
			total += s.Weight * a.scores[p][i]
		}
		if total > bestScore {
			best, bestScore = i, total
		}
	}
	return best
}
