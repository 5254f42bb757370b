package scheduler

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFilters(t *testing.T) {
	exists := corev1.TolerationOpExists
	tests := []struct {
		name   string
		plugin FilterPlugin
		node   *corev1.Node
		pod    *corev1.Pod
		others []*corev1.Pod // already on the node
		want   []string
	}{
		// NodeUnschedulable
		{"schedulable node", NodeUnschedulable{}, testNode("n", "1", "1Gi"), testPod("p", "", ""), nil, nil},
		{"cordoned node", NodeUnschedulable{}, testNode("n", "1", "1Gi", cordoned()), testPod("p", "", ""), nil,
			[]string{ReasonUnschedulable}},
		{"cordoned node, pod tolerates unschedulable", NodeUnschedulable{}, testNode("n", "1", "1Gi", cordoned()),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: exists, Effect: corev1.TaintEffectNoSchedule})),
			nil, nil},
		{"cordoned node, toleration of another effect", NodeUnschedulable{}, testNode("n", "1", "1Gi", cordoned()),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: exists, Effect: corev1.TaintEffectNoExecute})),
			nil, []string{ReasonUnschedulable}},

		// NodeReady
		{"ready node", NodeReady{}, testNode("n", "1", "1Gi"), testPod("p", "", ""), nil, nil},
		{"not ready node", NodeReady{}, testNode("n", "1", "1Gi", withReady(corev1.ConditionFalse)), testPod("p", "", ""), nil,
			[]string{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"}},
		{"unknown node", NodeReady{}, testNode("n", "1", "1Gi", withReady(corev1.ConditionUnknown)), testPod("p", "", ""), nil,
			[]string{"node(s) had untolerated taint {node.kubernetes.io/unreachable: }"}},
		{"node without conditions", NodeReady{}, testNode("n", "1", "1Gi", withoutConditions()), testPod("p", "", ""), nil,
			[]string{"node(s) had untolerated taint {node.kubernetes.io/unreachable: }"}},
		{"not ready node, pod tolerates not-ready", NodeReady{}, testNode("n", "1", "1Gi", withReady(corev1.ConditionFalse)),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: exists})), nil, nil},
		{"not ready node, pod tolerates only unreachable", NodeReady{}, testNode("n", "1", "1Gi", withReady(corev1.ConditionFalse)),
			testPod("p", "", "", withToleration(corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: exists})), nil,
			[]string{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"}},
		{"unknown node, pod tolerates everything", NodeReady{}, testNode("n", "1", "1Gi", withReady(corev1.ConditionUnknown)),
			testPod("p", "", "", withToleration(corev1.Toleration{Operator: exists})), nil, nil},

		// NodeAffinity (nodeSelector)
		{"no selector", NodeAffinity{}, testNode("n", "1", "1Gi"), testPod("p", "", ""), nil, nil},
		{"selector matches", NodeAffinity{}, testNode("n", "1", "1Gi", withLabel("disk", "ssd"), withLabel("zone", "a")),
			testPod("p", "", "", withSelector("disk", "ssd", "zone", "a")), nil, nil},
		{"selector value differs", NodeAffinity{}, testNode("n", "1", "1Gi", withLabel("disk", "hdd")),
			testPod("p", "", "", withSelector("disk", "ssd")), nil, []string{ReasonNodeSelector}},
		{"selector label missing", NodeAffinity{}, testNode("n", "1", "1Gi"),
			testPod("p", "", "", withSelector("disk", "ssd")), nil, []string{ReasonNodeSelector}},
		{"selector is ANDed", NodeAffinity{}, testNode("n", "1", "1Gi", withLabel("disk", "ssd")),
			testPod("p", "", "", withSelector("disk", "ssd", "zone", "a")), nil, []string{ReasonNodeSelector}},
		{"hostname selector", NodeAffinity{}, testNode("n", "1", "1Gi"),
			testPod("p", "", "", withSelector(corev1.LabelHostname, "n")), nil, nil},

		// NodeResourcesFit
		{"fits", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "500m", "512Mi"), nil, nil},
		{"fits exactly", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "1", "1Gi"), nil, nil},
		{"no requests fit a full node", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "", ""),
			[]*corev1.Pod{testPod("o", "1", "1Gi", boundTo("n"))}, nil},
		{"insufficient cpu", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "1001m", ""), nil,
			[]string{ReasonInsufficientCPU}},
		{"insufficient memory", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "", "2Gi"), nil,
			[]string{ReasonInsufficientMem}},
		{"both insufficient", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "2", "2Gi"), nil,
			[]string{ReasonInsufficientCPU, ReasonInsufficientMem}},
		{"others take the room", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "600m", "100Mi"),
			[]*corev1.Pod{testPod("o", "500m", "100Mi", boundTo("n"))}, []string{ReasonInsufficientCPU}},
		{"terminal pods free their room", NodeResourcesFit{}, testNode("n", "1", "1Gi"), testPod("p", "600m", "100Mi"),
			[]*corev1.Pod{
				testPod("done", "500m", "100Mi", boundTo("n"), inPhase(corev1.PodSucceeded)),
				testPod("failed", "500m", "100Mi", boundTo("n"), inPhase(corev1.PodFailed)),
			}, nil},
		{"too many pods", NodeResourcesFit{}, testNode("n", "1", "1Gi", withAlloc(corev1.ResourcePods, "1")), testPod("p", "", ""),
			[]*corev1.Pod{testPod("o", "", "", boundTo("n"))}, []string{ReasonTooManyPods}},
		{"pod count at the limit", NodeResourcesFit{}, testNode("n", "1", "1Gi", withAlloc(corev1.ResourcePods, "2")), testPod("p", "", ""),
			[]*corev1.Pod{testPod("o", "", "", boundTo("n"))}, nil},
		{"too many pods and insufficient cpu", NodeResourcesFit{}, testNode("n", "1", "1Gi", withAlloc(corev1.ResourcePods, "1")),
			testPod("p", "2", ""), []*corev1.Pod{testPod("o", "", "", boundTo("n"))},
			[]string{ReasonTooManyPods, ReasonInsufficientCPU}},
		{"ephemeral storage", NodeResourcesFit{}, testNode("n", "1", "1Gi", withAlloc(corev1.ResourceEphemeralStorage, "10Gi")),
			testPod("p", "", "", withRequest(corev1.ResourceEphemeralStorage, "11Gi")), nil, []string{ReasonInsufficientStore}},
		{"extended resource absent on node", NodeResourcesFit{}, testNode("n", "1", "1Gi"),
			testPod("p", "", "", withRequest("example.com/gpu", "1")), nil, []string{"Insufficient example.com/gpu"}},
		{"extended resource fits", NodeResourcesFit{}, testNode("n", "1", "1Gi", withAlloc("example.com/gpu", "2")),
			testPod("p", "", "", withRequest("example.com/gpu", "1")),
			[]*corev1.Pod{testPod("o", "", "", boundTo("n"), withRequest("example.com/gpu", "1"))}, nil},
		{"init container max rule: init fits", NodeResourcesFit{}, testNode("n", "2", "1Gi"),
			initPod("1", "2"), nil, nil},
		{"init container max rule: init too big", NodeResourcesFit{}, testNode("n", "2", "1Gi"),
			initPod("1", "3"), nil, []string{ReasonInsufficientCPU}},
		{"init container max rule: sum of apps too big", NodeResourcesFit{}, testNode("n", "2", "1Gi"),
			initPod("1500m", "1"), nil, []string{ReasonInsufficientCPU}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := snapshotOf([]*corev1.Node{tt.node}, tt.others...)
			got := tt.plugin.Filter(&CycleState{}, podInfo(tt.pod), snap.Node(tt.node.Name))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s.Filter = %q, want %q", tt.plugin.Name(), got, tt.want)
			}
		})
	}
}

