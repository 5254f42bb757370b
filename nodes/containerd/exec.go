package containerd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"

	"github.com/berth-io/berth/nodes"
)

// maxExecOutput caps what Exec keeps of each stream, as kubelet caps
// probe output.
const maxExecOutput = 1 << 20

// Exec runs cmd in the running container (its process spec: env, cwd,
// user) and waits at most timeout for it; output is captured.
func (r *Runtime) Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (nodes.ExecResult, error) {
	ctx = r.nsCtx(ctx)
	if len(cmd) == 0 {
		return nodes.ExecResult{}, fmt.Errorf("exec in container %s: empty command", containerID)
	}
	c, err := r.load(ctx, containerID)
	if err != nil {
		return nodes.ExecResult{}, err
	}
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nodes.ExecResult{}, fmt.Errorf("exec in container %s: %w", containerID, nodes.ErrNotRunning)
	}
	if err != nil {
		return nodes.ExecResult{}, err
	}
	if st, err := task.Status(ctx); err != nil || st.Status != ctrd.Running {
		return nodes.ExecResult{}, fmt.Errorf("exec in container %s: %w", containerID, nodes.ErrNotRunning)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return nodes.ExecResult{}, err
	}
	pspec := *spec.Process
	pspec.Args, pspec.Terminal = cmd, false

	dir := filepath.Join(r.opts.StateDir, "exec")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nodes.ExecResult{}, err
	}
	var stdout, stderr capped
	execID := "exec-" + newID()[:16]
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(cio.WithStreams(nil, &stdout, &stderr), cio.WithFIFODir(dir)))
	if err != nil {
		return nodes.ExecResult{}, fmt.Errorf("exec %q in container %s: %w", cmd[0], containerID, err)
	}
	defer func() {
		_, _ = proc.Delete(context.WithoutCancel(ctx), ctrd.WithProcessKill)
	}()
	exitC, err := proc.Wait(ctx)
	if err != nil {
		return nodes.ExecResult{}, err
	}
	if err := proc.Start(ctx); err != nil {
		return nodes.ExecResult{}, fmt.Errorf("exec %q in container %s: %w", cmd[0], containerID, err)
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case st := <-exitC:
		if st.Error() != nil {
			return nodes.ExecResult{}, st.Error()
		}
		proc.IO().Wait()
		return nodes.ExecResult{ExitCode: int32(st.ExitCode()), Stdout: stdout.bytes(), Stderr: stderr.bytes()}, nil
	case <-t.C:
		_ = proc.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return nodes.ExecResult{}, fmt.Errorf("exec %q in container %s: timed out after %s", cmd[0], containerID, timeout)
	case <-ctx.Done():
		return nodes.ExecResult{}, ctx.Err()
	}
}

// capped is a goroutine-safe buffer that keeps the first maxExecOutput
// bytes.
type capped struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxExecOutput - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.b.Bytes())
}
