package rollouts

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// upstream controller_utils_test.go TestSortingActivePodsWithRanks (with
// PodDeletionCost on, its default; the gate-off case does not apply).
func TestDeleteFirst(t *testing.T) {
	now := metav1.Now()
	then1Month := metav1.NewTime(now.AddDate(0, -1, 0))
	then2Hours := metav1.NewTime(now.Add(-2 * time.Hour))
	then5Hours := metav1.NewTime(now.Add(-5 * time.Hour))
	then8Hours := metav1.NewTime(now.Add(-8 * time.Hour))
	zeroTime := metav1.Time{}
	restartAlways := corev1.ContainerRestartPolicyAlways
	pod := func(name, node string, phase corev1.PodPhase, ready bool, restarts, sideRestarts int32, readySince, created metav1.Time, annotations map[string]string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created, Annotations: annotations},
			Spec: corev1.PodSpec{
				NodeName:       node,
				InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &restartAlways}},
			},
			Status: corev1.PodStatus{Phase: phase},
		}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: readySince}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: restarts}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "sidecar", RestartCount: sideRestarts}}
		}
		return p
	}
	var (
		unscheduledPod                      = pod("unscheduled", "", corev1.PodPending, false, 0, 0, zeroTime, zeroTime, nil)
		scheduledPendingPod                 = pod("pending", "node", corev1.PodPending, false, 0, 0, zeroTime, zeroTime, nil)
		unknownPhasePod                     = pod("unknown-phase", "node", corev1.PodUnknown, false, 0, 0, zeroTime, zeroTime, nil)
		runningNotReadyPod                  = pod("not-ready", "node", corev1.PodRunning, false, 0, 0, zeroTime, zeroTime, nil)
		runningReadyNoLastTransitionTimePod = pod("ready-no-last-transition-time", "node", corev1.PodRunning, true, 0, 0, zeroTime, zeroTime, nil)
		runningReadyNow                     = pod("ready-now", "node", corev1.PodRunning, true, 0, 0, now, now, nil)
		runningReadyThen                    = pod("ready-then", "node", corev1.PodRunning, true, 0, 0, then1Month, then1Month, nil)
		runningReadyNowHighRestarts         = pod("ready-high-restarts", "node", corev1.PodRunning, true, 9001, 0, now, now, nil)
		runningReadyNowHighSideRestarts     = pod("ready-high-restarts", "node", corev1.PodRunning, true, 9001, 9001, now, now, nil)
		runningReadyNowCreatedThen          = pod("ready-now-created-then", "node", corev1.PodRunning, true, 0, 0, now, then1Month, nil)
		lowPodDeletionCost                  = pod("low-deletion-cost", "node", corev1.PodRunning, true, 0, 0, now, then1Month, map[string]string{PodDeletionCostAnnotation: "10"})
		highPodDeletionCost                 = pod("high-deletion-cost", "node", corev1.PodRunning, true, 0, 0, now, then1Month, map[string]string{PodDeletionCostAnnotation: "100"})
		unscheduled5Hours                   = pod("unscheduled-5-hours", "", corev1.PodPending, false, 0, 0, then5Hours, then5Hours, nil)
		unscheduled8Hours                   = pod("unscheduled-10-hours", "", corev1.PodPending, false, 0, 0, then8Hours, then8Hours, nil)
		ready2Hours                         = pod("ready-2-hours", "", corev1.PodRunning, true, 0, 0, then2Hours, then1Month, nil)
		ready5Hours                         = pod("ready-5-hours", "", corev1.PodRunning, true, 0, 0, then5Hours, then1Month, nil)
		ready10Hours                        = pod("ready-10-hours", "", corev1.PodRunning, true, 0, 0, then8Hours, then1Month, nil)
	)
	equal := [][2]*corev1.Pod{
		{unscheduledPod, nil}, {scheduledPendingPod, nil}, {unknownPhasePod, nil}, {runningNotReadyPod, nil},
		{runningReadyNowCreatedThen, nil}, {runningReadyNow, nil}, {runningReadyThen, nil},
		{runningReadyNowHighRestarts, nil}, {runningReadyNowCreatedThen, nil},
		{unscheduled5Hours, unscheduled8Hours}, {ready5Hours, ready10Hours},
	}
	for i, p := range equal {
		a, b := p[0], p[1]
		if b == nil {
			b = a
		}
		if deleteFirst(rankedPod{a, 1}, rankedPod{b, 1}, now) || deleteFirst(rankedPod{b, 1}, rankedPod{a, 1}, now) {
			t.Errorf("equality %d: %q and %q should be equivalent", i, a.Name, b.Name)
		}
	}
	inequal := []struct{ lesser, greater rankedPod }{
		{rankedPod{unscheduledPod, 1}, rankedPod{scheduledPendingPod, 2}},
		{rankedPod{unscheduledPod, 2}, rankedPod{scheduledPendingPod, 1}},
		{rankedPod{scheduledPendingPod, 1}, rankedPod{unknownPhasePod, 2}},
		{rankedPod{unknownPhasePod, 1}, rankedPod{runningNotReadyPod, 2}},
		{rankedPod{runningNotReadyPod, 1}, rankedPod{runningReadyNoLastTransitionTimePod, 1}},
		{rankedPod{runningReadyNoLastTransitionTimePod, 1}, rankedPod{runningReadyNow, 1}},
		{rankedPod{runningReadyNow, 2}, rankedPod{runningReadyNoLastTransitionTimePod, 1}},
		{rankedPod{runningReadyNow, 1}, rankedPod{runningReadyThen, 1}},
		{rankedPod{runningReadyNow, 2}, rankedPod{runningReadyThen, 1}},
		{rankedPod{runningReadyNowHighRestarts, 1}, rankedPod{runningReadyNow, 1}},
		{rankedPod{runningReadyNowHighSideRestarts, 1}, rankedPod{runningReadyNowHighRestarts, 1}},
		{rankedPod{runningReadyNow, 2}, rankedPod{runningReadyNowHighRestarts, 1}},
		{rankedPod{runningReadyNow, 1}, rankedPod{runningReadyNowCreatedThen, 1}},
		{rankedPod{runningReadyNowCreatedThen, 2}, rankedPod{runningReadyNow, 1}},
		{rankedPod{lowPodDeletionCost, 2}, rankedPod{highPodDeletionCost, 1}},
		{rankedPod{ready2Hours, 1}, rankedPod{ready5Hours, 1}},
	}
	for i, tt := range inequal {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if !deleteFirst(tt.lesser, tt.greater, now) {
				t.Errorf("%q (rank %d) should go before %q (rank %d)", tt.lesser.pod.Name, tt.lesser.rank, tt.greater.pod.Name, tt.greater.rank)
			}
			if deleteFirst(tt.greater, tt.lesser, now) {
				t.Errorf("%q (rank %d) should not go before %q (rank %d)", tt.greater.pod.Name, tt.greater.rank, tt.lesser.pod.Name, tt.lesser.rank)
			}
		})
	}
}