// initPod has two app containers of appCPU each and one init container
// of initCPU: its effective cpu is max(2·appCPU, initCPU).
func initPod(appCPU, initCPU string) *corev1.Pod {
	p := testPod("p", appCPU, "")
	p.Spec.Containers = append(p.Spec.Containers, container("app2", appCPU, ""))
	p.Spec.InitContainers = []corev1.Container{container("init", initCPU, "")}
	return p
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(name, cpu string) corev1.Container {
		c := container(name, cpu, "")
		c.RestartPolicy = &always
		return c
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		wantCPU   int64
		wantMem   int64
		wantNZCPU int64
		wantNZMem int64
	}{
		{"one container", testPod("p", "250m", "64Mi"), 250, 64 << 20, 250, 64 << 20},
		{"no requests: zero for fit, defaults for score", testPod("p", "", ""), 0, 0, 100, 200 << 20},
		{"explicit zero stays zero for score", testPod("p", "0", "0"), 0, 0, 0, 0},
		{"only cpu: memory defaulted for score", testPod("p", "1", ""), 1000, 0, 1000, 200 << 20},
		{"containers add up", func() *corev1.Pod {
			p := testPod("p", "100m", "1Mi")
			p.Spec.Containers = append(p.Spec.Containers, container("b", "200m", "2Mi"))
			return p
		}(), 300, 3 << 20, 300, 3 << 20},
		{"init container larger than apps", func() *corev1.Pod {
			p := testPod("p", "100m", "1Mi")
			p.Spec.InitContainers = []corev1.Container{container("i", "500m", "1Mi")}
			return p
		}(), 500, 1 << 20, 500, 1 << 20},
		{"sidecars add to apps and to later inits", func() *corev1.Pod {
			p := testPod("p", "100m", "1Mi")
			p.Spec.InitContainers = []corev1.Container{
				sidecar("s", "200m"),
				container("i", "500m", "1Mi"),
			}
			return p
		}(), 700, 1 << 20, 700, 200<<20 + 1<<20},
		{"overhead is added", func() *corev1.Pod {
			p := testPod("p", "100m", "1Mi")
			p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("1Mi")}
			return p
		}(), 150, 2 << 20, 150, 2 << 20},
		{"pod-level requests win", func() *corev1.Pod {
			p := testPod("p", "100m", "")
			p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
			return p
		}(), 1000, 0, 1000, 200 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := PodRequests(tt.pod)
			if r.MilliCPU != tt.wantCPU || r.Memory != tt.wantMem {
				t.Errorf("PodRequests = %dm cpu, %d mem; want %dm, %d", r.MilliCPU, r.Memory, tt.wantCPU, tt.wantMem)
			}
			cpu, mem := podNonZeroRequests(tt.pod)
			if cpu != tt.wantNZCPU || mem != tt.wantNZMem {
				t.Errorf("podNonZeroRequests = %dm, %d; want %dm, %d", cpu, mem, tt.wantNZCPU, tt.wantNZMem)
			}
		})
	}
}

