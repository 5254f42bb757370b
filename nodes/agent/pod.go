package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

// podRun is one sync's view of a pod on the runtime.
type podRun struct {
	pod     *corev1.Pod
	sandbox nodes.PodSandbox
	// latest and previous are the newest and the one-before instances of
	// each container, by name.
	latest, previous map[string]nodes.ContainerStatus
	// waiting says why a container is not running when the runtime alone
	// cannot (CrashLoopBackOff, ErrImagePull).
	waiting map[string]corev1.ContainerStateWaiting
	// initialized: every regular init container exited 0 and every
	// sidecar started.
	initialized bool
	// probed is what this sync's probes said of each running container.
	probed map[string]probeStatus
	// volumes are the pod's volumes, set up by the first container start
	// of the sync (volErr if that failed).
	volumes    map[string]podVolume
	volErr     error
	volumesSet bool
	// wake is when the pod must be synced again (zero: on change only).
	wake time.Time
}

// syncPod makes the runtime match one pod and reports its status.
func (a *Agent) syncPod(ctx context.Context, ns, name string) error {
	sbs, err := a.opts.Runtime.ListPodSandboxes(ctx, nodes.SandboxFilter{Labels: map[string]string{
		nodes.LabelPodNamespace: ns, nodes.LabelPodName: name, nodes.LabelManagedBy: nodes.ManagedByAgent,
	}})
	if err != nil {
		return err
	}
	var pod *corev1.Pod
	if obj, ok := a.pods.Get(ns, name); ok {
		if p := obj.(*corev1.Pod); p.Spec.NodeName == a.name {
			pod = p
		}
	}
	// Sandboxes of a pod that left this node, or of an older pod of the
	// same name, go at once.
	var mine []nodes.PodSandbox
	for _, sb := range sbs {
		if pod != nil && sb.UID == string(pod.UID) {
			mine = append(mine, sb)
			continue
		}
		if err := a.removeSandbox(ctx, sb); err != nil {
			return err
		}
		a.removePodDir(sb.UID)
	}
	switch {
	case pod == nil:
		return nil
	case pod.DeletionTimestamp != nil:
		return a.terminate(ctx, pod, mine)
	case isTerminal(pod):
		// Finished: release the network, keep the containers for logs.
		for _, sb := range mine {
			if sb.State == nodes.SandboxReady {
				if err := a.opts.Runtime.StopPodSandbox(ctx, sb.ID); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return a.run(ctx, pod, mine)
}

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// removeSandbox kills and removes a sandbox and forgets what the agent
// kept about its containers.
func (a *Agent) removeSandbox(ctx context.Context, sb nodes.PodSandbox) error {
	cs, err := a.opts.Runtime.ListContainers(ctx, nodes.ContainerFilter{SandboxID: sb.ID})
	if err != nil {
		return err
	}
	if err := a.opts.Runtime.RemovePodSandbox(ctx, sb.ID); err != nil {
		return err
	}
	for _, c := range cs {
		a.forgetContainer(c.ID)
	}
	a.backoff.forget(sb.UID + "/")
	a.mu.Lock()
	for k := range a.pullErrs {
		if strings.HasPrefix(k, sb.UID+"/") {
			delete(a.pullErrs, k)
		}
	}
	a.mu.Unlock()
	return nil
}

// started reports whether a running container has started: its
// startupProbe passed, or it has none.
func (a *Agent) started(r *podRun, c *corev1.Container, cur nodes.ContainerStatus) bool {
	if ps, ok := r.probed[c.Name]; ok {
		return ps.started
	}
	return c.StartupProbe == nil
}

// run starts what should run, restarts what exited, and writes status.
func (a *Agent) run(ctx context.Context, pod *corev1.Pod, sbs []nodes.PodSandbox) error {
	r := &podRun{pod: pod, waiting: map[string]corev1.ContainerStateWaiting{}}
	if err := a.ensureSandbox(ctx, r, sbs); err != nil {
		// The status says why the pod does not start (a hostPort taken...):
		// it is all a standalone node's user sees. Then retry with back-off.
		r.initialized = len(pod.Spec.InitContainers) == 0 // as kubelet: nothing to wait for
		if werr := a.writeStatus(ctx, r); werr != nil {
			return werr
		}
		return err
	}
	if err := a.loadContainers(ctx, r); err != nil {
		return err
	}
	a.runProbes(ctx, r)
	a.startContainers(ctx, r)
	if err := a.writeStatus(ctx, r); err != nil {
		return err
	}

	if a.timeline != nil {
		if t, ok := a.timeline.NextChange(r.sandbox.ID); ok {
			r.wake = earliest(r.wake, t)
		}
	} else if a.opts.ResyncPeriod > 0 {
		r.wake = earliest(r.wake, a.now().Add(a.opts.ResyncPeriod))
	}
	return a.requeueAt(r.wake)
}

// ensureSandbox finds the pod's ready sandbox or makes one (after
// removing dead ones: their containers start again in the new one).
func (a *Agent) ensureSandbox(ctx context.Context, r *podRun, sbs []nodes.PodSandbox) error {
	var attempt uint32
	for i, sb := range sbs {
		if sb.State == nodes.SandboxReady && i == len(sbs)-1 {
			r.sandbox = sb
			return nil
		}
		attempt = max(attempt, sb.Attempt+1)
	}
	for _, sb := range sbs {
		if err := a.removeSandbox(ctx, sb); err != nil {
			return err
		}
	}
	sb, err := a.opts.Runtime.RunPodSandbox(ctx, &nodes.PodSandboxConfig{
		Pod: r.pod, Attempt: attempt, Labels: nodes.SandboxLabels(r.pod),
	})
	if err != nil {
		a.event(r.pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		// As kubelet, the containers wait in ContainerCreating; the
		// message carries what its event would.
		w := corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: "Failed to create pod sandbox: " + err.Error()}
		for _, cs := range [][]corev1.Container{r.pod.Spec.InitContainers, r.pod.Spec.Containers} {
			for _, c := range cs {
				r.waiting[c.Name] = w
			}
		}
		return err
	}
	r.sandbox = sb
	return nil
}

// writeStatus stores the pod's status computed from r, if it changed.
func (a *Agent) writeStatus(ctx context.Context, r *podRun) error {
	status := a.podStatus(ctx, r)
	if equality.Semantic.DeepEqual(&r.pod.Status, status) {
		return nil
	}
	p := r.pod.DeepCopy()
	p.Status = *status
	if _, err := a.opts.Store.Update(ctx, p); err != nil {
		// A conflict means a newer pod is on its way through the cache,
		// whose event syncs the pod again; gone is gone.
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// loadContainers reads the sandbox's containers: newest instance and the
// one before, per name.
func (a *Agent) loadContainers(ctx context.Context, r *podRun) error {
	cs, err := a.opts.Runtime.ListContainers(ctx, nodes.ContainerFilter{SandboxID: r.sandbox.ID})
	if err != nil {
		return err
	}
	r.latest, r.previous = map[string]nodes.ContainerStatus{}, map[string]nodes.ContainerStatus{}
	for _, c := range cs {
		cur, ok := r.latest[c.Name]
		if !ok || c.Attempt > cur.Attempt {
			if ok {
				r.previous[c.Name] = cur
			}
			r.latest[c.Name] = c
			continue
		}
		if prev, ok := r.previous[c.Name]; !ok || c.Attempt > prev.Attempt {
			r.previous[c.Name] = c
		}
	}
	return nil
}

// startContainers runs the init containers in order (each regular one
// must exit 0 before the next starts; sidecars start and keep running),
// then the app containers, restarting those that exited per the
// restartPolicy with CrashLoopBackOff.
func (a *Agent) startContainers(ctx context.Context, r *podRun) {
	spec := &r.pod.Spec
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		cur, has := r.latest[c.Name]
		if isSidecar(c) {
			switch {
			case !has:
				if !a.start(ctx, r, c, 0, false) {
					return
				}
			case cur.State == nodes.ContainerExited:
				if !a.restart(ctx, r, c, cur, false) {
					return
				}
			}
			// The next init container waits for the sidecar to have
			// started (its startupProbe passed).
			if cur := r.latest[c.Name]; cur.State != nodes.ContainerRunning || !a.started(r, c, cur) {
				return
			}
			continue
		}
		switch {
		case !has:
			if !a.start(ctx, r, c, 0, true) {
				return
			}
		case cur.State == nodes.ContainerExited && cur.ExitCode != 0:
			if spec.RestartPolicy == corev1.RestartPolicyNever || !a.restart(ctx, r, c, cur, true) {
				return
			}
		}
		if cur = r.latest[c.Name]; cur.State != nodes.ContainerExited || cur.ExitCode != 0 {
			return
		}
	}
	r.initialized = true
	for i := range spec.Containers {
		c := &spec.Containers[i]
		cur, has := r.latest[c.Name]
		switch {
		case !has:
			a.start(ctx, r, c, 0, false)
		case cur.State == nodes.ContainerExited && shouldRestart(spec.RestartPolicy, cur.ExitCode):
			a.restart(ctx, r, c, cur, false)
		}
	}
}

// restart starts a new instance of an exited container unless it is in
// CrashLoopBackOff; it reports whether the new instance started.
func (a *Agent) restart(ctx context.Context, r *podRun, c *corev1.Container, cur nodes.ContainerStatus, init bool) bool {
	now := a.now()
	key := string(r.pod.UID) + "/" + c.Name
	if left, window := a.backoff.wait(key, cur.FinishedAt, now); left > 0 {
		r.waiting[c.Name] = corev1.ContainerStateWaiting{
			Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
				window, c.Name, r.pod.Name, r.pod.Namespace, r.pod.UID),
		}
		r.wake = earliest(r.wake, now.Add(left))
		a.event(r.pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
			c.Name, r.pod.Name, r.pod.Namespace, r.pod.UID)
		return false
	}
	a.backoff.restarted(key, cur.FinishedAt, now)
	// Keep the exited instance (lastState) and drop the one before it, as
	// kubelet's container GC keeps one dead instance per container.
	if prev, ok := r.previous[c.Name]; ok {
		if err := a.opts.Runtime.RemoveContainer(ctx, prev.ID); err != nil {
			a.opts.Log.Error("agent: remove container", "node", a.name, "container", prev.ID, "err", err)
		} else {
			a.forgetContainer(prev.ID)
		}
	}
	return a.start(ctx, r, c, cur.Attempt+1, init)
}

// start pulls, creates and starts one container instance, and records it
// as the latest; it reports whether it started.
func (a *Agent) start(ctx context.Context, r *podRun, c *corev1.Container, attempt uint32, init bool) bool {
	now := a.now()
	if !r.volumesSet {
		r.volumes, r.volErr = a.setupVolumes(ctx, r)
		r.volumesSet = true
		if r.volErr != nil {
			a.event(r.pod, corev1.EventTypeWarning, "FailedMount", "%v", r.volErr)
		}
	}
	if r.volErr != nil {
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: r.volErr.Error()}
		r.wake = earliest(r.wake, now.Add(configRetry))
		return false
	}
	ref, ok := a.pull(ctx, r, c)
	if !ok {
		return false
	}
	env, err := a.containerEnv(ctx, r, c)
	var mounts []nodes.Mount
	if err == nil {
		mounts, err = containerMounts(c, r.volumes, envMap(env))
	}
	if err != nil {
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: err.Error()}
		r.wake = earliest(r.wake, now.Add(configRetry))
		a.event(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return false
	}
	vars := envMap(env)
	cfg := &nodes.ContainerConfig{
		Name: c.Name, Attempt: attempt, Image: ref,
		Command: expandAll(c.Command, vars), Args: expandAll(c.Args, vars), WorkingDir: c.WorkingDir,
		Env:    env,
		Mounts: mounts,
		Labels: nodes.ContainerLabels(r.pod, c.Name),
		Init:   init, Spec: c,
		LogPath: fmt.Sprintf("%s/%d.log", c.Name, attempt),
	}
	id, err := a.opts.Runtime.CreateContainer(ctx, r.sandbox.ID, cfg)
	if err != nil {
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}
		a.event(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		return false
	}
	a.event(r.pod, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	if err := a.opts.Runtime.StartContainer(ctx, id); err != nil {
		a.event(r.pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		// The runtime left it exited with StartError (exit code 128): it is
		// an instance that ran and failed, restarted per restartPolicy with
		// CrashLoopBackOff, as kubelet does. Without that record (the
		// runtime lost it), the container waits as RunContainerError.
		if st, serr := a.opts.Runtime.ContainerStatus(ctx, id); serr == nil && st.State == nodes.ContainerExited {
			if cur, ok := r.latest[c.Name]; ok {
				r.previous[c.Name] = cur
			}
			r.latest[c.Name] = st
			return false
		}
		_ = a.opts.Runtime.RemoveContainer(ctx, id)
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "RunContainerError", Message: err.Error()}
		r.wake = earliest(r.wake, now.Add(configRetry))
		return false
	}
	a.event(r.pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	// The container is not reported running before its postStart hook
	// returned; a failed hook killed it (it restarts per restartPolicy).
	hookErr := a.postStart(ctx, r, c, id)
	st, err := a.opts.Runtime.ContainerStatus(ctx, id)
	if err != nil {
		return false
	}
	if cur, ok := r.latest[c.Name]; ok {
		r.previous[c.Name] = cur
	}
	r.latest[c.Name] = st
	if hookErr != nil && st.State != nodes.ContainerExited {
		r.wake = earliest(r.wake, a.stopWake(r.sandbox.ID))
	}
	return hookErr == nil
}

// pullErrorShown is how long a failed pull shows as ErrImagePull before
// ImagePullBackOff.
const pullErrorShown = time.Second

// pullFailure is the last failed pull of a container.
type pullFailure struct {
	reason, msg string
	at          time.Time
}

// configRetry is how soon a container whose configuration or volumes
// failed (a missing ConfigMap, hostPath) is tried again: the agent does
// not watch ConfigMaps and Secrets.
const configRetry = 10 * time.Second

// pull makes c's image present, with kubelet's image pull back-off: a
// failed pull is ErrImagePull, and until the back-off window has passed
// the container waits in ImagePullBackOff, with the runtime's message.
func (a *Agent) pull(ctx context.Context, r *podRun, c *corev1.Container) (string, bool) {
	now := a.now()
	pullKey := string(r.pod.UID) + "/pull/" + c.Name
	if left, _ := a.backoff.sinceUpdate(pullKey, now); left > 0 {
		a.mu.Lock()
		last, ok := a.pullErrs[pullKey]
		a.mu.Unlock()
		// The failure itself shows for a moment (a sync that its own
		// status write triggers must not hide it), then the back-off.
		if ok && now.Sub(last.at) < pullErrorShown {
			r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: last.reason, Message: last.msg}
			r.wake = earliest(r.wake, last.at.Add(pullErrorShown))
			return "", false
		}
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		if ok {
			msg += ": " + last.reason + ": " + last.msg
		}
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: msg}
		r.wake = earliest(r.wake, now.Add(left))
		return "", false
	}
	auth, err := a.pullAuth(ctx, r.pod, c.Image)
	if err != nil {
		a.opts.Log.Warn("agent: image pull secrets", "pod", r.pod.Namespace+"/"+r.pod.Name, "err", err)
	}
	ref, err := a.opts.Runtime.PullImage(ctx, c.Image, pullPolicy(c), auth)
	if errors.Is(err, nodes.ErrImageNeverPull) {
		// Not a pull that failed, so no back-off (as kubelet): the image
		// may be imported at any moment; look again now and then.
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull",
			Message: fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)}
		r.wake = earliest(r.wake, now.Add(neverPullRecheck))
		return "", false
	}
	if err != nil {
		a.backoff.restarted(pullKey, now, now)
		reason := "ErrImagePull"
		msg := strings.TrimPrefix(err.Error(), nodes.ErrImagePull.Error()+": ")
		a.mu.Lock()
		a.pullErrs[pullKey] = pullFailure{reason: reason, msg: msg, at: now}
		a.mu.Unlock()
		r.waiting[c.Name] = corev1.ContainerStateWaiting{Reason: reason, Message: msg}
		// Look again shortly, to report ImagePullBackOff (kubelet's pod
		// worker re-syncs after a failure too), then when the window ends.
		left, _ := a.backoff.sinceUpdate(pullKey, now)
		r.wake = earliest(r.wake, now.Add(min(left, pullErrorShown)))
		a.event(r.pod, corev1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", c.Image, err)
		return "", false
	}
	a.backoff.forget(pullKey)
	a.mu.Lock()
	delete(a.pullErrs, pullKey)
	a.mu.Unlock()
	return ref, true
}

// neverPullRecheck is how often a pod waiting on an image it may not pull
// (imagePullPolicy Never) looks for it again.
const neverPullRecheck = 10 * time.Second

// pullPolicy is the container's, or Kubernetes' default for its image:
// Always for :latest or no tag, else IfNotPresent.
func pullPolicy(c *corev1.Container) corev1.PullPolicy {
	if c.ImagePullPolicy != "" {
		return c.ImagePullPolicy
	}
	img := c.Image
	if strings.Contains(img, "@") {
		return corev1.PullIfNotPresent
	}
	if i := strings.LastIndex(img, ":"); i < 0 || strings.Contains(img[i:], "/") || img[i+1:] == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// terminate stops a pod being deleted: each container gets the stop
// signal with the grace period as its timeout, once; when all have
// exited the sandboxes go and the pod is removed from the store.
func (a *Agent) terminate(ctx context.Context, pod *corev1.Pod, sbs []nodes.PodSandbox) error {
	grace := gracePeriod(pod)
	var wake time.Time
	for _, sb := range sbs {
		cs, err := a.opts.Runtime.ListContainers(ctx, nodes.ContainerFilter{SandboxID: sb.ID})
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.State == nodes.ContainerExited {
				continue
			}
			a.mu.Lock()
			asked := a.stopping[c.ID]
			a.mu.Unlock()
			if !asked {
				a.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
				if err := a.killContainer(ctx, pod, sb.IP, specContainer(pod, c.Name), c.ID, grace); err != nil {
					return err
				}
			}
			st, err := a.opts.Runtime.ContainerStatus(ctx, c.ID)
			if err != nil && !errors.Is(err, nodes.ErrNotFound) {
				return err
			}
			if err == nil && st.State != nodes.ContainerExited {
				wake = earliest(wake, a.stopWake(sb.ID))
			}
		}
	}
	if !wake.IsZero() {
		return a.requeueAt(wake)
	}
	for _, sb := range sbs {
		if err := a.removeSandbox(ctx, sb); err != nil {
			return err
		}
	}
	a.removePodDir(string(pod.UID))
	// The containers are gone: remove the pod for good (grace 0), as
	// kubelet's final delete does.
	var now int64
	err := a.opts.Store.Delete(ctx, "Pod", pod.Namespace, pod.Name, store.DeleteOptions{UID: string(pod.UID), GracePeriodSeconds: &now})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// stopWake is when to look again at a sandbox whose containers are
// stopping: when the runtime says, or in a second.
func (a *Agent) stopWake(sandboxID string) time.Time {
	if a.timeline != nil {
		if t, ok := a.timeline.NextChange(sandboxID); ok {
			return t
		}
	}
	return a.now().Add(time.Second)
}

// gracePeriod is the pod's deletion grace: deletionGracePeriodSeconds,
// else terminationGracePeriodSeconds, else 30s.
func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(max(*pod.DeletionGracePeriodSeconds, 0)) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(max(*pod.Spec.TerminationGracePeriodSeconds, 0)) * time.Second
	}
	return DefaultGracePeriod
}

// isRequeue reports whether err is a Requeue (not a failure).
func isRequeue(err error) bool {
	var rq controller.Requeue
	return errors.As(err, &rq)
}
