package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"

	"github.com/berth-io/berth/nodes"
)

// Labels berth keeps on its containerd containers, besides the pod's own
// (nodes.ContainerLabels): its bookkeeping, so a new Runtime knows what the
// old one knew.
const (
	labelPrefix      = "io.berth.runtime/"
	labelSandbox     = labelPrefix + "sandbox"
	labelName        = labelPrefix + "name"
	labelAttempt     = labelPrefix + "attempt"
	labelImage       = labelPrefix + "image"
	labelLogPath     = labelPrefix + "log-path"
	labelAnnotations = labelPrefix + "annotations"
	labelStartedAt   = labelPrefix + "started-at"
	labelFinishedAt  = labelPrefix + "finished-at"
	labelExitCode    = labelPrefix + "exit-code"
	labelReason      = labelPrefix + "reason"
	labelMessage     = labelPrefix + "message"
)

// CreateContainer creates the container (spec and snapshot, no task) in a
// ready sandbox.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *nodes.ContainerConfig) (string, error) {
	ctx = r.nsCtx(ctx)
	rec, err := r.loadSandbox(sandboxID)
	if err != nil {
		return "", err
	}
	if rec.Info.State != nodes.SandboxReady {
		return "", fmt.Errorf("sandbox %s of pod %s/%s is not ready", sandboxID, rec.Info.Namespace, rec.Info.Name)
	}
	img, err := r.client.GetImage(ctx, cfg.Image)
	if err != nil {
		return "", fmt.Errorf("image %q: %w (pull it first)", cfg.Image, err)
	}
	if err := r.unpack(ctx, img); err != nil {
		return "", fmt.Errorf("unpack image %q: %w", cfg.Image, err)
	}
	id := newID()
	specOpts, err := r.specOpts(id, img, rec, cfg)
	if err != nil {
		return "", err
	}
	asked := cfg.Image
	if cfg.Spec != nil && cfg.Spec.Image != "" {
		asked = cfg.Spec.Image
	}
	labels := maps.Clone(cfg.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelSandbox] = sandboxID
	labels[labelName] = cfg.Name
	labels[labelAttempt] = strconv.FormatUint(uint64(cfg.Attempt), 10)
	labels[labelImage] = asked
	logPath := cfg.LogPath
	if logPath == "" {
		logPath = fmt.Sprintf("%s/%d.log", cfg.Name, cfg.Attempt)
	}
	labels[labelLogPath] = filepath.Join(rec.LogDir, logPath)
	if len(cfg.Annotations) > 0 {
		b, _ := json.Marshal(cfg.Annotations)
		labels[labelAnnotations] = string(b)
	}
	_, err = r.client.NewContainer(ctx, id,
		ctrd.WithImage(img),
		ctrd.WithSnapshotter(r.opts.Snapshotter),
		ctrd.WithNewSnapshot(id, img),
		ctrd.WithImageStopSignal(img, "SIGTERM"),
		ctrd.WithRuntime(defaultRuntimeName, nil),
		ctrd.WithNewSpec(specOpts...),
		ctrd.WithContainerLabels(labels),
	)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	return id, nil
}

// StartContainer starts a created container's task, with its output going
// to its CRI log file.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	ctx = r.nsCtx(ctx)
	c, err := r.load(ctx, containerID)
	if err != nil {
		return err
	}
	labels, err := c.Labels(ctx)
	if err != nil {
		return err
	}
	if labels[labelStartedAt] != "" {
		return fmt.Errorf("container %s was already started", containerID)
	}
	log, err := openCRILog(labels[labelLogPath], r.opts.MaxLogSize)
	if err != nil {
		return err
	}
	task, err := c.NewTask(ctx, r.newIO(containerID, log))
	if err != nil {
		log.Close()
		_ = os.RemoveAll(r.ioDir(containerID))
		return r.startFailed(ctx, c, labels[labelName], err)
	}
	// Wait before Start, so a fast exit is not missed.
	exitC, err := task.Wait(r.ctx)
	if err == nil {
		_, err = c.SetLabels(ctx, map[string]string{labelStartedAt: time.Now().UTC().Format(time.RFC3339Nano)})
	}
	if err == nil {
		err = task.Start(ctx)
	}
	if err != nil {
		_, _ = task.Delete(context.WithoutCancel(ctx), ctrd.WithProcessKill)
		log.Close()
		_ = os.RemoveAll(r.ioDir(containerID))
		_, _ = c.SetLabels(context.WithoutCancel(ctx), map[string]string{labelStartedAt: ""})
		return r.startFailed(ctx, c, labels[labelName], err)
	}
	r.watch(c, task, exitC, log)
	return nil
}