func TestPodsToDelete(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	mk := func(name, node string, phase corev1.PodPhase, readyAgo time.Duration) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-24 * time.Hour))},
			Spec:       corev1.PodSpec{NodeName: node},
			Status:     corev1.PodStatus{Phase: phase},
		}
		if readyAgo > 0 {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-readyAgo))}}
		}
		return p
	}
	readyOld := mk("ready-old", "n1", corev1.PodRunning, 100*time.Hour)
	readyNew := mk("ready-new", "n2", corev1.PodRunning, time.Minute)
	pending := mk("pending", "n1", corev1.PodPending, 0)
	unscheduled := mk("unscheduled", "", corev1.PodPending, 0)
	notReady := mk("not-ready", "n2", corev1.PodRunning, 0)
	doubled := mk("doubled", "n3", corev1.PodRunning, 100*time.Hour)
	// n3 holds doubled and two pods of a sibling ReplicaSet: rank 3, the
	// others rank 2 (n1, n2) or 1 (unscheduled)
	mate1 := mk("mate-1", "n3", corev1.PodRunning, 100*time.Hour)
	mate2 := mk("mate-2", "n3", corev1.PodRunning, 100*time.Hour)
	pods := []*corev1.Pod{readyOld, readyNew, pending, unscheduled, notReady, doubled}
	related := append(slices.Clone(pods), mate1, mate2)

	got := PodsToDelete(pods, related, 6, now)
	if len(got) != 6 || got[0] != readyOld {
		t.Errorf("diff == len: all, unsorted: %v", podNames(got))
	}
	got = PodsToDelete(pods, related, 5, now)
	want := []string{"unscheduled", "pending", "not-ready", "doubled", "ready-new"}
	if !slices.Equal(podNames(got), want) {
		t.Errorf("order %v, want %v", podNames(got), want)
	}
	if pods[0] != readyOld {
		t.Errorf("input reordered")
	}
	if got = PodsToDelete(pods, related, 0, now); len(got) != 0 {
		t.Errorf("diff 0: %v", podNames(got))
	}
	// deletion cost outranks co-location
	cheap := mk("cheap", "n1", corev1.PodRunning, 100*time.Hour)
	cheap.Annotations = map[string]string{PodDeletionCostAnnotation: "-5"}
	got = PodsToDelete([]*corev1.Pod{doubled, cheap}, append(related, cheap), 1, now)
	if got[0] != cheap {
		t.Errorf("deletion cost: %v", podNames(got))
	}
}

