package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

// cfsPeriod is the CFS period CPU limits are expressed in (100ms, as
// kubelet).
const cfsPeriod = 100000

// specOpts builds the OCI spec of a container: the image's config, then
// the pod spec's overrides, the sandbox's namespaces and files, mounts and
// resource limits.
func (r *Runtime) specOpts(id string, img ctrd.Image, rec *sandboxRecord, cfg *nodes.ContainerConfig) ([]oci.SpecOpts, error) {
	var opts []oci.SpecOpts
	switch {
	case len(cfg.Command) > 0:
		// command replaces the image's entrypoint and cmd; args follow it.
		opts = append(opts, oci.WithImageConfig(img), oci.WithProcessArgs(append(append([]string{}, cfg.Command...), cfg.Args...)...))
	case len(cfg.Args) > 0:
		opts = append(opts, oci.WithImageConfigArgs(img, cfg.Args))
	default:
		opts = append(opts, oci.WithImageConfig(img))
	}
	opts = append(opts, requireArgs)
	if cfg.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(cfg.WorkingDir))
	}
	if len(cfg.Env) > 0 {
		env := make([]string, 0, len(cfg.Env))
		for _, e := range cfg.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		opts = append(opts, oci.WithEnv(env))
	}
	opts = append(opts, oci.WithHostname(rec.Hostname))

	var mounts []specs.Mount
	if rec.HostNetwork {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostHostsFile, oci.WithHostResolvconf)
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: rec.NetNS}))
		dir := r.sandboxFiles(rec.Info.ID)
		for _, f := range []string{"hosts", "resolv.conf", "hostname"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err == nil && st.Size() > 0 {
				mounts = append(mounts, bindMount(filepath.Join(dir, f), "/etc/"+f, false))
			}
		}
	}
	for _, m := range cfg.Mounts {
		src := m.HostPath
		if m.SubPath != "" {
			if !filepath.IsLocal(m.SubPath) {
				return nil, fmt.Errorf("mount %s: subPath %q must be a relative path inside the volume", m.ContainerPath, m.SubPath)
			}
			src = filepath.Join(src, m.SubPath)
		}
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("mount %s: %w", m.ContainerPath, err)
		}
		mounts = append(mounts, bindMount(src, m.ContainerPath, m.ReadOnly))
	}
	opts = append(opts, oci.WithMounts(mounts))

	opts = append(opts, oci.WithCgroup(filepath.Join(r.opts.CgroupParent, id)))
	if cfg.Spec != nil {
		opts = append(opts, resourceOpts(cfg.Spec.Resources)...)
	}
	return opts, nil
}

// requireArgs fails a spec with nothing to run, with kubelet's message.
func requireArgs(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	if s.Process == nil || len(s.Process.Args) == 0 {
		return errors.New("no command specified: the image has no entrypoint or cmd and the container sets no command")
	}
	return nil
}

func bindMount(src, dst string, ro bool) specs.Mount {
	mode := "rw"
	if ro {
		mode = "ro"
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rprivate", mode}}
}

// resourceOpts maps limits.cpu to a CFS quota, requests.cpu to shares and
// limits.memory to the memory limit, as kubelet does.
func resourceOpts(res corev1.ResourceRequirements) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if q, ok := res.Limits[corev1.ResourceCPU]; ok && !q.IsZero() {
		quota := q.MilliValue() * cfsPeriod / 1000
		opts = append(opts, oci.WithCPUCFS(max(quota, 1000), cfsPeriod))
	}
	cpuReq, ok := res.Requests[corev1.ResourceCPU]
	if !ok {
		cpuReq, ok = res.Limits[corev1.ResourceCPU]
	}
	if ok && !cpuReq.IsZero() {
		opts = append(opts, oci.WithCPUShares(uint64(max(cpuReq.MilliValue()*1024/1000, 2))))
	}
	if q, ok := res.Limits[corev1.ResourceMemory]; ok && !q.IsZero() {
		opts = append(opts, oci.WithMemoryLimit(uint64(q.Value())))
	}
	return opts
}

// oomKilled reports whether the kernel OOM-killed a process of the
// container's cgroup (v1 memory.oom_control or v2 memory.events). It must
// be asked before the task is deleted, which removes the cgroup.
func (r *Runtime) oomKilled(id string) bool {
	cg := filepath.Join(r.opts.CgroupParent, id)
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup/memory", cg, "memory.oom_control"),
		filepath.Join("/sys/fs/cgroup", cg, "memory.events"),
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
				return strings.TrimSpace(n) != "0"
			}
		}
	}
	return false
}
