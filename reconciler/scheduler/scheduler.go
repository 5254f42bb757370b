// Package scheduler binds pending pods to nodes, like kube-scheduler: a
// list of Filter plugins decides which nodes may run a pod, a list of
// Score plugins ranks them, and the pod is bound to the best by writing
// spec.nodeName. Pods that fit nowhere get PodScheduled=False and a
// FailedScheduling event with upstream's message, and are retried when a
// node or a pod changes, with upstream's per-pod backoff.
package scheduler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// DefaultSchedulerName is the spec.schedulerName this scheduler serves
// (pods naming another scheduler are left alone, as upstream).
const DefaultSchedulerName = corev1.DefaultSchedulerName

// Backoff of a pod that could not be scheduled, upstream's defaults
// (podInitialBackoffSeconds, podMaxBackoffSeconds).
const (
	DefaultInitialBackoff = 1 * time.Second
	DefaultMaxBackoff     = 10 * time.Second
)

// Options configure a Scheduler; zero fields take defaults.
type Options struct {
	// Clock stamps conditions and times backoff (default: the manager's).
	Clock clock.PassiveClock
	// Recorder gets Scheduled and FailedScheduling events (nil: none).
	Recorder controller.Recorder
	// Profile is the plugin list (default DefaultProfile()).
	Profile *Profile
	// InitialBackoff and MaxBackoff bound the wait before a pod that
	// failed to schedule is tried again.
	InitialBackoff, MaxBackoff time.Duration
}

// Scheduler is the scheduling Controller, keyed by pod key. Register it
// with a Manager whose cache holds Pods and Nodes.
type Scheduler struct {
	store    store.Store
	clock    clock.PassiveClock
	recorder controller.Recorder
	initial  time.Duration
	maxWait  time.Duration

	pods  controller.Lister
	queue *controller.Queue

	// mu serialises scheduling decisions and guards everything below:
	// one pod is placed at a time, as in upstream's scheduling cycle.
	mu     sync.Mutex
	snap   *Snapshot
	alg    *Algorithm
	failed map[string]*attempts // pending pods that did not fit, by key
}

// attempts is a pending pod's scheduling history, for its backoff.
type attempts struct {
	n    int
	last time.Time
	// needsPods: the pod has required pod affinity, so a pod arriving on
	// a node may make it fit.
	needsPods bool
}

var _ controller.Controller = (*Scheduler)(nil)

// New returns a Scheduler writing bindings to st.
func New(st store.Store, opts Options) *Scheduler {
	profile := DefaultProfile()
	if opts.Profile != nil {
		profile = *opts.Profile
	}
	s := &Scheduler{
		store:    st,
		clock:    opts.Clock,
		recorder: opts.Recorder,
		initial:  opts.InitialBackoff,
		maxWait:  opts.MaxBackoff,
		snap:     NewSnapshot(),
		alg:      NewAlgorithm(profile),
		failed:   map[string]*attempts{},
	}
	if s.initial <= 0 {
		s.initial = DefaultInitialBackoff
	}
	if s.maxWait <= 0 {
		s.maxWait = DefaultMaxBackoff
	}
	return s
}

// Name implements controller.Controller.
func (s *Scheduler) Name() string { return "scheduler" }

// Register adds the scheduler to m and hooks it to m's cache, which must
// hold "Pod" and "Node". Call it before m runs.
func (s *Scheduler) Register(m *controller.Manager) {
	if s.clock == nil {
		s.clock = m.Clock()
	}
	cache := m.Cache()
	s.pods = cache.Lister("Pod")
	s.queue = m.Register(s)
	// One handler per kind both updates the snapshot and queues keys, so
	// a sync never runs on a snapshot older than what woke it.
	cache.AddHandler("Node", s.onNode)
	cache.AddHandler("Pod", s.onPod)
}

// pending reports whether the scheduler should place pod: not bound, not
// being deleted, not finished, and meant for this scheduler.
func pending(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil && !isTerminal(pod) &&
		(pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == DefaultSchedulerName)
}

// onNode keeps the snapshot's nodes and, when a node changes in a way
// that can make room, wakes the pods that did not fit.
func (s *Scheduler) onNode(old, new store.Object) {
	s.mu.Lock()
	if new == nil {
		s.snap.RemoveNode(old.(*corev1.Node).Name)
		s.mu.Unlock()
		return
	}
	n := new.(*corev1.Node)
	s.snap.SetNode(n)
	wake := old == nil || nodeChangedForScheduling(old.(*corev1.Node), n)
	s.mu.Unlock()
	if wake {
		s.wakeFailed(false)
	}
}

// onPod keeps the snapshot's pods, queues pending pods, and wakes the
// pods that did not fit when a pod leaves a node.
func (s *Scheduler) onPod(old, new store.Object) {
	var key string
	var oldPod, newPod *corev1.Pod
	if old != nil {
		oldPod = old.(*corev1.Pod)
		key = controller.KeyOf(old)
	}
	if new != nil {
		newPod = new.(*corev1.Pod)
		key = controller.KeyOf(new)
	}
	s.mu.Lock()
	if newPod == nil {
		s.snap.RemovePod(key)
	} else {
		s.snap.SetPod(key, newPod)
	}
	if newPod == nil || !pending(newPod) {
		delete(s.failed, key)
	}
	s.mu.Unlock()

	if newPod != nil && pending(newPod) &&
		(oldPod == nil || !pending(oldPod) || oldPod.Generation != newPod.Generation) {
		s.queue.Add(key)
	}
	if oldPod != nil && countsOnNode(oldPod) && (newPod == nil || !countsOnNode(newPod)) {
		s.wakeFailed(false)
	}
	if newPod != nil && countsOnNode(newPod) && (oldPod == nil || !countsOnNode(oldPod)) {
		s.wakeFailed(true)
	}
}

