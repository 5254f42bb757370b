package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	ctrd "github.com/containerd/containerd"
)

// DaemonConfig says how to run berth's own containerd.
type DaemonConfig struct {
	// DataDir is berth's data dir; the daemon lives in DataDir/containerd
	// (config.toml, root/, state/, containerd.sock, containerd.log).
	// Required.
	DataDir string
	// Binary is the containerd executable (default "containerd", looked
	// up on PATH). Its shims (containerd-shim-runc-v2) must be on PATH.
	Binary string
	// LogPath receives containerd's output (default
	// DataDir/containerd/containerd.log; appended to, never rotated).
	LogPath string
	// LogLevel is containerd's log level ("" = containerd's default, info).
	LogLevel string
	// StartTimeout bounds the wait for the socket to answer (default 30s).
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL
	// (default 10s).
	StopTimeout time.Duration
	// Log gets the supervisor's messages (default slog.Default()).
	Log *slog.Logger
}

// Backoff between restarts of a containerd that died: 1s, doubling up to
// 30s, back to 1s once a run has lasted daemonStableAfter.
const (
	daemonMinBackoff  = time.Second
	daemonMaxBackoff  = 30 * time.Second
	daemonStableAfter = time.Minute
	// daemonMaxSocketPath is sun_path's size less the NUL, less
	// ".ttrpc" which containerd appends for its ttrpc socket.
	daemonMaxSocketPath = 107 - len(".ttrpc")
)

// Daemon is a containerd that berth runs as its child, as k3s does: own
// config, root, state and socket under the data dir, restarted with
// backoff whenever it dies, and killed if berth dies (Pdeathsig).
// Containers keep running across containerd restarts (their shims are
// separate processes).
type Daemon struct {
	cfg        DaemonConfig
	dir        string
	socket     string
	configPath string
	log        *slog.Logger

	stopc chan struct{} // closed by Stop
	done  chan struct{} // closed when the supervisor has returned
	exits chan error    // each run's exit, for StartDaemon's wait

	mu       sync.Mutex
	proc     *os.Process // current child; nil between runs
	stopping bool
	restarts int
}

// StartDaemon writes DataDir/containerd/config.toml, starts containerd on
// it and waits until its socket answers (at most StartTimeout, and no
// longer than ctx allows). ctx bounds only this start: the daemon runs
// until Stop. It fails if another process already serves the socket.
func StartDaemon(ctx context.Context, cfg DaemonConfig) (*Daemon, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("containerd: DaemonConfig.DataDir is required")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("containerd: data dir: %w", err)
	}
	if cfg.Binary == "" {
		cfg.Binary = "containerd"
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("containerd: %v; install containerd (Debian: apt-get install containerd) or pass --containerd-socket to use a running one", err)
	}
	cfg.Binary = bin
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &Daemon{
		cfg:    cfg,
		dir:    filepath.Join(dataDir, "containerd"),
		log:    cfg.Log.With("component", "containerd"),
		stopc:  make(chan struct{}),
		done:   make(chan struct{}),
		exits:  make(chan error, 1),
		socket: filepath.Join(dataDir, "containerd", "containerd.sock"),
	}
	if len(d.socket) > daemonMaxSocketPath {
		return nil, fmt.Errorf("containerd: socket path %s is longer than the %d bytes a unix socket allows; use a shorter --data-dir", d.socket, daemonMaxSocketPath)
	}
	if d.cfg.LogPath == "" {
		d.cfg.LogPath = filepath.Join(d.dir, "containerd.log")
	}
	if d.configPath, err = writeDaemonConfig(d.dir, d.socket, cfg.LogLevel); err != nil {
		return nil, err
	}
	if err := daemonPing(ctx, d.socket, time.Second); err == nil {
		return nil, fmt.Errorf("containerd: something already serves %s (a containerd left from an earlier berth?); stop it, or pass its socket with --containerd-socket", d.socket)
	}

	started := make(chan error, 1)
	go d.supervise(started)
	if err := <-started; err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := d.waitFirstStart(ctx); err != nil {
		d.Stop()
		return nil, err
	}
	d.log.Info("containerd is up", "socket", d.socket, "pid", d.Pid(), "log", d.cfg.LogPath)
	return d, nil
}

// Socket is the daemon's gRPC address, for containerd.New.
func (d *Daemon) Socket() string { return d.socket }

// ConfigPath is the config.toml the daemon runs with.
func (d *Daemon) ConfigPath() string { return d.configPath }

// LogPath is the file containerd's output goes to.
func (d *Daemon) LogPath() string { return d.cfg.LogPath }

