package sim

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/nodes/agent"
	"github.com/berth-io/berth/nodes/fake"
	"github.com/berth-io/berth/reconciler/admission"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/deployment"
	"github.com/berth-io/berth/reconciler/gc"
	"github.com/berth-io/berth/reconciler/nodelifecycle"
	"github.com/berth-io/berth/reconciler/replicaset"
	"github.com/berth-io/berth/reconciler/scheduler"
	"github.com/berth-io/berth/reconciler/store"
)

// errUnreachable is what a node cut off from the server gets.
var errUnreachable = errors.New("dial tcp: connect: no route to host")

// link is a node's connection to the control plane: cut, every call of
// its agent fails, so it neither heartbeats nor reports pod status.
// (Its agent still reads pods through the shared watch cache: the
// simulator has one.)
type link struct {
	store.Store
	down atomic.Bool
}

func (l *link) err() error {
	if l.down.Load() {
		return errUnreachable
	}
	return nil
}

func (l *link) Get(ctx context.Context, kind, ns, name string) (store.Object, error) {
	if err := l.err(); err != nil {
		return nil, err
	}
	return l.Store.Get(ctx, kind, ns, name)
}

func (l *link) List(ctx context.Context, kind string, opts store.ListOptions) ([]store.Object, int64, error) {
	if err := l.err(); err != nil {
		return nil, 0, err
	}
	return l.Store.List(ctx, kind, opts)
}

func (l *link) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	if err := l.err(); err != nil {
		return nil, err
	}
	return l.Store.Create(ctx, obj)
}

func (l *link) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	if err := l.err(); err != nil {
		return nil, err
	}
	return l.Store.Update(ctx, obj)
}

func (l *link) Delete(ctx context.Context, kind, ns, name string, opts store.DeleteOptions) error {
	if err := l.err(); err != nil {
		return err
	}
	return l.Store.Delete(ctx, kind, ns, name, opts)
}

func (l *link) Txn(ctx context.Context, fn func(store.Txn) error) error {
	if err := l.err(); err != nil {
		return err
	}
	return l.Store.Txn(ctx, fn)
}

// lcCluster is a simulated cluster with the node lifecycle controllers,
// the default-tolerations admission, and fake nodes that heartbeat every
// 10 s, each through its own link.
type lcCluster struct {
	*Cluster
	Events *controller.FakeRecorder
	Links  []*link
}

// lcHeartbeat is the fake nodes' heartbeat period (the agent's default).
const lcHeartbeat = 10 * time.Second

func newLCCluster(t *testing.T, nodes int, opts nodelifecycle.Options) *lcCluster {
	t.Helper()
	clk := clocktesting.NewFakeClock(Epoch)
	st := admission.Wrap(store.NewMemory(clk))
	cache := controller.NewCache(st, Kinds...)
	m := controller.NewManager(cache, clk)
	quiet := slog.New(slog.DiscardHandler)
	cache.SetLogger(quiet)
	m.SetLogger(quiet)
	rec := controller.NewFakeRecorder()
	replicaset.Register(m, st, rec)
	deployment.Register(m, st, rec)
	gc.Register(m, st)
	scheduler.New(st, scheduler.Options{Clock: clk, Recorder: rec}).Register(m)
	if err := nodelifecycle.Register(m, st, rec, opts); err != nil {
		t.Fatal(err)
	}
	var agents []*agent.Agent
	var rts []*fake.Runtime
	var links []*link
	for i := range nodes {
		l := &link{Store: st}
		a, rt, err := fake.NewNode(i, l, fake.NodeOptions{Clock: clk, HeartbeatPeriod: lcHeartbeat})
		if err != nil {
			t.Fatal(err)
		}
		agents, rts, links = append(agents, a), append(rts, rt), append(links, l)
	}
	pool, err := agent.NewPool(agents...)
	if err != nil {
		t.Fatal(err)
	}
	pool.Register(m)
	for _, rt := range rts {
		m.AddTimerSource(rt.Next)
	}
	return &lcCluster{
		Cluster: &Cluster{Clock: clk, Store: st, Cache: cache, Manager: m, Nodes: pool, Runtimes: rts},
		Events:  rec,
		Links:   links,
	}
}

// node reads a Node from the store.
func (c *lcCluster) node(t *testing.T, name string) *corev1.Node {
	t.Helper()
	obj, err := c.Store.Get(context.Background(), "Node", "", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Node)
}

// updateNode changes a Node in the store, as `berth taint` would.
func (c *lcCluster) updateNode(t *testing.T, name string, mutate func(*corev1.Node)) {
	t.Helper()
	n := c.node(t, name)
	mutate(n)
	if _, err := c.Store.Update(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

// activePods returns the pods of namespace "default" not being deleted.
func (c *lcCluster) activePods(t *testing.T) []*corev1.Pod {
	t.Helper()
	pods, err := c.Pods(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// readyCond returns node's Ready condition status and reason.
func readyCond(n *corev1.Node) (corev1.ConditionStatus, string) {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status, c.Reason
		}
	}
	return "", ""
}

func hasTaint(n *corev1.Node, key string, effect corev1.TaintEffect) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Effect == effect {
			return true
		}
	}
	return false
}

// lcDeployment is a Deployment "web" of replicas pods (app=web).
func lcDeployment(replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:v1"}}},
			},
		},
	}
}

// boundPod is a bare pod bound to node, with tols.
func boundPod(name, node string, tols ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:    node,
			Tolerations: tols,
			Containers:  []corev1.Container{{Name: "app", Image: "app:v1"}},
		},
	}
}

// lcDeleteNow deletes with no grace period.
func lcDeleteNow() store.DeleteOptions {
	zero := int64(0)
	return store.DeleteOptions{GracePeriodSeconds: &zero}
}