func TestLeastAllocatedScore(t *testing.T) {
	tests := []struct {
		name   string
		node   *corev1.Node
		others []*corev1.Pod
		pod    *corev1.Pod
		want   int64
	}{
		// (4000-1000)*100/4000 = 75; (8Gi-2Gi)*100/8Gi = 75.
		{"empty node", testNode("n", "4", "8Gi"), nil, testPod("p", "1", "2Gi"), 75},
		// cpu (4000-3000)*100/4000 = 25; mem (8-4)/8 = 50 → (25+50)/2 = 37.
		{"average truncates", testNode("n", "4", "8Gi"), []*corev1.Pod{testPod("o", "2", "2Gi", boundTo("n"))},
			testPod("p", "1", "2Gi"), 37},
		// no requests: 100m and 200Mi → cpu 9750/10000·… = 97, mem (1024-200)*100/1024 = 80 → 88.
		{"defaults for missing requests", testNode("n", "4", "1Gi"), nil, testPod("p", "", ""), (97 + 80) / 2},
		{"overcommitted resource scores 0", testNode("n", "1", "8Gi"), []*corev1.Pod{testPod("o", "1", "0", boundTo("n"))},
			testPod("p", "1", "4Gi"), (0 + 50) / 2},
		{"zero allocatable memory is left out", testNode("n", "4", "0"), nil, testPod("p", "1", "0"), 75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := snapshotOf([]*corev1.Node{tt.node}, tt.others...)
			if got := (NodeResourcesFit{}).Score(&CycleState{}, podInfo(tt.pod), snap.Node("n")); got != tt.want {
				t.Errorf("Score = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestTolerates(t *testing.T) {
	tests := []struct {
		name string
		tol  corev1.Toleration
		want bool
	}{
		{"exists with key", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, true},
		{"exists without key", corev1.Toleration{Operator: corev1.TolerationOpExists}, true},
		{"equal value", corev1.Toleration{Key: "k", Value: "v", Operator: corev1.TolerationOpEqual}, true},
		{"empty operator means equal", corev1.Toleration{Key: "k", Value: "v"}, true},
		{"other value", corev1.Toleration{Key: "k", Value: "w"}, false},
		{"other key", corev1.Toleration{Key: "j", Operator: corev1.TolerationOpExists}, false},
		{"same effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}, true},
		{"other effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tolerates([]corev1.Toleration{tt.tol}, "k", "v", corev1.TaintEffectNoSchedule); got != tt.want {
				t.Errorf("tolerates = %v, want %v", got, tt.want)
			}
		})
	}
}
