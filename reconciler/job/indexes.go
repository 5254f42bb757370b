package job

import (
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Completion indexes of Indexed Jobs (upstream's indexed_job_utils.go).

// completionIndexEnv is the variable each container of an Indexed Job's
// pod gets, holding its completion index.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// noIndex is the index of a pod without a valid completion index.
const noIndex = -1

func isIndexed(job *batchv1.Job) bool {
	return job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// completionIndex returns the pod's completion index annotation, or
// noIndex when it has none or not a non-negative integer.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return noIndex
	}
	return i
}

// validIndex returns the pod's completion index if it is below
// completions, else noIndex.
func validIndex(p *corev1.Pod, completions int32) int {
	if ix := completionIndex(p); ix != noIndex && ix < int(completions) {
		return ix
	}
	return noIndex
}

// interval is the indexes First..Last, both included.
type interval struct{ First, Last int }

// intervals is a set of indexes as sorted, disjoint, non-adjacent
// intervals: the form of status.completedIndexes ("1,3-5,7").
type intervals []interval

// parseIntervals reads status.completedIndexes, dropping what is not
// below completions and anything malformed, as upstream does.
func parseIntervals(s string, completions int) intervals {
	if s == "" {
		return nil
	}
	var out intervals
	for _, part := range strings.Split(s, ",") {
		bounds := strings.Split(part, "-")
		first, err := strconv.Atoi(bounds[0])
		if err != nil {
			continue
		}
		if first >= completions {
			break
		}
		last := first
		if len(bounds) > 1 {
			if last, err = strconv.Atoi(bounds[1]); err != nil {
				continue
			}
			last = min(last, completions-1)
		}
		out = out.merge(intervals{{first, last}})
	}
	return out
}

// with returns the set plus the given indexes.
func (iv intervals) with(indexes ...int) intervals {
	add := make(intervals, 0, len(indexes))
	sorted := slices.Clone(indexes)
	slices.Sort(sorted)
	for _, ix := range sorted {
		add = append(add, interval{ix, ix})
	}
	return iv.merge(add)
}

// merge returns the union of two interval sets.
func (iv intervals) merge(other intervals) intervals {
	all := append(slices.Clone(iv), other...)
	slices.SortFunc(all, func(a, b interval) int { return a.First - b.First })
	var out intervals
	for _, x := range all {
		if n := len(out); n > 0 && x.First <= out[n-1].Last+1 {
			out[n-1].Last = max(out[n-1].Last, x.Last)
			continue
		}
		out = append(out, x)
	}
	return out
}

// total counts the indexes.
func (iv intervals) total() int {
	n := 0
	for _, x := range iv {
		n += x.Last - x.First + 1
	}
	return n
}

// has reports whether ix is in the set.
func (iv intervals) has(ix int) bool {
	i, _ := slices.BinarySearchFunc(iv, ix, func(x interval, ix int) int {
		if x.Last < ix {
			return -1
		}
		return 1
	})
	return i < len(iv) && iv[i].First <= ix
}

// String formats the set as status.completedIndexes does: "0-2,4,6,7"
// (two adjacent indexes are listed, not a range).
func (iv intervals) String() string {
	var b strings.Builder
	for _, x := range iv {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x.First))
		switch {
		case x.Last == x.First+1:
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(x.Last))
		case x.Last > x.First:
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(x.Last))
		}
	}
	return b.String()
}

// firstPendingIndexes returns up to count of the lowest indexes below
// completions that no active pod holds and that have not succeeded
// (nor, when only failed pods are replaced, that a terminating pod holds).
func firstPendingIndexes(count, completions int, succeeded intervals, active, terminating []*corev1.Pod) []int {
	if count <= 0 {
		return nil
	}
	var held []int
	for _, pods := range [][]*corev1.Pod{active, terminating} {
		for _, p := range pods {
			if ix := completionIndex(p); ix != noIndex {
				held = append(held, ix)
			}
		}
	}
	taken := succeeded.with(held...)
	var out []int
	for ix := 0; ix < completions && len(out) < count; ix++ {
		if !taken.has(ix) {
			out = append(out, ix)
		}
	}
	return out
}

// duplicateIndexPods returns the active pods of an Indexed Job to remove
// whatever the counts: those without a valid index, and all but one of the
// pods sharing an index (pick chooses which n of them go, the ones least
// far along). upstream's appendDuplicatedIndexPodsForRemoval.
func duplicateIndexPods(pods []*corev1.Pod, completions int32, pick func(pods []*corev1.Pod, n int) []*corev1.Pod) (rm, keep []*corev1.Pod) {
	byIndex := map[int][]*corev1.Pod{}
	var order []int
	for _, p := range pods {
		ix := validIndex(p, completions)
		if ix == noIndex {
			rm = append(rm, p)
			continue
		}
		if _, seen := byIndex[ix]; !seen {
			order = append(order, ix)
		}
		byIndex[ix] = append(byIndex[ix], p)
	}
	slices.Sort(order)
	for _, ix := range order {
		same := byIndex[ix]
		if len(same) == 1 {
			keep = append(keep, same[0])
			continue
		}
		gone := pick(same, len(same)-1)
		rm = append(rm, gone...)
		for _, p := range same {
			if !slices.Contains(gone, p) {
				keep = append(keep, p)
			}
		}
	}
	return rm, keep
}
