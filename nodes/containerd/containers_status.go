package containerd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/berth-io/berth/nodes"
)

// watch follows one running task: it records the exit on the container's
// labels, deletes the task, and closes exited.
type watch struct {
	io       *fifoIO // nil if output was not attached
	log      *criLog
	exited   chan struct{}
	detached sync.Once
}

// detach lets go of the container without touching it (Runtime.Close).
func (w *watch) detach() {
	w.detached.Do(func() {
		if w.io != nil {
			w.io.Close()
		}
		w.log.Close()
	})
}

// exited returns a channel closed once containerID's exit is recorded
// (already closed when no watcher follows it).
func (r *Runtime) exited(containerID string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.running[containerID]; ok {
		return w.exited
	}
	c := make(chan struct{})
	close(c)
	return c
}

// watch starts following task; exitC is its Wait channel.
func (r *Runtime) watch(c ctrd.Container, task ctrd.Task, exitC <-chan ctrd.ExitStatus, log *criLog) {
	w := &watch{log: log, exited: make(chan struct{})}
	if fio, ok := task.IO().(*fifoIO); ok {
		w.io = fio
	}
	r.mu.Lock()
	r.running[c.ID()] = w
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			st := <-exitC
			if r.ctx.Err() != nil {
				return // Close: the next Runtime adopts the container
			}
			if st.Error() == nil {
				r.finish(c, task, st, w)
				return
			}
			// Lost containerd (restarting?): wait on the task again.
			time.Sleep(time.Second)
			t, err := c.Task(r.ctx, nil)
			if errdefs.IsNotFound(err) {
				st = *ctrd.NewExitStatus(ctrd.UnknownExitStatus, time.Now(), nil)
				r.finish(c, nil, st, w)
				return
			}
			if err == nil {
				task = t
				exitC, err = t.Wait(r.ctx)
			}
			if err != nil {
				r.opts.Log.Warn("containerd runtime: re-watch container", "container", c.ID(), "err", err)
				exitC = failed(err)
			}
		}
	}()
}

// failed is a Wait channel that reports err at once.
func failed(err error) <-chan ctrd.ExitStatus {
	c := make(chan ctrd.ExitStatus, 1)
	c <- *ctrd.NewExitStatus(ctrd.UnknownExitStatus, time.Time{}, err)
	return c
}

// finish records an exit: output drained, OOM checked (before the task's
// cgroup goes), labels set, task deleted, OnExit called.
func (r *Runtime) finish(c ctrd.Container, task ctrd.Task, st ctrd.ExitStatus, w *watch) {
	ctx := r.ctx
	if w != nil && w.io != nil {
		done := make(chan struct{})
		go func() { w.io.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			// A child that outlived the container holds its stdout.
			w.io.Close()
		}
	}
	if err := r.recordExit(ctx, c, task, st); err != nil {
		r.opts.Log.Error("containerd runtime: record exit", "container", c.ID(), "err", err)
	}
	if w != nil {
		w.detach()
		r.mu.Lock()
		delete(r.running, c.ID())
		r.mu.Unlock()
		close(w.exited)
	}
	if r.opts.OnExit != nil {
		if s, err := r.ContainerStatus(ctx, c.ID()); err == nil {
			r.opts.OnExit(s)
		}
	}
}

// recordExit writes the exit on the container's labels and deletes task.
func (r *Runtime) recordExit(ctx context.Context, c ctrd.Container, task ctrd.Task, st ctrd.ExitStatus) error {
	code := int32(st.ExitCode())
	reason, msg := r.exitReason(c.ID(), code)
	at := st.ExitTime()
	if at.IsZero() {
		at = time.Now()
	}
	_, err := c.SetLabels(ctx, map[string]string{
		labelExitCode:   strconv.Itoa(int(code)),
		labelFinishedAt: at.UTC().Format(time.RFC3339Nano),
		labelReason:     reason,
		labelMessage:    msg,
	})
	if err != nil {
		return err
	}
	if task != nil {
		if _, err := task.Delete(ctx); ignoreGone(err) != nil {
			return err
		}
	}
	return nil
}

// exitReason is kubelet's reason for an exit code, OOMKilled first.
func (r *Runtime) exitReason(id string, code int32) (string, string) {
	switch {
	case r.oomKilled(id):
		return "OOMKilled", ""
	case code == 0:
		return "Completed", ""
	case uint32(code) == ctrd.UnknownExitStatus:
		return "Unknown", "the container's exit was not observed"
	}
	return "Error", ""
}

