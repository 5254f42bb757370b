package image

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd"
)

// Containerd is a private containerd for tests: its config, root, state
// and sockets all live under one directory, so it never meets the host's
// /run/containerd or /var/lib/containerd. The production supervisor lives
// in nodes/containerd; this is test support only.
type Containerd struct {
	// Socket is the gRPC address to give containerd.New.
	Socket string
	// Dir holds config.toml, root/, state/ and containerd.log.
	Dir  string
	proc *child
	once sync.Once
}

// RunContainerd starts `containerd --config dir/config.toml` with the CRI
// plugin disabled and waits until it answers. dir should be short: unix
// socket paths are limited to 108 bytes. Call Stop.
func RunContainerd(dir string) (*Containerd, error) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return nil, fmt.Errorf("containerd not found: apt-get install containerd")
	}
	sock := filepath.Join(dir, "containerd.sock")
	if len(sock) > 100 {
		return nil, fmt.Errorf("containerd socket path %s is too long for a unix socket: use a shorter directory", sock)
	}
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "opt"))
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	proc, err := startChild(filepath.Join(dir, "containerd.log"), nil, bin, "--config", cfgPath)
	if err != nil {
		return nil, err
	}
	c := &Containerd{Socket: sock, Dir: dir, proc: proc}
	if err := proc.waitFor(30*time.Second, c.answers); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Containerd) answers() error {
	if _, err := os.Stat(c.Socket); err != nil {
		return err
	}
	client, err := containerd.New(c.Socket, containerd.WithTimeout(time.Second))
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = client.Version(ctx)
	return err
}

// Stop terminates containerd and unmounts whatever is still mounted under
// Dir, so the directory can be removed. Tasks (and their shims) must be
// deleted before. It may be called again.
func (c *Containerd) Stop() {
	c.once.Do(func() {
		c.proc.stop(10 * time.Second)
		unmountUnder(c.Dir)
	})
}

// Kill SIGKILLs containerd and waits for it to die, leaving its shims,
// tasks and mounts as a crash would: a test of surviving containerd's
// crash starts it again with RunContainerd(c.Dir) and stops that one.
// Stop does nothing after Kill (it would unmount the running
// containers' root filesystems).
func (c *Containerd) Kill() {
	c.once.Do(func() {
		_ = c.proc.cmd.Process.Kill()
		<-c.proc.exited
	})
}

// Log is containerd's output so far, for a failing test to show.
func (c *Containerd) Log() string {
	b, _ := os.ReadFile(c.proc.logPath)
	return string(b)
}

// StartContainerd is RunContainerd for a test, in a temporary directory:
// it applies NeedRoot's skip rule, fails t on error, stops containerd
// when t ends (logging its output if t failed) and returns the socket.
func StartContainerd(t testing.TB) (socket string) {
	t.Helper()
	NeedRoot(t, "containerd", "runc")
	dir, err := os.MkdirTemp("", "berth-ctrd-") // t.TempDir's paths can be too long for a socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := RunContainerd(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("containerd log:\n%s", c.Log())
		}
	})
	return c.Socket
}

// MountsUnder lists the mount points below dir, deepest first (test
// support: what a test must unmount, or must not have left behind).
func MountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + "/"
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], prefix) {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	return points
}

// unmountUnder detaches every mount point below dir, deepest first.
func unmountUnder(dir string) {
	points := MountsUnder(dir)
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}
