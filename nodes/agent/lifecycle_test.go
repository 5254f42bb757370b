package agent_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/store"
)

// check is what a pod must look like at a time after it was created.
type check struct {
	at    time.Duration
	phase corev1.PodPhase
	ready corev1.ConditionStatus
	// app container: state ("running", "waiting:<reason>",
	// "terminated:<code>"), restart count.
	state    string
	restarts int32
}

func containerState(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Running != nil:
		return "running"
	case cs.State.Terminated != nil:
		return fmt.Sprintf("terminated:%d", cs.State.Terminated.ExitCode)
	case cs.State.Waiting != nil:
		return "waiting:" + cs.State.Waiting.Reason
	}
	return "none"
}

func TestPodLifecycle(t *testing.T) {
	tests := []struct {
		name     string
		behavior fake.Behavior
		opts     []podOpt
		checks   []check
	}{
		{"ready at once", fake.Behavior{}, nil, []check{
			{0, corev1.PodRunning, corev1.ConditionTrue, "running", 0},
		}},
		{"ready after its delay", fake.Behavior{ReadyAfter: 5 * time.Second}, nil, []check{
			{0, corev1.PodRunning, corev1.ConditionFalse, "running", 0},
			{4 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "running", 0},
			{5 * time.Second, corev1.PodRunning, corev1.ConditionTrue, "running", 0},
		}},
		// A failing container is never ready.
		{"failing with Always restarts with CrashLoopBackOff",
			fake.Behavior{Fail: true, ExitCode: 2, FailAfter: 2 * time.Second}, nil, []check{
				{0, corev1.PodRunning, corev1.ConditionFalse, "running", 0},
				// first exit: restarted at once
				{2 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "running", 1},
				// second exit: 10s back-off
				{4 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 1},
				{13 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 1},
				{14 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "running", 2},
				// third exit: 20s back-off
				{16 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 2},
				{36 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "running", 3},
			}},
		{"failing with Never fails the pod",
			fake.Behavior{Fail: true, ExitCode: 3, FailAfter: time.Second}, []podOpt{restartPolicy(corev1.RestartPolicyNever)}, []check{
				{0, corev1.PodRunning, corev1.ConditionFalse, "running", 0},
				{time.Second, corev1.PodFailed, corev1.ConditionFalse, "terminated:3", 0},
				{time.Minute, corev1.PodFailed, corev1.ConditionFalse, "terminated:3", 0},
			}},
		{"failing with OnFailure restarts",
			fake.Behavior{Fail: true, FailAfter: time.Second}, []podOpt{restartPolicy(corev1.RestartPolicyOnFailure)}, []check{
				{time.Second, corev1.PodRunning, corev1.ConditionFalse, "running", 1},
				{2 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 1},
			}},
		{"completing with OnFailure succeeds",
			fake.Behavior{CompleteAfter: 3 * time.Second}, []podOpt{restartPolicy(corev1.RestartPolicyOnFailure)}, []check{
				{3 * time.Second, corev1.PodSucceeded, corev1.ConditionFalse, "terminated:0", 0},
			}},
		{"completing with Never succeeds",
			fake.Behavior{CompleteAfter: 3 * time.Second}, []podOpt{restartPolicy(corev1.RestartPolicyNever)}, []check{
				{2 * time.Second, corev1.PodRunning, corev1.ConditionTrue, "running", 0},
				{3 * time.Second, corev1.PodSucceeded, corev1.ConditionFalse, "terminated:0", 0},
			}},
		{"completing with Always restarts",
			fake.Behavior{CompleteAfter: 3 * time.Second}, nil, []check{
				{3 * time.Second, corev1.PodRunning, corev1.ConditionTrue, "running", 1},
			}},
		// A command not in the image: StartError (exit 128), then the
		// same back-off as a crash.
		{"failing to start with Always restarts with CrashLoopBackOff",
			fake.Behavior{StartError: `exec: "/no/such": stat /no/such: no such file or directory`}, nil, []check{
				{0, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 1},
				{10 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 2},
				{30 * time.Second, corev1.PodRunning, corev1.ConditionFalse, "waiting:CrashLoopBackOff", 3},
			}},
		{"failing to start with Never fails the pod",
			fake.Behavior{StartError: "exec format error"}, []podOpt{restartPolicy(corev1.RestartPolicyNever)}, []check{
				{0, corev1.PodFailed, corev1.ConditionFalse, "terminated:128", 0},
			}},
		{"init containers run first", fake.Behavior{}, []podOpt{withInit("i1", "i2")}, []check{
			{0, corev1.PodRunning, corev1.ConditionTrue, "running", 0},
		}},
		{"failing init container with Never fails the pod",
			fake.Behavior{FailInit: true}, []podOpt{withInit("i1"), restartPolicy(corev1.RestartPolicyNever)}, []check{
				{0, corev1.PodFailed, corev1.ConditionFalse, "waiting:PodInitializing", 0},
			}},
		{"failing init container with Always retries, pod pending",
			fake.Behavior{FailInit: true}, []podOpt{withInit("i1")}, []check{
				{0, corev1.PodPending, corev1.ConditionFalse, "waiting:PodInitializing", 0},
				{time.Minute, corev1.PodPending, corev1.ConditionFalse, "waiting:PodInitializing", 0},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, always(tt.behavior), -1)
			e.create(boundPod("web", tt.opts...))
			for _, c := range tt.checks {
				e.advanceTo(epoch.Add(c.at))
				p := e.pod("web")
				ready := condition(p, corev1.PodReady)
				if ready == nil || len(p.Status.ContainerStatuses) != 1 {
					t.Fatalf("at %v: no Ready condition or container status: %+v", c.at, p.Status)
				}
				cs := p.Status.ContainerStatuses[0]
				got := fmt.Sprintf("%s ready=%s %s restarts=%d", p.Status.Phase, ready.Status, containerState(cs), cs.RestartCount)
				want := fmt.Sprintf("%s ready=%s %s restarts=%d", c.phase, c.ready, c.state, c.restarts)
				if got != want {
					t.Fatalf("at %v:\n got %s\nwant %s", c.at, got, want)
				}
			}
		})
	}
}

