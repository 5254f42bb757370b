//go:build linux

package agent_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestMemoryEmptyDir: as root, a Memory emptyDir is a tmpfs, unmounted
// and removed with the pod.
func TestMemoryEmptyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	dir := t.TempDir()
	e := newAgentEnv(t, agentEnv{dataDir: dir})
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "mem", MountPath: "/mem"}}
	}))
	e.advanceTo(epoch)
	p := e.pod("web")
	vol := filepath.Join(dir, "pods", string(p.UID), "volumes", "kubernetes.io~empty-dir", "mem")
	t.Cleanup(func() { _ = syscall.Unmount(vol, syscall.MNT_DETACH) })
	var fs syscall.Statfs_t
	if err := syscall.Statfs(vol, &fs); err != nil || fs.Type != 0x01021994 { // TMPFS_MAGIC
		t.Fatalf("not a tmpfs: type %#x, %v", fs.Type, err)
	}
	e.deletePod("web", nil)
	e.advanceTo(epoch.Add(time.Second))
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("volume left behind: %v", err)
	}
}