// RuncRoot is a runc state directory under the data dir. containerd's
// runc shim defaults to /run/containerd/runc whatever the config says;
// pass this in the runtime options (runc options.Options.Root) to keep
// clear of a host containerd.
func (d *Daemon) RuncRoot() string { return filepath.Join(d.dir, "runc") }

// Pid is the current containerd's process ID, 0 while it is down.
func (d *Daemon) Pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return 0
	}
	return d.proc.Pid
}

// Restarts counts the times containerd was restarted after dying.
func (d *Daemon) Restarts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restarts
}

// WaitReady waits until the socket answers, e.g. after a restart.
func (d *Daemon) WaitReady(ctx context.Context) error {
	for {
		if err := daemonPing(ctx, d.socket, time.Second); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containerd on %s is not answering: %w (see %s)", d.socket, ctx.Err(), d.cfg.LogPath)
		case <-d.done:
			return errors.New("containerd: daemon stopped")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops containerd for good: SIGTERM, then SIGKILL once StopTimeout
// has passed; it returns when the process is gone. Containers' shims are
// not stopped (stop the containers first to end them). Safe to call twice.
func (d *Daemon) Stop() error {
	d.mu.Lock()
	if !d.stopping {
		d.stopping = true
		close(d.stopc)
	}
	p := d.proc
	d.mu.Unlock()
	if p == nil {
		<-d.done
		return nil
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(d.cfg.StopTimeout):
		d.log.Warn("containerd did not stop on SIGTERM; killing it", "pid", p.Pid, "after", d.cfg.StopTimeout)
		_ = p.Kill()
		<-d.done
	}
	return nil
}

// supervise runs containerd, and again whenever it exits, until Stop. It
// keeps its goroutine on one OS thread because Pdeathsig fires when the
// thread that started the child ends, not the process.
func (d *Daemon) supervise(started chan<- error) {
	runtime.LockOSThread()
	defer close(d.done)
	backoff := daemonMinBackoff
	for first := true; ; first = false {
		cmd, err := d.startOnce()
		if first {
			started <- err
			if err != nil {
				return
			}
		}
		if cmd == nil && err == nil {
			return // stopping
		}
		if err == nil {
			began := time.Now()
			err = cmd.Wait()
			d.mu.Lock()
			d.proc = nil
			stopping := d.stopping
			d.mu.Unlock()
			select {
			case d.exits <- err:
			default:
			}
			if stopping {
				return
			}
			if time.Since(began) >= daemonStableAfter {
				backoff = daemonMinBackoff
			}
			if err == nil {
				err = errors.New("exited with status 0")
			}
		}
		d.log.Error("containerd died; restarting", "err", err, "in", backoff, "log", d.cfg.LogPath)
		select {
		case <-d.stopc:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, daemonMaxBackoff)
		d.mu.Lock()
		d.restarts++
		d.mu.Unlock()
	}
}

// startOnce starts one containerd; (nil, nil) means Stop was called.
func (d *Daemon) startOnce() (*exec.Cmd, error) {
	logf, err := os.OpenFile(d.cfg.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("containerd: open log: %w", err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(d.cfg.Binary, "--config", d.configPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = daemonEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a Ctrl-C meant for berth must not reach
		// containerd directly, berth stops it in order.
		Setpgid: true,
		// SIGKILL rather than SIGTERM: a containerd left behind would hold
		// the socket and block the next berth.
		Pdeathsig: syscall.SIGKILL,
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return nil, nil
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("containerd: start %s: %w", d.cfg.Binary, err)
	}
	d.proc = cmd.Process
	return cmd, nil
}

// waitFirstStart waits for the socket to answer, failing fast if the
// process exits meanwhile.
func (d *Daemon) waitFirstStart(ctx context.Context) error {
	for {
		if err := daemonPing(ctx, d.socket, time.Second); err == nil {
			return nil
		}
		select {
		case err := <-d.exits:
			return fmt.Errorf("containerd exited at start (%v); its log %s ends with:\n%s", err, d.cfg.LogPath, daemonLogTail(d.cfg.LogPath, 15))
		case <-ctx.Done():
			return fmt.Errorf("containerd did not answer on %s: %w; its log %s ends with:\n%s", d.socket, ctx.Err(), d.cfg.LogPath, daemonLogTail(d.cfg.LogPath, 15))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// daemonPing asks the containerd at socket for its version.
func daemonPing(ctx context.Context, socket string, timeout time.Duration) error {
	if _, err := os.Stat(socket); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := ctrd.New(socket, ctrd.WithTimeout(timeout))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Version(ctx)
	return err
}

// daemonEnv is berth's environment minus what must not leak into
// containerd: NOTIFY_SOCKET would make it notify berth's systemd unit.
func daemonEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			out = append(out, kv)
		}
	}
	return out
}

func daemonLogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
