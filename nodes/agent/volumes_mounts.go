package agent

import (
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// containerMounts turns c's volumeMounts into runtime mounts. A subPath
// (or subPathExpr, expanded over the container's env) is resolved here,
// symlinks included, and refused if it leaves its volume; the mount's
// HostPath is then the resolved path and its SubPath is left empty, so
// that the runtime binds HostPath as it is.
func containerMounts(c *corev1.Container, vols map[string]podVolume, env map[string]string) ([]nodes.Mount, error) {
	var out []nodes.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, configErrorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		if v.unsupported != "" {
			return nil, configErrorf("%s", v.unsupported)
		}
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expand(vm.SubPathExpr, env)
		}
		host := v.path
		if sub != "" {
			if err := relativeNoBacksteps(sub); err != nil {
				return nil, configErrorf("unable to provision SubPath `%s` of volume %q: %v", sub, vm.Name, err)
			}
			if host != "" {
				resolved, err := resolveSubPath(host, sub, v.readOnly)
				if err != nil {
					return nil, configErrorf("unable to provision SubPath `%s` of volume %q: %v", sub, vm.Name, err)
				}
				host = resolved
			}
		}
		out = append(out, nodes.Mount{ContainerPath: vm.MountPath, HostPath: host, ReadOnly: vm.ReadOnly || v.readOnly})
	}
	return out, nil
}

// resolveSubPath returns the real path of sub inside volume root,
// creating it as a directory when missing (kubelet does, for a writable
// volume, even for a read-only mount), and refuses a path that symlinks out of the volume.
func resolveSubPath(root, sub string, readOnly bool) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	full := filepath.Join(root, sub)
	if _, err := os.Lstat(full); os.IsNotExist(err) && !readOnly {
		// Check the existing part first, so that MkdirAll cannot follow a
		// symlink out of the volume.
		parent := filepath.Dir(full)
		for {
			if _, err := os.Lstat(parent); err == nil {
				break
			}
			parent = filepath.Dir(parent)
		}
		if rp, err := filepath.EvalSymlinks(parent); err != nil || !within(rp, realRoot) {
			return "", errEscapes
		}
		if err := os.MkdirAll(full, 0o755); err != nil {
			return "", err
		}
	}
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", err
	}
	if !within(resolved, realRoot) {
		return "", errEscapes
	}
	return resolved, nil
}

var errEscapes = configErrorf("subPath resolves outside of its volume")

func within(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// removePodDir removes a pod's directory (its volumes) once the pod is
// gone from the node, unmounting its tmpfs emptyDirs first.
func (a *Agent) removePodDir(uid string) {
	if a.opts.DataDir == "" || uid == "" {
		return
	}
	dir := a.podDir(uid)
	unmountAll(filepath.Join(dir, "volumes"))
	if err := os.RemoveAll(dir); err != nil {
		a.opts.Log.Error("agent: remove pod directory", "node", a.name, "dir", dir, "err", err)
	}
}

// collectPodDirs removes the directories of pods no longer on this node
// (left behind by an agent that stopped while they were deleted). Only
// directories holding a "volumes" directory are the agent's.
func (a *Agent) collectPodDirs() {
	if a.opts.DataDir == "" {
		return
	}
	entries, err := os.ReadDir(filepath.Join(a.opts.DataDir, "pods"))
	if err != nil {
		return
	}
	live := map[string]bool{}
	for _, obj := range a.pods.List("", nil) {
		if p := obj.(*corev1.Pod); p.Spec.NodeName == a.name {
			live[string(p.UID)] = true
		}
	}
	for _, e := range entries {
		if !e.IsDir() || live[e.Name()] {
			continue
		}
		if fi, err := os.Stat(filepath.Join(a.opts.DataDir, "pods", e.Name(), "volumes")); err == nil && fi.IsDir() {
			a.removePodDir(e.Name())
		}
	}
}