// TestPodStatusDetails checks the fields of a running, then ready pod.
func TestPodStatusDetails(t *testing.T) {
	e := newEnv(t, always(fake.Behavior{ReadyAfter: 5 * time.Second}), -1)
	e.create(boundPod("web", withInit("setup")))
	e.advanceTo(epoch)
	p := e.pod("web")

	if p.Status.StartTime == nil || !p.Status.StartTime.Time.Equal(epoch) {
		t.Errorf("startTime = %v, want %v", p.Status.StartTime, epoch)
	}
	if p.Status.HostIP != "172.16.0.1" {
		t.Errorf("hostIP = %q", p.Status.HostIP)
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil || !netip.MustParsePrefix("10.64.0.0/24").Contains(ip) || len(p.Status.PodIPs) != 1 {
		t.Errorf("podIP = %q, podIPs = %v: want one IP in the node's 10.64.0.0/24", p.Status.PodIP, p.Status.PodIPs)
	}
	var types []string
	for _, c := range p.Status.Conditions {
		types = append(types, fmt.Sprintf("%s=%s", c.Type, c.Status))
		if !c.LastTransitionTime.Time.Equal(epoch) {
			t.Errorf("%s lastTransitionTime = %v, want %v", c.Type, c.LastTransitionTime, epoch)
		}
	}
	want := []string{"PodReadyToStartContainers=True", "Initialized=True", "Ready=False", "ContainersReady=False", "PodScheduled=True"}
	if !slices.Equal(types, want) {
		t.Errorf("conditions = %v, want %v", types, want)
	}
	if r := condition(p, corev1.PodReady); r.Reason != "ContainersNotReady" || r.Message != "containers with unready status: [app]" {
		t.Errorf("Ready = %s %q", r.Reason, r.Message)
	}
	ics := p.Status.InitContainerStatuses
	if len(ics) != 1 || ics[0].State.Terminated == nil || ics[0].State.Terminated.Reason != "Completed" || !ics[0].Ready {
		t.Errorf("init container status = %+v", ics)
	}
	cs := p.Status.ContainerStatuses[0]
	if !strings.HasPrefix(cs.ContainerID, "fake://") || cs.Image != "app:1" || cs.ImageID == "" ||
		cs.Started == nil || !*cs.Started || cs.Ready || !cs.State.Running.StartedAt.Time.Equal(epoch) {
		t.Errorf("container status = %+v", cs)
	}

	e.advanceTo(epoch.Add(5 * time.Second))
	p = e.pod("web")
	for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
		c := condition(p, typ)
		if c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(epoch.Add(5*time.Second)) {
			t.Errorf("%s = %s since %v, want True since +5s", typ, c.Status, c.LastTransitionTime)
		}
	}
	if c := condition(p, corev1.PodScheduled); !c.LastTransitionTime.Time.Equal(epoch) {
		t.Errorf("PodScheduled moved: %v", c.LastTransitionTime)
	}

	// Nothing changes any more: no writes, no wake-ups.
	rv := p.ResourceVersion
	e.advanceTo(epoch.Add(time.Hour))
	if got := e.pod("web").ResourceVersion; got != rv {
		t.Errorf("pod rewritten while nothing changed: rv %s → %s", rv, got)
	}
	if _, due := e.mgr.NextDue(); due {
		t.Error("work still due on an idle node")
	}
}

