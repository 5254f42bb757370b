package scheduler

// defaultNormalizeScore rescales scores to 0..MaxNodeScore in proportion
// to the highest (upstream's helper.DefaultNormalizeScore); reverse turns
// the scale over, so that the lowest raw score gets MaxNodeScore. All
// zero stays all zero, or all MaxNodeScore when reversed.
func defaultNormalizeScore(scores []int64, reverse bool) {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s)
	}
	if hi == 0 {
		if reverse {
			for i := range scores {
				scores[i] = MaxNodeScore
			}
		}
		return
	}
	for i, s := range scores {
		s = MaxNodeScore * s / hi
		if reverse {
			s = MaxNodeScore - s
		}
		scores[i] = s
	}
}

// minMaxNormalizeScore maps the lowest raw score to 0 and the highest to
// MaxNodeScore, linearly (upstream's InterPodAffinity NormalizeScore,
// whose raw scores may be negative). All equal: all 0.
func minMaxNormalizeScore(scores []int64) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0], scores[0]
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	diff := hi - lo
	for i, s := range scores {
		var f float64
		if diff > 0 {
			f = float64(MaxNodeScore) * (float64(s-lo) / float64(diff))
		}
		scores[i] = int64(f)
	}
}
