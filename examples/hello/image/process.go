package image

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// child is a supervised test daemon whose output goes to a log file.
type child struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error
}

// startChild runs name args with stdout and stderr to logPath and env
// (nil: this process's). The child dies with the test process
// (Pdeathsig), so a crashed test leaves nothing running.
func startChild(logPath string, env []string, name string, args ...string) (*child, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	started := make(chan error)
	// Pdeathsig fires when the OS thread that started the child ends, not
	// the process: start and wait on a thread held for the child's whole
	// life. (Other code locks threads and lets them die — a CNI netns is
	// made that way — and one of them could otherwise be this one.)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			logf.Close()
			started <- fmt.Errorf("starting %s: %w", name, err)
			return
		}
		started <- nil
		c.err = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// stop sends SIGTERM, then SIGKILL after grace, and waits for the exit.
func (c *child) stop(grace time.Duration) {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(grace):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// waitFor polls ready until it succeeds, the child exits or timeout passes.
func (c *child) waitFor(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited (%v) before it was ready:\n%s", c.cmd.Path, c.err, c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v\n%s", c.cmd.Path, timeout, err, c.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logTail is the end of the child's log, for error messages.
func (c *child) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	s := string(b)
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}

// freePort picks a loopback port nobody listens on now. Another process
// may take it before the caller binds it; callers retry on that.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}
