package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkPodStart measures, on real containerd with the image present,
// how long a pod takes from its manifest appearing in the agent's folder to
// all its containers running (the status file says Running), over 50 pods
// started one after another; it reports p50 and p99, and the agent's RSS
// with the last 20 of them running, in steady state (35 s after the last
// start).
// Run (as root): go test -run '^$' -bench PodStart -benchtime 1x ./cmd/berth/
func BenchmarkPodStart(b *testing.B) {
	n := newE2ENode(b)
	const pods = 50
	var latencies []time.Duration
	for i := 0; i < pods; i++ {
		name := fmt.Sprintf("p%02d", i)
		start := time.Now()
		n.apply(name, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: "berth.local/hello:v1", imagePullPolicy: Never}
`, name))
		n.waitPod(name, "Running", time.Minute, func(p *corev1.Pod) bool {
			return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil
		})
		latencies = append(latencies, time.Since(start))
		if i >= 20 {
			n.remove(fmt.Sprintf("p%02d", i-20)) // keep 20 running
		}
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	b.ReportMetric(float64(latencies[pods/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(latencies[pods*99/100].Milliseconds()), "p99-ms")
	// Steady state with 20 pods: past one of the agent's 30 s releases of
	// its executable's pages (tuneAgentMemory).
	time.Sleep(35 * time.Second)
	mem := procStatusKiB(n.agent.Process.Pid)
	b.ReportMetric(float64(mem["VmRSS"])/1024, "agent-rss-MiB")
	// The split says where the memory is: the binary's pages (file) or the
	// heap and stacks (anon).
	b.ReportMetric(float64(mem["RssAnon"])/1024, "agent-anon-MiB")
	b.ReportMetric(float64(mem["RssFile"])/1024, "agent-file-MiB")
}

// procStatusKiB reads the kB figures of a process's /proc/PID/status
// (VmRSS, RssAnon, RssFile, ...).
func procStatusKiB(pid int) map[string]int {
	kib := map[string]int{}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return kib
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "kB" {
			kib[strings.TrimSuffix(f[0], ":")], _ = strconv.Atoi(f[1])
		}
	}
	return kib
}
