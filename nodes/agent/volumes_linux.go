package agent

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// mountTmpfs mounts a tmpfs on dir unless something is mounted there
// already (size 0: tmpfs's default).
func mountTmpfs(dir string, size int64) error {
	if isMountPoint(dir) {
		return nil
	}
	opts := "mode=0777"
	if size > 0 {
		opts += fmt.Sprintf(",size=%d", size)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

// isMountPoint reports whether dir is on another device than its parent.
func isMountPoint(dir string) bool {
	var st, parent syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil || syscall.Lstat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// unmountAll unmounts what is mounted on the emptyDirs under a pod's
// volumes directory, so that removing the pod's directory frees them.
func unmountAll(volumesDir string) {
	dirs, _ := filepath.Glob(filepath.Join(volumesDir, pluginEmptyDir, "*"))
	for _, d := range dirs {
		if isMountPoint(d) {
			_ = syscall.Unmount(d, syscall.MNT_DETACH)
		}
	}
}
