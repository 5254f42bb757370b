package local

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestHostCapacity(t *testing.T) {
	rl := HostCapacity()
	cpu, mem := rl[corev1.ResourceCPU], rl[corev1.ResourceMemory]
	if cpu.Value() < 1 || mem.Value() < 64<<20 {
		t.Errorf("HostCapacity() = cpu %s, memory %s; want this machine's (at least 1 CPU, 64 MiB)", cpu.String(), mem.String())
	}
}