// wakeFailed queues every pod that did not fit (only those with required
// pod affinity when onlyNeedsPods); each waits out its own backoff in
// Sync.
func (s *Scheduler) wakeFailed(onlyNeedsPods bool) {
	s.mu.Lock()
	keys := make([]string, 0, len(s.failed))
	for k, a := range s.failed {
		if !onlyNeedsPods || a.needsPods {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.Add(k)
	}
}

// nodeChangedForScheduling reports whether a node update can change a
// scheduling decision (heartbeats alone do not).
func nodeChangedForScheduling(old, new *corev1.Node) bool {
	if old.Spec.Unschedulable != new.Spec.Unschedulable ||
		!equalStrings(old.Labels, new.Labels) ||
		!equalResources(old.Status.Allocatable, new.Status.Allocatable) ||
		!equalResources(old.Status.Capacity, new.Status.Capacity) ||
		len(old.Spec.Taints) != len(new.Spec.Taints) {
		return true
	}
	for i := range old.Spec.Taints {
		if !old.Spec.Taints[i].MatchTaint(&new.Spec.Taints[i]) {
			return true
		}
	}
	return readyStatus(old) != readyStatus(new)
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return n.Status.Conditions[i].Status
		}
	}
	return corev1.ConditionUnknown
}

func equalStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// Sync implements controller.Controller: it schedules the pod named by
// key if it is still pending.
func (s *Scheduler) Sync(ctx context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	obj, ok := s.pods.Get(ns, name)
	if !ok {
		return nil
	}
	pod := obj.(*corev1.Pod)
	if !pending(pod) {
		return nil
	}
	if len(pod.Spec.SchedulingGates) > 0 {
		return s.setUnscheduled(ctx, pod, corev1.PodReasonSchedulingGated,
			"Scheduling is blocked due to non-empty scheduling gates")
	}
	now := s.clock.Now()

	s.mu.Lock()
	if a := s.failed[key]; a != nil {
		if wait := a.last.Add(s.backoff(a.n)).Sub(now); wait > 0 {
			s.mu.Unlock()
			return controller.Requeue{After: wait}
		}
	}
	node, err := s.alg.Schedule(NewPodInfo(key, pod), s.snap)
	if err == nil {
		s.snap.Assume(key, pod, node)
	} else {
		a := s.failed[key]
		if a == nil {
			a = &attempts{}
			s.failed[key] = a
		}
		a.n++
		a.last = now
		a.needsPods = hasRequiredPodAffinity(pod)
	}
	s.mu.Unlock()

	if err != nil {
		return s.unschedulable(ctx, pod, err)
	}
	return s.bind(ctx, key, pod, node, now)
}

// backoff is the wait after n failed attempts: initial·2ⁿ⁻¹, at most max.
func (s *Scheduler) backoff(n int) time.Duration {
	d := s.initial
	for i := 1; i < n && d < s.maxWait; i++ {
		d *= 2
	}
	return min(d, s.maxWait)
}

// bind writes the pod's nodeName and PodScheduled=True (upstream's
// binding subresource, as an Update with the pod's resourceVersion). On
// any failure the assumed placement is forgotten; a conflict is returned
// so the pod is synced again from the newer version.
func (s *Scheduler) bind(ctx context.Context, key string, pod *corev1.Pod, node string, now time.Time) error {
	b := pod.DeepCopy()
	b.Spec.NodeName = node
	setCondition(&b.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, now)
	if _, err := s.store.Update(ctx, b); err != nil {
		s.mu.Lock()
		s.snap.Forget(key)
		s.mu.Unlock()
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	s.mu.Lock()
	delete(s.failed, key)
	s.mu.Unlock()
	if s.recorder != nil {
		s.recorder.Eventf(pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s",
			pod.Namespace, pod.Name, node)
	}
	return nil
}

// unschedulable reports a pod that fits nowhere: a FailedScheduling
// event on every attempt, and PodScheduled=False reason Unschedulable
// with the same message. The pod waits for a node or pod change.
func (s *Scheduler) unschedulable(ctx context.Context, pod *corev1.Pod, cause error) error {
	msg := cause.Error()
	if s.recorder != nil {
		s.recorder.Eventf(pod, corev1.EventTypeWarning, "FailedScheduling", "%s", msg)
	}
	return s.setUnscheduled(ctx, pod, corev1.PodReasonUnschedulable, msg)
}

// setUnscheduled writes PodScheduled=False with reason and message unless
// the pod already says so.
func (s *Scheduler) setUnscheduled(ctx context.Context, pod *corev1.Pod, reason, msg string) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == reason && c.Message == msg {
			return nil
		}
	}
	p := pod.DeepCopy()
	setCondition(&p.Status, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg,
	}, s.clock.Now())
	if _, err := s.store.Update(ctx, p); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func hasRequiredPodAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	return a != nil && a.PodAffinity != nil && len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0
}