func TestCrashLoopStatus(t *testing.T) {
	e := newEnv(t, always(fake.Behavior{Fail: true, ExitCode: 2, FailAfter: 2 * time.Second}), -1)
	e.create(boundPod("web"))
	e.advanceTo(epoch.Add(4 * time.Second))
	p := e.pod("web")
	cs := p.Status.ContainerStatuses[0]
	wantMsg := fmt.Sprintf("back-off 10s restarting failed container=app pod=web_default(%s)", p.UID)
	if cs.State.Waiting == nil || cs.State.Waiting.Message != wantMsg {
		t.Errorf("waiting = %+v, want message %q", cs.State.Waiting, wantMsg)
	}
	last := cs.LastTerminationState.Terminated
	if last == nil || last.ExitCode != 2 || last.Reason != "Error" || !last.FinishedAt.Time.Equal(epoch.Add(4*time.Second)) {
		t.Errorf("lastState = %+v", last)
	}
	wantEvent := fmt.Sprintf("Warning BackOff Back-off restarting failed container app in pod web_default(%s)", p.UID)
	if !slices.Contains(e.events.Events(), wantEvent) {
		t.Errorf("events %q lack %q", e.events.Events(), wantEvent)
	}
	// The runtime keeps the running or newest instance and one before it.
	e.advanceTo(epoch.Add(time.Minute))
	if s := e.rt.Stats(); s.Containers > 2 {
		t.Errorf("runtime holds %d containers of one, want at most 2", s.Containers)
	}
}

