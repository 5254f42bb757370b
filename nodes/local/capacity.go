package local

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// HostCapacity is this machine's capacity as kubelet reports it: its CPUs
// and its memory (MemTotal), so the scheduler can fit pods' requests.
// Memory is left out when /proc/meminfo cannot be read.
func HostCapacity() corev1.ResourceList {
	rl := corev1.ResourceList{
		corev1.ResourceCPU: *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
	}
	if kib, ok := memTotalKiB(); ok {
		rl[corev1.ResourceMemory] = *resource.NewQuantity(kib*1024, resource.BinarySI)
	}
	return rl
}

func memTotalKiB() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// MemTotal:       24568212 kB
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
