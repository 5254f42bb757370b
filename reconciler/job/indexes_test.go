package job

import (
	"slices"
	"strconv"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Port of upstream's TestCalculateSucceededIndexes / parse and format of
// completedIndexes.
func TestIntervals(t *testing.T) {
	cases := []struct {
		in          string
		completions int
		add         []int
		want        string
		total       int
	}{
		{"", 5, nil, "", 0},
		{"", 5, []int{3, 1, 0}, "0,1,3", 3},
		{"0,1,3", 5, []int{2}, "0-3", 4},
		{"1-3,7", 10, []int{5, 4, 9}, "1-5,7,9", 7},
		{"1-3,7", 5, nil, "1-3", 3}, // past completions dropped
		{"1-9", 5, nil, "1-4", 4},   // cut to completions
		{"x,2,4-y", 5, nil, "2", 1}, // corrupt parts dropped
		{"0,2", 5, []int{2, 2}, "0,2", 2},
	}
	for _, tc := range cases {
		got := parseIntervals(tc.in, tc.completions).with(tc.add...)
		if got.String() != tc.want || got.total() != tc.total {
			t.Errorf("%q + %v = %q (%d), want %q (%d)", tc.in, tc.add, got.String(), got.total(), tc.want, tc.total)
		}
	}
	iv := parseIntervals("1-3,7", 10)
	for ix, want := range map[int]bool{0: false, 1: true, 3: true, 4: false, 7: true, 8: false} {
		if iv.has(ix) != want {
			t.Errorf("has(%d) = %v, want %v", ix, !want, want)
		}
	}
}

func indexedPod(ix int, phase corev1.PodPhase) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p" + strconv.Itoa(ix)}, Status: corev1.PodStatus{Phase: phase}}
	if ix != noIndex {
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: strconv.Itoa(ix)}
	}
	return p
}

// Port of upstream's TestFirstPendingIndexes.
func TestFirstPendingIndexes(t *testing.T) {
	cases := []struct {
		name        string
		count       int
		completions int
		succeeded   string
		active      []int
		terminating []int
		want        []int
	}{
		{"all pending", 3, 10, "", nil, nil, []int{0, 1, 2}},
		{"some active", 3, 10, "", []int{0, 2}, nil, []int{1, 3, 4}},
		{"succeeded and active", 3, 10, "0-2,5", []int{3}, nil, []int{4, 6, 7}},
		{"terminating held", 2, 5, "0", nil, []int{1}, []int{2, 3}},
		{"fewer than asked", 5, 4, "1", []int{0}, nil, []int{2, 3}},
		{"none left", 2, 3, "0-2", nil, nil, nil},
		{"count 0", 0, 3, "", nil, nil, nil},
	}
	pods := func(ixs []int) []*corev1.Pod {
		var out []*corev1.Pod
		for _, ix := range ixs {
			out = append(out, indexedPod(ix, corev1.PodRunning))
		}
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := firstPendingIndexes(tc.count, tc.completions, parseIntervals(tc.succeeded, tc.completions), pods(tc.active), pods(tc.terminating))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Port of upstream's TestAppendDuplicatedIndexPodsForRemoval.
func TestDuplicateIndexPods(t *testing.T) {
	pods := []*corev1.Pod{
		indexedPod(0, corev1.PodRunning), indexedPod(noIndex, corev1.PodRunning),
		indexedPod(1, corev1.PodRunning), indexedPod(1, corev1.PodPending), indexedPod(7, corev1.PodRunning),
	}
	pods[3].Name = "p1-dup"
	pickPending := func(ps []*corev1.Pod, n int) []*corev1.Pod {
		var out []*corev1.Pod
		for _, p := range ps {
			if p.Status.Phase == corev1.PodPending && len(out) < n {
				out = append(out, p)
			}
		}
		return out
	}
	rm, keep := duplicateIndexPods(pods, 5, pickPending)
	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	if got, want := names(rm), []string{"p-1", "p7", "p1-dup"}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	if got, want := names(keep), []string{"p0", "p1"}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}