// TestStartErrorStatus: a container the runtime cannot start shows, like
// kubelet's, a StartError termination with exit code 128 and the runtime's
// message as its last state, and the failure as a Warning event.
func TestStartErrorStatus(t *testing.T) {
	const msg = `exec: "/no/such": stat /no/such: no such file or directory`
	e := newEnv(t, always(fake.Behavior{StartError: msg}), -1)
	e.create(boundPod("web"))
	e.advanceTo(epoch.Add(time.Second))
	cs := e.pod("web").Status.ContainerStatuses[0]
	if w := cs.State.Waiting; w == nil || w.Reason != "CrashLoopBackOff" {
		t.Errorf("state = %+v, want waiting CrashLoopBackOff", cs.State)
	}
	last := cs.LastTerminationState.Terminated
	if last == nil || last.ExitCode != 128 || last.Reason != "StartError" || last.Message != msg {
		t.Errorf("lastState = %+v, want StartError 128 with the runtime's message", last)
	}
	found := false
	for _, ev := range e.events.Events() {
		found = found || strings.HasPrefix(ev, "Warning Failed Error: ") && strings.Contains(ev, msg)
	}
	if !found {
		t.Errorf("events %q lack the failed start", e.events.Events())
	}
	if s := e.rt.Stats(); s.Containers > 2 {
		t.Errorf("runtime holds %d containers of one, want at most 2", s.Containers)
	}
}

func TestDeletionHonoursGrace(t *testing.T) {
	s := func(n int64) *int64 { return &n }
	tests := []struct {
		name      string
		stopDelay time.Duration
		spec      int64  // terminationGracePeriodSeconds
		deletion  *int64 // deletionGracePeriodSeconds
		gone      time.Duration
	}{
		{"stops at once", 0, 30, nil, 0},
		{"stops within the grace", 20 * time.Second, 30, nil, 20 * time.Second},
		{"killed when the grace ends", time.Minute, 30, nil, 30 * time.Second},
		{"deletion grace overrides the spec's", time.Minute, 30, s(5), 5 * time.Second},
		{"grace zero kills at once", time.Minute, 30, s(0), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, always(fake.Behavior{StopDelay: tt.stopDelay}), -1)
			e.create(boundPod("web", gracePeriod(tt.spec)))
			e.advanceTo(epoch)
			start := epoch.Add(time.Minute)
			e.advanceTo(start)
			e.deletePod("web", tt.deletion)
			if tt.gone > 0 {
				e.advanceTo(start.Add(tt.gone - time.Second))
				if e.pod("web") == nil {
					t.Fatalf("pod gone before %v", tt.gone)
				}
				if s := e.rt.Stats(); s.RunningContainers != 1 {
					t.Fatalf("container not running while stopping: %+v", s)
				}
			}
			e.advanceTo(start.Add(tt.gone))
			if e.pod("web") != nil {
				t.Fatalf("pod still there at %v", tt.gone)
			}
			if s := e.rt.Stats(); s.Sandboxes != 0 || s.Containers != 0 {
				t.Errorf("runtime not cleaned: %+v", s)
			}
		})
	}
}

func TestForceDeletedPodIsCleanedUp(t *testing.T) {
	e := newEnv(t, nil, -1)
	e.create(boundPod("web"))
	e.advanceTo(epoch)
	if s := e.rt.Stats(); s.RunningContainers != 1 {
		t.Fatalf("stats %+v", s)
	}
	if err := e.store.Delete(e.ctx, "Pod", "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(epoch.Add(time.Second))
	if s := e.rt.Stats(); s.Sandboxes != 0 || s.Containers != 0 {
		t.Errorf("runtime not cleaned: %+v", s)
	}
}

func TestNodeHeartbeat(t *testing.T) {
	e := newEnv(t, nil, 10*time.Second)
	e.advanceTo(epoch)
	n := e.node()
	if n.Labels[corev1.LabelHostname] != "node-0000" || n.Labels[corev1.LabelOSStable] != "linux" ||
		n.Spec.PodCIDR != "10.64.0.0/24" || n.Status.Allocatable.Pods().Value() != 110 ||
		n.Status.Allocatable.Cpu().String() != "4" {
		t.Errorf("node = %+v", n)
	}
	ready := func(n *corev1.Node) corev1.NodeCondition {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c
			}
		}
		t.Fatal("no Ready condition")
		return corev1.NodeCondition{}
	}
	if c := ready(n); c.Status != corev1.ConditionTrue || c.Reason != "KubeletReady" || !c.LastHeartbeatTime.Time.Equal(epoch) {
		t.Errorf("Ready = %+v", c)
	}
	for _, tc := range []struct{ at, beat time.Duration }{
		{9 * time.Second, 0},
		{10 * time.Second, 10 * time.Second},
		{25 * time.Second, 20 * time.Second},
		{time.Minute, time.Minute},
	} {
		e.advanceTo(epoch.Add(tc.at))
		c := ready(e.node())
		if !c.LastHeartbeatTime.Time.Equal(epoch.Add(tc.beat)) || !c.LastTransitionTime.Time.Equal(epoch) {
			t.Errorf("at %v: heartbeat %v, transition %v; want +%v, +0", tc.at, c.LastHeartbeatTime, c.LastTransitionTime, tc.beat)
		}
	}
	// A label someone else set survives the heartbeat.
	n = e.node()
	n.Labels["team"] = "a"
	n.Spec.Unschedulable = true
	if _, err := e.store.Update(e.ctx, n); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(epoch.Add(2 * time.Minute))
	if n := e.node(); n.Labels["team"] != "a" || !n.Spec.Unschedulable {
		t.Errorf("heartbeat lost others' changes: %v, unschedulable=%v", n.Labels, n.Spec.Unschedulable)
	}
}

