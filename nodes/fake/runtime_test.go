package fake

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)}}
}

// newRuntime returns a runtime whose every pod behaves as b, and a
// running container in a fresh sandbox.
func newRuntime(t *testing.T, b Behavior, init bool) (*Runtime, *clocktesting.FakeClock, string, string) {
	t.Helper()
	clk := clocktesting.NewFakeClock(epoch)
	rt, err := New(Options{Clock: clk, Behavior: func(*corev1.Pod) Behavior { return b }, PodCIDR: "10.1.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pod := testPod("web")
	sb, err := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: pod, Labels: nodes.SandboxLabels(pod)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, &nodes.ContainerConfig{Name: "app", Image: "app:1", Init: init,
		Labels: nodes.ContainerLabels(pod, "app")})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return rt, clk, sb.ID, id
}

// describe is a container's state at the clock's time, as one string.
func describe(t *testing.T, rt *Runtime, id string) string {
	t.Helper()
	st, err := rt.ContainerStatus(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	ready, _, _ := rt.Ready(id)
	if st.State == nodes.ContainerExited {
		return fmt.Sprintf("exited %d %s at +%v", st.ExitCode, st.Reason, st.FinishedAt.Sub(epoch))
	}
	return fmt.Sprintf("%s ready=%v", st.State, ready)
}

func TestBehavior(t *testing.T) {
	type at struct {
		d    time.Duration
		want string
	}
	tests := []struct {
		name   string
		b      Behavior
		init   bool
		checks []at
	}{
		{"zero behaviour runs, ready at once", Behavior{}, false, []at{
			{0, "CONTAINER_RUNNING ready=true"},
			{time.Hour, "CONTAINER_RUNNING ready=true"},
		}},
		{"ready after a delay", Behavior{ReadyAfter: 5 * time.Second}, false, []at{
			{0, "CONTAINER_RUNNING ready=false"},
			{4 * time.Second, "CONTAINER_RUNNING ready=false"},
			{5 * time.Second, "CONTAINER_RUNNING ready=true"},
		}},
		{"fails with exit 1 by default, never ready", Behavior{Fail: true, FailAfter: 3 * time.Second}, false, []at{
			{2 * time.Second, "CONTAINER_RUNNING ready=false"},
			{3 * time.Second, "exited 1 Error at +3s"},
		}},
		{"fails with its exit code", Behavior{Fail: true, ExitCode: 42}, false, []at{
			{0, "exited 42 Error at +0s"},
		}},
		{"completes", Behavior{CompleteAfter: time.Minute}, false, []at{
			{time.Minute, "exited 0 Completed at +1m0s"},
		}},
		{"init container exits 0 at once", Behavior{Fail: true}, true, []at{
			{0, "exited 0 Completed at +0s"},
		}},
		{"failing init container", Behavior{FailInit: true, FailAfter: time.Second}, true, []at{
			{0, "CONTAINER_RUNNING ready=true"},
			{time.Second, "exited 1 Error at +1s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, clk, _, id := newRuntime(t, tt.b, tt.init)
			for _, c := range tt.checks {
				clk.SetTime(epoch.Add(c.d))
				if got := describe(t, rt, id); got != c.want {
					t.Errorf("at +%v: %s, want %s", c.d, got, c.want)
				}
			}
		})
	}
}

func TestStopContainer(t *testing.T) {
	tests := []struct {
		name      string
		b         Behavior
		timeout   time.Duration
		runningAt time.Duration // still running then (if > 0)
		want      string
	}{
		{"stops at once", Behavior{}, 30 * time.Second, 0, "exited 143 Error at +0s"},
		{"stops after its delay", Behavior{StopDelay: 10 * time.Second}, 30 * time.Second, 9 * time.Second, "exited 143 Error at +10s"},
		{"killed at the timeout", Behavior{StopDelay: time.Minute}, 30 * time.Second, 29 * time.Second, "exited 137 Error at +30s"},
		{"timeout zero kills at once", Behavior{StopDelay: time.Minute}, 0, 0, "exited 137 Error at +0s"},
		{"an earlier exit of its own wins", Behavior{CompleteAfter: 5 * time.Second, StopDelay: time.Minute}, time.Hour, 0,
			"exited 0 Completed at +5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, clk, sb, id := newRuntime(t, tt.b, false)
			if err := rt.StopContainer(context.Background(), id, tt.timeout); err != nil {
				t.Fatal(err)
			}
			if tt.runningAt > 0 {
				clk.SetTime(epoch.Add(tt.runningAt))
				if got := describe(t, rt, id); got != "CONTAINER_RUNNING ready=true" {
					t.Errorf("at +%v: %s, want still running", tt.runningAt, got)
				}
				if next, ok := rt.NextChange(sb); !ok || next.After(epoch.Add(time.Hour)) {
					t.Errorf("NextChange = %v, %v: want the exit", next, ok)
				}
			}
			clk.SetTime(epoch.Add(time.Hour))
			if got := describe(t, rt, id); got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
		})
	}
}

func TestNextChange(t *testing.T) {
	rt, clk, sb, _ := newRuntime(t, Behavior{ReadyAfter: 5 * time.Second, CompleteAfter: 8 * time.Second}, false)
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration // -1: nothing due
	}{{0, 5 * time.Second}, {5 * time.Second, 8 * time.Second}, {8 * time.Second, -1}} {
		clk.SetTime(epoch.Add(tc.at))
		next, ok := rt.NextChange(sb)
		gnext, gok := rt.Next()
		if tc.want < 0 {
			if ok || gok {
				t.Errorf("at +%v: next %v, want nothing", tc.at, next)
			}
			continue
		}
		if !ok || !next.Equal(epoch.Add(tc.want)) || !gnext.Equal(next) || !gok {
			t.Errorf("at +%v: next %v (runtime %v), want +%v", tc.at, next, gnext, tc.want)
		}
	}
	if _, ok := rt.NextChange("sandbox-unknown"); ok {
		t.Error("NextChange of an unknown sandbox")
	}
}

func TestSandboxesAndIPs(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(epoch)
	rt, err := New(Options{Clock: clk, PodCIDR: "10.9.0.0/29"}) // hosts .2 to .6
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		sb, err := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: testPod(fmt.Sprint(i)), Labels: map[string]string{"i": fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("10.9.0.%d", i+2); sb.IP != want {
			t.Errorf("sandbox %d IP %s, want %s", i, sb.IP, want)
		}
		ids = append(ids, sb.ID)
	}
	if _, err := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: testPod("x")}); err == nil {
		t.Error("no error with the subnet full")
	}
	hostNet := testPod("h")
	hostNet.Spec.HostNetwork = true
	if sb, err := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: hostNet}); err != nil || sb.IP != "" {
		t.Errorf("hostNetwork sandbox: %+v, %v", sb, err)
	}
	// Stopping releases the IP; the lowest free one is reused.
	if err := rt.StopPodSandbox(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if sb, _ := rt.RunPodSandbox(ctx, &nodes.PodSandboxConfig{Pod: testPod("y")}); sb.IP != "10.9.0.3" {
		t.Errorf("reused IP %s, want 10.9.0.3", sb.IP)
	}
	got, _ := rt.ListPodSandboxes(ctx, nodes.SandboxFilter{Labels: map[string]string{"i": "1"}})
	if len(got) != 1 || got[0].State != nodes.SandboxNotReady {
		t.Errorf("by label: %+v", got)
	}
	got, _ = rt.ListPodSandboxes(ctx, nodes.SandboxFilter{State: nodes.SandboxReady})
	if len(got) != 6 || got[0].ID != ids[0] {
		t.Errorf("ready sandboxes: %d, first %v", len(got), got)
	}
	if err := rt.RemovePodSandbox(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemovePodSandbox(ctx, ids[0]); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if err := rt.StopPodSandbox(ctx, ids[0]); !errors.Is(err, nodes.ErrNotFound) {
		t.Errorf("stop removed sandbox: %v", err)
	}
	if _, err := rt.CreateContainer(ctx, ids[1], &nodes.ContainerConfig{Name: "c"}); err == nil {
		t.Error("created a container in a stopped sandbox")
	}
}

func TestContainersListAndRemove(t *testing.T) {
	ctx := context.Background()
	rt, _, sb, id := newRuntime(t, Behavior{}, false)
	pod := testPod("web")
	id2, _ := rt.CreateContainer(ctx, sb, &nodes.ContainerConfig{Name: "side", Labels: nodes.ContainerLabels(pod, "side")})
	all, _ := rt.ListContainers(ctx, nodes.ContainerFilter{SandboxID: sb})
	if len(all) != 2 || all[0].ID != id || all[1].ID != id2 {
		t.Fatalf("list = %+v", all)
	}
	byName, _ := rt.ListContainers(ctx, nodes.ContainerFilter{Labels: map[string]string{nodes.LabelContainerName: "side"}})
	running, _ := rt.ListContainers(ctx, nodes.ContainerFilter{State: nodes.ContainerRunning})
	if len(byName) != 1 || byName[0].State != nodes.ContainerCreated || len(running) != 1 || running[0].ID != id {
		t.Errorf("filters: by name %+v, running %+v", byName, running)
	}
	if _, err := rt.Exec(ctx, id2, []string{"true"}, time.Second); !errors.Is(err, nodes.ErrNotRunning) {
		t.Errorf("exec in a created container: %v", err)
	}
	if res, err := rt.Exec(ctx, id, []string{"true"}, time.Second); err != nil || res.ExitCode != 0 {
		t.Errorf("exec = %+v, %v", res, err)
	}
	if err := rt.StartContainer(ctx, id); err == nil {
		t.Error("started a running container")
	}
	if err := rt.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ContainerStatus(ctx, id); !errors.Is(err, nodes.ErrNotFound) {
		t.Errorf("status of a removed container: %v", err)
	}
	if s := rt.Stats(); s.Containers != 1 || s.RunningContainers != 0 || s.Sandboxes != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestPullImage(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("registry down")
	rt, err := New(Options{
		Clock:  clocktesting.NewFakeClock(epoch),
		Images: []string{"cached:1"},
		PullError: func(image string) error {
			if image == "broken:1" {
				return boom
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image   string
		policy  corev1.PullPolicy
		wantErr error
		pulls   int
	}{
		{"cached:1", corev1.PullNever, nil, 0},
		{"cached:1", corev1.PullIfNotPresent, nil, 0},
		{"absent:1", corev1.PullNever, nodes.ErrImageNeverPull, 0},
		{"absent:1", corev1.PullIfNotPresent, nil, 1},
		{"absent:1", corev1.PullIfNotPresent, nil, 1},
		{"absent:1", corev1.PullAlways, nil, 2},
		{"broken:1", corev1.PullIfNotPresent, nodes.ErrImagePull, 2},
	}
	for _, tt := range tests {
		ref, err := rt.PullImage(ctx, tt.image, tt.policy, nil)
		if !errors.Is(err, tt.wantErr) || (err == nil && ref == "") {
			t.Errorf("pull %s %s: %q, %v; want error %v", tt.image, tt.policy, ref, err, tt.wantErr)
		}
		if tt.wantErr == nodes.ErrImagePull && !errors.Is(err, boom) {
			t.Errorf("pull error lost its cause: %v", err)
		}
		if got := rt.Stats().Pulls; got != tt.pulls {
			t.Errorf("after %s %s: %d pulls, want %d", tt.image, tt.policy, got, tt.pulls)
		}
	}
}