// adopt takes over what a previous Runtime left: running tasks get their
// output re-attached and an exit watcher; tasks that exited meanwhile get
// their exit recorded.
func (r *Runtime) adopt(ctx context.Context) error {
	cs, err := r.client.Containers(ctx, fmt.Sprintf(`labels."%s"`, labelSandbox))
	if err != nil {
		return fmt.Errorf("containerd runtime: list containers: %w", err)
	}
	for _, c := range cs {
		labels, err := c.Labels(ctx)
		if err != nil || labels[labelExitCode] != "" {
			continue
		}
		task, err := c.Task(ctx, nil)
		if err != nil {
			continue // never started, or gone
		}
		st, err := task.Status(ctx)
		if err != nil {
			continue
		}
		switch st.Status {
		case ctrd.Running, ctrd.Paused, ctrd.Pausing:
			log, err := openCRILog(labels[labelLogPath], r.opts.MaxLogSize)
			if err != nil {
				return err
			}
			task, err := c.Task(ctx, attachIO(log))
			if err != nil {
				log.Close()
				return fmt.Errorf("containerd runtime: adopt container %s: %w", c.ID(), err)
			}
			exitC, err := task.Wait(r.ctx)
			if err != nil {
				return fmt.Errorf("containerd runtime: adopt container %s: %w", c.ID(), err)
			}
			r.watch(c, task, exitC, log)
		case ctrd.Stopped:
			es := *ctrd.NewExitStatus(st.ExitStatus, st.ExitTime, nil)
			if err := r.recordExit(ctx, c, task, es); err != nil {
				return err
			}
		case ctrd.Created:
			// Created but never started: the previous Runtime died
			// in StartContainer. Undo the start.
			_, _ = task.Delete(ctx, ctrd.WithProcessKill)
			_, _ = c.SetLabels(ctx, map[string]string{labelStartedAt: ""})
		}
	}
	return nil
}

// ContainerStatus reads a container's labels and task.
func (r *Runtime) ContainerStatus(ctx context.Context, containerID string) (nodes.ContainerStatus, error) {
	ctx = r.nsCtx(ctx)
	c, err := r.load(ctx, containerID)
	if err != nil {
		return nodes.ContainerStatus{}, err
	}
	return r.status(ctx, c)
}

func (r *Runtime) status(ctx context.Context, c ctrd.Container) (nodes.ContainerStatus, error) {
	info, err := c.Info(ctx, ctrd.WithoutRefreshedMetadata)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nodes.ContainerStatus{}, fmt.Errorf("container %q: %w", c.ID(), nodes.ErrNotFound)
		}
		return nodes.ContainerStatus{}, err
	}
	l := info.Labels
	attempt, _ := strconv.ParseUint(l[labelAttempt], 10, 32)
	s := nodes.ContainerStatus{
		ID: c.ID(), SandboxID: l[labelSandbox], Name: l[labelName], Attempt: uint32(attempt),
		Image: l[labelImage], ImageRef: info.Image, CreatedAt: info.CreatedAt,
		StartedAt: parseTime(l[labelStartedAt]), State: nodes.ContainerCreated,
		Labels: userLabels(l),
	}
	if a := l[labelAnnotations]; a != "" {
		_ = json.Unmarshal([]byte(a), &s.Annotations)
	}
	if code := l[labelExitCode]; code != "" {
		n, _ := strconv.ParseInt(code, 10, 32)
		s.State, s.ExitCode = nodes.ContainerExited, int32(n)
		s.FinishedAt, s.Reason, s.Message = parseTime(l[labelFinishedAt]), l[labelReason], l[labelMessage]
		return s, nil
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		if !s.StartedAt.IsZero() {
			// Started, but its task is gone without a recorded exit
			// (containerd lost it).
			s.State, s.ExitCode, s.Reason = nodes.ContainerExited, 255, "Unknown"
			s.Message = "the container's task disappeared before its exit was recorded"
		}
		return s, nil
	}
	if err != nil {
		return s, err
	}
	st, err := task.Status(ctx)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return r.status(ctx, c) // exited and recorded meanwhile
		}
		return s, err
	}
	switch st.Status {
	case ctrd.Running, ctrd.Paused, ctrd.Pausing:
		s.State = nodes.ContainerRunning
	case ctrd.Created:
		s.State = nodes.ContainerCreated
	case ctrd.Stopped:
		// Exited, the watcher has not recorded it yet.
		s.State, s.ExitCode, s.FinishedAt = nodes.ContainerExited, int32(st.ExitStatus), st.ExitTime
		s.Reason, s.Message = r.exitReason(c.ID(), s.ExitCode)
	default:
		s.State = nodes.ContainerUnknown
	}
	return s, nil
}

// ListContainers lists berth's containers that match filter, oldest first.
func (r *Runtime) ListContainers(ctx context.Context, filter nodes.ContainerFilter) ([]nodes.ContainerStatus, error) {
	ctx = r.nsCtx(ctx)
	f := fmt.Sprintf(`labels."%s"`, labelSandbox)
	if filter.SandboxID != "" {
		f = fmt.Sprintf(`labels."%s"==%q`, labelSandbox, filter.SandboxID)
	}
	if filter.ID != "" {
		f += fmt.Sprintf(`,id==%q`, filter.ID)
	}
	cs, err := r.client.Containers(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []nodes.ContainerStatus
	for _, c := range cs {
		s, err := r.status(ctx, c)
		if err != nil {
			if errdefs.IsNotFound(err) || strings.Contains(err.Error(), nodes.ErrNotFound.Error()) {
				continue // removed meanwhile
			}
			return nil, err
		}
		if (filter.State == "" || filter.State == s.State) && nodes.MatchLabels(s.Labels, filter.Labels) {
			out = append(out, s)
		}
	}
	sortByCreation(out)
	return out, nil
}

func sortByCreation(cs []nodes.ContainerStatus) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].CreatedAt.Before(cs[j-1].CreatedAt); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// userLabels are the labels the caller gave: berth's bookkeeping and
// containerd's own image labels removed.
func userLabels(l map[string]string) map[string]string {
	out := maps.Clone(l)
	for k := range out {
		if strings.HasPrefix(k, labelPrefix) || strings.HasPrefix(k, "io.containerd.") {
			delete(out, k)
		}
	}
	return out
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