// TestAgentRestartAdopts: a new agent over the same runtime takes over
// the running pod without restarting it.
func TestAgentRestartAdopts(t *testing.T) {
	e := newEnv(t, nil, -1)
	e.create(boundPod("web"))
	e.advanceTo(epoch)
	before := e.pod("web").Status.ContainerStatuses[0].ContainerID

	a2, err := agent.New(agent.Options{
		Config:  agent.Config{NodeName: fake.NodeName(0), HeartbeatPeriod: -1, RuntimeName: "fake"},
		Store:   e.store,
		Runtime: e.rt,
		Prober:  fake.Prober{Runtime: e.rt},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mgr = newManager(e.store, e.clock)
	a2.Register(e.mgr)
	e.advanceTo(epoch.Add(time.Minute))
	p := e.pod("web")
	cs := p.Status.ContainerStatuses[0]
	if cs.ContainerID != before || cs.RestartCount != 0 || condition(p, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Errorf("after agent restart: %s restarts=%d (was %s)", cs.ContainerID, cs.RestartCount, before)
	}
	if s := e.rt.Stats(); s.Sandboxes != 1 || s.Containers != 1 {
		t.Errorf("runtime %+v, want the one sandbox and container", s)
	}
}

func TestPoolRunsEachNodesPods(t *testing.T) {
	clk := clocktesting.NewFakeClock(epoch)
	st := store.NewMemory(clk)
	defer st.Close()
	pool, rts, err := fake.NewNodes(3, st, fake.NodeOptions{Clock: clk, HeartbeatPeriod: -1})
	if err != nil {
		t.Fatal(err)
	}
	mgr := newManager(st, clk)
	pool.Register(mgr)
	for i, node := range []int{1, 2, 2} {
		p := boundPod(fmt.Sprintf("p%d", i))
		p.Spec.NodeName = fake.NodeName(node)
		if _, err := st.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := mgr.RunUntilIdle(context.Background(), clk, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 1, 2} {
		if got := rts[i].Stats().RunningContainers; got != want {
			t.Errorf("%s runs %d containers, want %d", fake.NodeName(i), got, want)
		}
	}
	nodes, _, _ := st.List(context.Background(), "Node", store.ListOptions{})
	if len(nodes) != 3 {
		t.Errorf("%d nodes registered, want 3", len(nodes))
	}
	for i := range 3 {
		obj, _ := st.Get(context.Background(), "Pod", "default", fmt.Sprintf("p%d", i))
		if p := obj.(*corev1.Pod); p.Status.Phase != corev1.PodRunning {
			t.Errorf("%s: phase %s", p.Name, p.Status.Phase)
		}
	}
}
