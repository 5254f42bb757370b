package containerd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemonTestNeeds skips a test that needs root and containerd, except
// under CI=true, where a missing requirement fails it.
func daemonTestNeeds(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, b := range []string{"containerd", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and this test needs %v", missing)
	}
	t.Skipf("needs %v", missing)
}

// startTestDaemon starts a containerd under a temp dir and stops it when
// the test ends.
func startTestDaemon(t *testing.T) *Daemon {
	t.Helper()
	daemonTestNeeds(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := StartDaemon(ctx, DaemonConfig{DataDir: t.TempDir(), StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

func daemonProcessGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}

func TestDaemonRestartsAfterKillAndStops(t *testing.T) {
	d := startTestDaemon(t)
	ctx := context.Background()
	if err := daemonPing(ctx, d.Socket(), 5*time.Second); err != nil {
		t.Fatalf("Version on %s: %v", d.Socket(), err)
	}
	first := d.Pid()
	if first == 0 {
		t.Fatal("no pid after start")
	}

	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for d.Pid() == 0 || d.Pid() == first {
		if time.Now().After(deadline) {
			t.Fatalf("containerd not restarted 20s after kill -9; log:\n%s", daemonLogTail(d.LogPath(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := d.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if d.Restarts() != 1 {
		t.Fatalf("Restarts = %d, want 1", d.Restarts())
	}
	second := d.Pid()

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if d.Pid() != 0 || !daemonProcessGone(second) || !daemonProcessGone(first) {
		t.Fatalf("a containerd is left after Stop (pids %d, %d)", first, second)
	}
	if err := daemonPing(ctx, d.Socket(), time.Second); err == nil {
		t.Fatal("socket still answers after Stop")
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestDaemonConfigIsWhatContainerdReads(t *testing.T) {
	d := startTestDaemon(t)
	out, err := exec.Command("containerd", "--config", d.ConfigPath(), "config", "dump").CombinedOutput()
	if err != nil {
		t.Fatalf("containerd config dump: %v\n%s", err, out)
	}
	dump := string(out)
	dir := filepath.Dir(d.ConfigPath())
	for _, want := range []string{
		`root = "` + dir + `/root"`,
		`state = "` + dir + `/state"`,
		`address = "` + d.Socket() + `"`,
		`"io.containerd.grpc.v1.cri"`,
		`path = "` + dir + `/opt"`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("containerd's view of the config lacks %s:\n%s", want, dump)
		}
	}
}

func TestDaemonRefusesABusySocket(t *testing.T) {
	d := startTestDaemon(t)
	dataDir := filepath.Dir(filepath.Dir(d.Socket()))
	_, err := StartDaemon(context.Background(), DaemonConfig{DataDir: dataDir})
	if err == nil || !strings.Contains(err.Error(), "already serves") {
		t.Fatalf("second daemon on one data dir: err = %v", err)
	}
	if err := daemonPing(context.Background(), d.Socket(), 5*time.Second); err != nil {
		t.Fatalf("first daemon hurt by the attempt: %v", err)
	}
}

func TestDaemonStartErrors(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "fake-containerd")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'level=fatal msg=\"boom: bad config\"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     DaemonConfig
		wantErr string
	}{
		{"no data dir", DaemonConfig{}, "DataDir is required"},
		{"no binary", DaemonConfig{DataDir: dir, Binary: "no-such-containerd"}, "install containerd"},
		{"exits at start", DaemonConfig{DataDir: dir, Binary: failing}, "boom: bad config"},
		{"socket path too long", DaemonConfig{DataDir: "/" + strings.Repeat("d", 100)}, "shorter --data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d, err := StartDaemon(ctx, tt.cfg)
			if err == nil {
				d.Stop()
				t.Fatal("StartDaemon succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestDaemonEnvDropsNotifySocket(t *testing.T) {
	got := daemonEnv([]string{"PATH=/bin", "NOTIFY_SOCKET=/run/systemd/notify", "HOME=/root"})
	if strings.Join(got, " ") != "PATH=/bin HOME=/root" {
		t.Fatalf("daemonEnv = %v", got)
	}
}