// maxMessageLabel bounds the message kept on a label (containerd refuses
// labels over 4 KiB).
const maxMessageLabel = 1024

// startFailed records a failed start on the container as an exit
// (nodes.StartErrorExitCode, nodes.StartErrorReason), as the Runtime
// contract says, and returns the error. runc's message names what is wrong
// ("exec: \"/no/such/binary\": stat /no/such/binary: no such file or
// directory").
func (r *Runtime) startFailed(ctx context.Context, c ctrd.Container, name string, cause error) error {
	msg := cause.Error()
	if len(msg) > maxMessageLabel {
		msg = msg[:maxMessageLabel]
	}
	_, err := c.SetLabels(context.WithoutCancel(ctx), map[string]string{
		labelExitCode:   strconv.Itoa(nodes.StartErrorExitCode),
		labelFinishedAt: time.Now().UTC().Format(time.RFC3339Nano),
		labelReason:     nodes.StartErrorReason,
		labelMessage:    msg,
	})
	if err != nil {
		r.opts.Log.Warn("containerd runtime: record failed start", "container", c.ID(), "err", err)
	}
	return fmt.Errorf("start container %s: %w", name, cause)
}

// StopContainer sends the stop signal (the image's STOPSIGNAL, else
// SIGTERM) and, from a goroutine, SIGKILL if the container still runs
// after timeout. It returns once the signal is sent.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout time.Duration) error {
	ctx = r.nsCtx(ctx)
	c, err := r.load(ctx, containerID)
	if err != nil {
		return err
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil // never started or already exited
	}
	if err != nil {
		return err
	}
	if timeout <= 0 {
		return ignoreGone(task.Kill(ctx, syscall.SIGKILL))
	}
	sig, err := ctrd.GetStopSignal(ctx, c, syscall.SIGTERM)
	if err != nil {
		sig = syscall.SIGTERM
	}
	if err := ignoreGone(task.Kill(ctx, sig)); err != nil {
		return fmt.Errorf("stop container %s: %w", containerID, err)
	}
	exited := r.exited(containerID)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-exited:
		case <-r.ctx.Done():
		case <-t.C:
			if err := ignoreGone(task.Kill(r.ctx, syscall.SIGKILL)); err != nil {
				r.opts.Log.Error("containerd runtime: kill after grace period", "container", containerID, "err", err)
			}
		}
	}()
	return nil
}

// killAndWait kills a container at once and waits (a while) for its exit
// to be recorded.
func (r *Runtime) killAndWait(ctx context.Context, containerID string) error {
	ctx = r.nsCtx(ctx)
	c, err := r.load(ctx, containerID)
	if err != nil {
		return ignoreGone(err)
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := ignoreGone(task.Kill(ctx, syscall.SIGKILL, ctrd.WithKillAll)); err != nil {
		return fmt.Errorf("kill container %s: %w", containerID, err)
	}
	select {
	case <-r.exited(containerID):
	case <-time.After(10 * time.Second):
		return fmt.Errorf("container %s did not exit 10s after SIGKILL", containerID)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// RemoveContainer kills the container if it runs, then deletes its task,
// the container and its snapshot, and its FIFOs. The log file stays.
func (r *Runtime) RemoveContainer(ctx context.Context, containerID string) error {
	ctx = r.nsCtx(ctx)
	c, err := r.load(ctx, containerID)
	if errors.Is(err, nodes.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.killAndWait(ctx, containerID); err != nil {
		return err
	}
	if task, err := c.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, ctrd.WithProcessKill); ignoreGone(err) != nil {
			return fmt.Errorf("remove container %s: %w", containerID, err)
		}
	}
	if err := c.Delete(ctx, ctrd.WithSnapshotCleanup); ignoreGone(err) != nil {
		return fmt.Errorf("remove container %s: %w", containerID, err)
	}
	return os.RemoveAll(r.ioDir(containerID))
}

// load finds a container, mapping containerd's NotFound to ErrNotFound.
func (r *Runtime) load(ctx context.Context, id string) (ctrd.Container, error) {
	c, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("container %q: %w", id, nodes.ErrNotFound)
	}
	return c, err
}

// ignoreGone treats "already gone / already exited" as success.
func ignoreGone(err error) error {
	if err == nil || errdefs.IsNotFound(err) || errors.Is(err, nodes.ErrNotFound) {
		return nil
	}
	// Killing a process that has just exited.
	if errdefs.IsFailedPrecondition(err) {
		return nil
	}
	return err
}
