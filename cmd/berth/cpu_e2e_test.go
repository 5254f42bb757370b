package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ctrd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/berth-io/berth/nodes/containerd"
)

// TestE2ECPULimit: limits.cpu 250m is a CFS quota of 25000µs per
// 100000µs period on the container's cgroup, under berth's cgroup parent.
func TestE2ECPULimit(t *testing.T) {
	n := newE2ENode(t)
	n.apply("capped", `apiVersion: v1
kind: Pod
metadata: {name: capped}
spec:
  containers:
  - name: web
    image: berth.local/hello:v1
    imagePullPolicy: Never
    resources:
      limits: {cpu: 250m}
`)
	p := n.waitPod("capped", "Running", time.Minute, running)
	id := strings.TrimPrefix(p.Status.ContainerStatuses[0].ContainerID, "containerd://")
	pid := n.taskPid(id)
	cgroup, err := cpuCgroup(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cgroup.path, containerd.DefaultCgroupParent+"/"+id) {
		t.Errorf("the container's cgroup %s is not %s/%s", cgroup.path, containerd.DefaultCgroupParent, id)
	}
	quota, period, err := cgroup.cfs()
	if err != nil {
		t.Fatal(err)
	}
	if quota != "25000" || period != "100000" {
		t.Errorf("cpu quota %s/%s, want 25000/100000", quota, period)
	}
}

// taskPid is the pid of the container's task, asked of containerd.
func (n *e2eNode) taskPid(id string) uint32 {
	n.t.Helper()
	client, err := ctrd.New(n.socket)
	if err != nil {
		n.t.Fatal(err)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), "berth")
	c, err := client.LoadContainer(ctx, id)
	if err != nil {
		n.t.Fatal(err)
	}
	task, err := c.Task(ctx, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	return task.Pid()
}

// procCgroup is where a process's CPU controller is: cgroup v1's cpu
// hierarchy, or the v2 unified one.
type procCgroup struct {
	dir  string // under /sys/fs/cgroup
	path string // as /proc/<pid>/cgroup gives it
	v2   bool
}

// cpuCgroup reads /proc/<pid>/cgroup for the cgroup holding the CPU
// controller.
func cpuCgroup(pid uint32) (procCgroup, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return procCgroup{}, err
	}
	var unified string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			unified = f[2]
			continue
		}
		for _, ctl := range strings.Split(f[1], ",") {
			if ctl == "cpu" {
				return procCgroup{dir: filepath.Join("/sys/fs/cgroup", f[1], f[2]), path: f[2]}, nil
			}
		}
	}
	if unified == "" {
		return procCgroup{}, fmt.Errorf("no cpu cgroup for pid %d in:\n%s", pid, b)
	}
	return procCgroup{dir: filepath.Join("/sys/fs/cgroup", unified), path: unified, v2: true}, nil
}

// cfs reads the CFS quota and period, both in µs.
func (c procCgroup) cfs() (quota, period string, err error) {
	if c.v2 {
		b, err := os.ReadFile(filepath.Join(c.dir, "cpu.max"))
		if err != nil {
			return "", "", err
		}
		q, p, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		return q, p, nil
	}
	q, err := os.ReadFile(filepath.Join(c.dir, "cpu.cfs_quota_us"))
	if err != nil {
		return "", "", err
	}
	p, err := os.ReadFile(filepath.Join(c.dir, "cpu.cfs_period_us"))
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(q)), strings.TrimSpace(string(p)), nil
}