func podNames(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPodDeletionCost(t *testing.T) {
	for v, want := range map[string]int32{"10": 10, "-10": -10, "0": 0, "+10": 0, "008": 0, "x": 0, "": 0, "2147483648": 0, "-2147483648": -2147483648} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{PodDeletionCostAnnotation: v}}}
		if got := PodDeletionCost(p); got != want {
			t.Errorf("%q: %d, want %d", v, got, want)
		}
	}
	if PodDeletionCost(&corev1.Pod{}) != 0 {
		t.Errorf("absent annotation")
	}
}

func TestPodStates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := func(ago time.Duration, status corev1.ConditionStatus) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(now.Add(-ago))},
		}}}
	}
	avail := []struct {
		name string
		pod  *corev1.Pod
		mrs  int32
		want bool
	}{
		{"not ready", ready(time.Hour, corev1.ConditionFalse), 0, false},
		{"ready, minReadySeconds 0", ready(0, corev1.ConditionTrue), 0, true},
		{"ready 5s of 10", ready(5*time.Second, corev1.ConditionTrue), 10, false},
		{"ready exactly 10s of 10", ready(10*time.Second, corev1.ConditionTrue), 10, true},
		{"ready 11s of 10", ready(11*time.Second, corev1.ConditionTrue), 10, true},
		{"no transition time", &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}, 10, false},
		{"no conditions", &corev1.Pod{}, 0, false},
	}
	for _, tt := range avail {
		if got := IsPodAvailable(tt.pod, tt.mrs, now); got != tt.want {
			t.Errorf("IsPodAvailable %s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// upstream TestNextPodAvailabilityCheck
	next := []struct {
		name string
		pod  *corev1.Pod
		mrs  int32
		want *time.Duration
	}{
		{"not ready", ready(0, corev1.ConditionFalse), 0, nil},
		{"no minReadySeconds defined", ready(0, corev1.ConditionTrue), 0, nil},
		{"lastTransitionTime is zero", &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}, 1, nil},
		{"just became ready - available in 1s", ready(0, corev1.ConditionTrue), 1, new(time.Second)},
		{"ready for 20s - available in 10s", ready(20*time.Second, corev1.ConditionTrue), 30, new(10 * time.Second)},
		{"available", ready(51*time.Second, corev1.ConditionTrue), 50, nil},
	}
	for _, tt := range next {
		got := NextPodAvailabilityCheck(tt.pod, tt.mrs, now)
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("NextPodAvailabilityCheck %s: %v, want %v", tt.name, got, tt.want)
		}
	}
	deleting := metav1.NewTime(now)
	active := []struct {
		name                string
		pod                 *corev1.Pod
		active, terminating bool
	}{
		{"running", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, true, false},
		{"pending", &corev1.Pod{}, true, false},
		{"succeeded", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, false, false},
		{"failed", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}, false, false},
		{"deleting", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleting}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}, false, true},
		{"deleting, failed", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleting}, Status: corev1.PodStatus{Phase: corev1.PodFailed}}, false, false},
	}
	for _, tt := range active {
		if IsPodActive(tt.pod) != tt.active || IsPodTerminating(tt.pod) != tt.terminating {
			t.Errorf("%s: active %v terminating %v", tt.name, IsPodActive(tt.pod), IsPodTerminating(tt.pod))
		}
	}
}
