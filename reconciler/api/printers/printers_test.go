package printers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func meta(ns, name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ago(age)}
}

func deployment(ns, name string, replicas, ready, updated, available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta(ns, name, 5*time.Minute),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "hello:v1"}}}},
		},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready, UpdatedReplicas: updated, AvailableReplicas: available},
	}
}

func runningPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta(ns, name, 90*time.Second),
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app"}}},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			PodIPs:            []corev1.PodIP{{IP: "10.42.0.7"}},
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
}

func printTable(t *testing.T, kind string, objs []store.Object, opts TableOptions) string {
	t.Helper()
	k, err := LookupKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = now
	var buf bytes.Buffer
	if err := PrintTable(&buf, k, objs, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func TestTables(t *testing.T) {
	ready := true
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", CreationTimestamp: ago(48 * time.Hour), Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
		Spec:       corev1.NodeSpec{Unschedulable: true},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "berth-dev", KernelVersion: "6.1.0", Architecture: "amd64", OSImage: "Debian", ContainerRuntimeVersion: "containerd://1.7.29"},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
		},
	}
	completions := int32(3)
	tests := []struct {
		name string
		kind string
		objs []store.Object
		opts TableOptions
		want string
	}{
		{"deployments", "deploy", []store.Object{deployment("default", "web", 3, 2, 3, 2), deployment("default", "api", 1, 1, 1, 1)}, TableOptions{}, lines(
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE",
			"web    2/3     3            2           5m",
			"api    1/1     1            1           5m")},
		{"deployments wide", "deployments", []store.Object{deployment("default", "web", 3, 2, 3, 2)}, TableOptions{Wide: true}, lines(
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES     SELECTOR",
			"web    2/3     3            2           5m    app          hello:v1   app=web")},
		{"deployments all namespaces", "deployment", []store.Object{deployment("default", "web", 3, 3, 3, 3), deployment("shop", "cart", 2, 2, 2, 2)}, TableOptions{AllNamespaces: true}, lines(
			"NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   AGE",
			"default     web    3/3     3            3           5m",
			"shop        cart   2/2     2            2           5m")},
		{"pods", "po", []store.Object{runningPod("default", "web-1")}, TableOptions{}, lines(
			"NAME    READY   STATUS    RESTARTS   AGE",
			"web-1   1/1     Running   0          90s")},
		{"pods wide", "pods", []store.Object{runningPod("default", "web-1")}, TableOptions{Wide: true}, lines(
			"NAME    READY   STATUS    RESTARTS   AGE   IP          NODE     NOMINATED NODE   READINESS GATES",
			"web-1   1/1     Running   0          90s   10.42.0.7   node-1   <none>           <none>")},
		{"replicasets", "rs", []store.Object{&appsv1.ReplicaSet{ObjectMeta: meta("default", "web-5d8f", 2*time.Hour), Spec: appsv1.ReplicaSetSpec{Replicas: &completions}, Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}}}, TableOptions{}, lines(
			"NAME       DESIRED   CURRENT   READY   AGE",
			"web-5d8f   3         3         1       120m")},
		{"nodes", "no", []store.Object{node}, TableOptions{}, lines(
			"NAME     STATUS                     ROLES           AGE   VERSION",
			"node-1   Ready,SchedulingDisabled   control-plane   2d    berth-dev")},
		{"nodes wide, -A ignored for cluster-scoped kinds", "nodes", []store.Object{node}, TableOptions{Wide: true, AllNamespaces: true}, lines(
			"NAME     STATUS                     ROLES           AGE   VERSION     INTERNAL-IP    EXTERNAL-IP   OS-IMAGE   KERNEL-VERSION   CONTAINER-RUNTIME",
			"node-1   Ready,SchedulingDisabled   control-plane   2d    berth-dev   192.168.1.10   <none>        Debian     6.1.0 (amd64)    containerd://1.7.29")},
		{"node without Ready condition", "node", []store.Object{&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: ago(time.Minute)}}}, TableOptions{}, lines(
			"NAME   STATUS    ROLES    AGE   VERSION",
			"n      Unknown   <none>   60s   ")},
		{"daemonsets", "ds", []store.Object{&appsv1.DaemonSet{ObjectMeta: meta("default", "agent", 10*time.Minute), Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 1, UpdatedNumberScheduled: 2, NumberAvailable: 1}}}, TableOptions{}, lines(
			"NAME    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE",
			"agent   2         2         1       2            1           <none>          10m")},
		{"jobs", "jobs", []store.Object{&batchv1.Job{ObjectMeta: meta("default", "migrate", time.Hour),
			Spec:   batchv1.JobSpec{Completions: &completions},
			Status: batchv1.JobStatus{Succeeded: 3, StartTime: ptr(ago(time.Hour)), CompletionTime: ptr(ago(59 * time.Minute)), Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}}, TableOptions{}, lines(
			"NAME      STATUS     COMPLETIONS   DURATION   AGE",
			"migrate   Complete   3/3           60s        60m")},
		{"cronjobs", "cj", []store.Object{&batchv1.CronJob{ObjectMeta: meta("default", "backup", 3*24*time.Hour),
			Spec:   batchv1.CronJobSpec{Schedule: "*/5 * * * *", Suspend: new(false)},
			Status: batchv1.CronJobStatus{LastScheduleTime: ptr(ago(2 * time.Minute))}}}, TableOptions{}, lines(
			"NAME     SCHEDULE      TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE",
			"backup   */5 * * * *   <none>     false     0        2m              3d")},
		{"services", "svc", []store.Object{&corev1.Service{ObjectMeta: meta("default", "web", time.Minute),
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"10.43.0.10"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}}, TableOptions{}, lines(
			"NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE",
			"web    ClusterIP   10.43.0.10   <none>        80/TCP    60s")},
		{"configmaps", "cm", []store.Object{&corev1.ConfigMap{ObjectMeta: meta("default", "conf", time.Minute), Data: map[string]string{"a": "1", "b": "2"}}}, TableOptions{}, lines(
			"NAME   DATA   AGE",
			"conf   2      60s")},
		{"secrets", "secrets", []store.Object{&corev1.Secret{ObjectMeta: meta("default", "token", time.Minute), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"t": nil}}}, TableOptions{}, lines(
			"NAME    TYPE     DATA   AGE",
			"token   Opaque   1      60s")},
		{"namespaces", "ns", []store.Object{&corev1.Namespace{ObjectMeta: meta("", "default", time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}}, TableOptions{}, lines(
			"NAME      STATUS   AGE",
			"default   Active   60m")},
		{"events", "ev", []store.Object{&corev1.Event{ObjectMeta: meta("default", "web.1", time.Minute), Type: "Normal", Reason: "ScalingReplicaSet",
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"}, Message: "Scaled up replica set web-5d8f to 3", FirstTimestamp: ago(time.Minute), LastTimestamp: ago(30 * time.Second)}}, TableOptions{}, lines(
			"LAST SEEN   TYPE     REASON              OBJECT           MESSAGE",
			"30s         Normal   ScalingReplicaSet   deployment/web   Scaled up replica set web-5d8f to 3")},
		{"sources", "sources", []store.Object{&sources.Resource{ObjectMeta: meta("", "web", time.Hour),
			Spec: sources.SourceSpec{Type: sources.TypeGit, URL: "https://example.com/web.git", Branch: "main"},
			Status: sources.SourceStatus{LastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
				Conditions: []metav1.Condition{{Type: sources.ConditionReady, Status: metav1.ConditionTrue, Message: "Applied revision main@sha1:0123456789ab"}}}},
			&sources.Resource{ObjectMeta: meta("", "local", time.Minute), Spec: sources.SourceSpec{Type: sources.TypeDir, URL: "/srv/manifests"}}}, TableOptions{}, lines(
			"NAME    TYPE   URL                           REVISION                 READY     STATUS                                    AGE",
			"web     git    https://example.com/web.git   main@sha1:0123456789ab   True      Applied revision main@sha1:0123456789ab   60m",
			"local   dir    /srv/manifests                <none>                   Unknown   <none>                                    60s")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printTable(t, tt.kind, tt.objs, tt.opts); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	_ = ready
}

func ptr[T any](v T) *T { return &v }

func TestSyncColumns(t *testing.T) {
	web := deployment("default", "web", 3, 3, 3, 3)
	web.Labels = map[string]string{LabelSource: "apps"}
	pinned := deployment("default", "api", 1, 1, 1, 1)
	pinned.Labels = map[string]string{LabelSource: "apps"}
	pinned.Annotations = map[string]string{AnnotationPinned: "abc"}
	manual := deployment("default", "manual", 1, 1, 1, 1)
	ix := NewSourceIndex([]*sources.Resource{{ObjectMeta: metav1.ObjectMeta{Name: "apps"}, Status: sources.SourceStatus{Resources: []sources.ResourceStatus{
		{Kind: "Deployment", Namespace: "default", Name: "web", Sync: sources.SyncSynced, Health: sources.HealthHealthy},
		{Kind: "Deployment", Namespace: "default", Name: "api", Sync: sources.SyncOutOfSync, Health: sources.HealthProgressing},
	}}}})
	got := printTable(t, "deploy", []store.Object{web, pinned, manual}, TableOptions{Sources: ix})
	// HEALTH is the object's own, now (api's source entry still says
	// Progressing: it lags); SYNC is the source's, Pinned winning.
	want := lines(
		"NAME     READY   UP-TO-DATE   AVAILABLE   SYNC     HEALTH    AGE",
		"web      3/3     3            3           Synced   Healthy   5m",
		"api      1/1     1            1           Pinned   Healthy   5m",
		"manual   1/1     1            1           <none>   <none>    5m")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Without any sourced object the columns stay out.
	got = printTable(t, "deploy", []store.Object{manual}, TableOptions{Sources: ix})
	if strings.Contains(got, "SYNC") {
		t.Errorf("SYNC column without a sourced object:\n%s", got)
	}
}

func TestPodStatus(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	waiting := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	terminated := func(reason string, code int32) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	lastTerm := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(12 * time.Second)}}
	tests := []struct {
		name string
		pod  corev1.Pod
		want PodRow
	}{
		{"pending, unscheduled", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			PodRow{"0/1", "Pending", "0"}},
		{"container creating", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: waiting("ContainerCreating")}}}},
			PodRow{"0/1", "ContainerCreating", "0"}},
		{"crash loop with restarts", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", RestartCount: 4, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerm}}}},
			PodRow{"0/1", "CrashLoopBackOff", "4 (12s ago)"}},
		{"completed", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: terminated("Completed", 0)}}}},
			PodRow{"0/1", "Completed", "0"}},
		{"error exit without reason", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: terminated("", 3)}}}},
			PodRow{"0/1", "ExitCode:3", "0"}},
		{"one completed one running and ready", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: terminated("Completed", 0)}, {Name: "b", Ready: true, State: running}}}},
			PodRow{"1/2", "Running", "0"}},
		{"one completed one running, pod not ready", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: terminated("Completed", 0)}, {Name: "b", Ready: true, State: running}}}},
			PodRow{"1/2", "NotReady", "0"}},
		{"init container running", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "i", State: running}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "a", State: waiting("PodInitializing")}}}},
			PodRow{"0/1", "Init:0/1", "0"}},
		{"second init container waiting", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}, {Name: "j"}}, Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "i", State: terminated("Completed", 0)}, {Name: "j", State: waiting("PodInitializing")}}}},
			PodRow{"0/1", "Init:1/2", "0"}},
		{"init container crash loop", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "i", RestartCount: 2, State: waiting("CrashLoopBackOff")}}}},
			PodRow{"0/1", "Init:CrashLoopBackOff", "2"}},
		{"init container failed", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodFailed,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "i", State: terminated("Error", 1)}}}},
			PodRow{"0/1", "Init:Error", "0"}},
		{"sidecar started counts as ready", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "s", RestartPolicy: &always}}, Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions:            []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "s", Started: new(true), Ready: true, State: running}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}}}},
			PodRow{"2/2", "Running", "0"}},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr(ago(time.Second))}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", Ready: true, State: running}}}},
			PodRow{"1/1", "Terminating", "0"}},
		{"finished pod being deleted is not terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr(ago(time.Second))}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "a", State: terminated("Completed", 0)}}}},
			PodRow{"0/1", "Completed", "0"}},
		{"node lost", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: ptr(ago(time.Second))}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"}},
			PodRow{"0/1", "Unknown", "0"}},
		{"pod reason overrides phase", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}},
			PodRow{"0/1", "Evicted", "0"}},
		{"scheduling gated", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Reason: corev1.PodReasonSchedulingGated}}}},
			PodRow{"0/1", "SchedulingGated", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodStatus(&tt.pod, now); got != tt.want {
				t.Errorf("PodStatus() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLookupKind(t *testing.T) {
	for _, name := range []string{"deploy", "deployment", "deployments", "Deployments", "deployments.apps", "deployment.apps"} {
		k, err := LookupKind(name)
		if err != nil || k.Kind != "Deployment" {
			t.Errorf("LookupKind(%q) = %v, %v", name, k.Kind, err)
		}
	}
	for name, kind := range map[string]string{"no": "Node", "po": "Pod", "rs": "ReplicaSet", "ds": "DaemonSet", "cj": "CronJob", "svc": "Service",
		"cm": "ConfigMap", "secrets": "Secret", "sources": "Source", "ev": "Event", "ns": "Namespace", "jobs": "Job"} {
		if k, err := LookupKind(name); err != nil || k.Kind != kind {
			t.Errorf("LookupKind(%q) = %v, %v; want %s", name, k.Kind, err, kind)
		}
	}
	if _, err := LookupKind("widgets"); err == nil || !strings.Contains(err.Error(), `doesn't have a resource type "widgets"`) {
		t.Errorf("LookupKind(widgets) error = %v", err)
	}
	k, name, err := ParseKindName("deploy/web")
	if err != nil || k.Kind != "Deployment" || name != "web" {
		t.Errorf("ParseKindName = %v %q %v", k.Kind, name, err)
	}
	for _, bad := range []string{"web", "deploy/", "/web", "deploy/a/b"} {
		if _, _, err := ParseKindName(bad); err == nil {
			t.Errorf("ParseKindName(%q) succeeded", bad)
		}
	}
	if got, want := NotFound(k, "web"), `Error from server (NotFound): deployments.apps "web" not found`; got != want {
		t.Errorf("NotFound = %q, want %q", got, want)
	}
	pods, _ := LookupKind("po")
	if got, want := NotFound(pods, "x"), `Error from server (NotFound): pods "x" not found`; got != want {
		t.Errorf("NotFound = %q, want %q", got, want)
	}
	if got := k.Ref("web"); got != "deployment.apps/web" {
		t.Errorf("Ref = %q", got)
	}
}

func TestJSONAndYAML(t *testing.T) {
	d := deployment("default", "web", 1, 1, 1, 1)
	d.UID = types.UID("u1")
	var buf bytes.Buffer
	if err := PrintObject(&buf, FormatJSON, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"{\n    \"kind\": \"Deployment\",\n    \"apiVersion\": \"apps/v1\",\n    \"metadata\": {", `"spec": {`, `"status": {`} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := PrintList(&buf, FormatYAML, []store.Object{d, runningPod("default", "web-1")}); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	for _, want := range []string{"apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n", "- apiVersion: v1\n  kind: Pod\n", "kind: List\nmetadata:\n  resourceVersion: \"\"\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := PrintList(&buf, FormatJSON, nil); err != nil {
		t.Fatal(err)
	}
	if want := "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"; buf.String() != want {
		t.Errorf("empty list = %q, want %q", buf.String(), want)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}

func TestEventPrinter(t *testing.T) {
	events := []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, Type: "Warning", Reason: "BackOff", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1"},
			Message: "Back-off restarting failed container", Count: 5, FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(20 * time.Second)},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop"}, Type: "Normal", Reason: "Scheduled", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "cart-1"},
			Message: "Successfully assigned shop/cart-1 to node-1 ", FirstTimestamp: ago(2 * time.Minute), LastTimestamp: ago(2 * time.Minute)},
	}
	SortEvents(events)
	p := &EventPrinter{AllNamespaces: true, Now: func() time.Time { return now }}
	var buf bytes.Buffer
	if err := p.Print(&buf, events...); err != nil {
		t.Fatal(err)
	}
	want := lines(
		"NAMESPACE   LAST SEEN           TYPE      REASON      OBJECT       MESSAGE",
		"shop        2m                  Normal    Scheduled   Pod/cart-1   Successfully assigned shop/cart-1 to node-1",
		"default     20s (x5 over 10m)   Warning   BackOff     Pod/web-1    Back-off restarting failed container")
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}
