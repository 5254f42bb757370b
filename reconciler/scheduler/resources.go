package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Defaults the score plugins assume for a container that requests no cpu
// or memory, as upstream's pkg/scheduler/util (DefaultMilliCPURequest,
// DefaultMemoryRequest), so that pods without requests still spread.
// They count for scoring only, never for fit.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of the resources the scheduler accounts for.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// Scalar holds every other resource (extended resources such as
	// example.com/gpu, hugepages-*); nil when there are none.
	Scalar map[corev1.ResourceName]int64
}

// NewResource converts a ResourceList; the pods count is left out.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	for name, q := range rl {
		r.set(name, q.MilliValue(), q.Value())
	}
	return r
}

// set stores one resource: milli for cpu, whole units otherwise.
func (r *Resource) set(name corev1.ResourceName, milli, value int64) {
	switch name {
	case corev1.ResourceCPU:
		r.MilliCPU = milli
	case corev1.ResourceMemory:
		r.Memory = value
	case corev1.ResourceEphemeralStorage:
		r.EphemeralStorage = value
	case corev1.ResourcePods:
	default:
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] = value
	}
}

// Add adds o to r.
func (r *Resource) Add(o Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	for name, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] += v
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	for name, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] -= v
	}
}

// setMax raises each of r's amounts to o's where o's is larger.
func (r *Resource) setMax(o Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for name, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] = max(r.Scalar[name], v)
	}
}

// IsZero reports whether r asks for nothing.
func (r Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// PodRequests returns a pod's effective request (k8s-semantics 6.5, as
// upstream's component-helpers resource.PodRequests): the larger of
//   - the sum over app containers and sidecars (restartable init
//     containers), and
//   - for each regular init container, its request plus the sidecars
//     started before it,
//
// per resource, plus spec.overhead. Pod-level requests
// (spec.resources.requests) replace the containers' cpu and memory.
func PodRequests(pod *corev1.Pod) Resource {
	var sum Resource
	for i := range pod.Spec.Containers {
		sum.Add(NewResource(pod.Spec.Containers[i].Resources.Requests))
	}
	var sidecars, initMax Resource
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		req := NewResource(c.Resources.Requests)
		if isSidecar(c) {
			sum.Add(req)
			sidecars.Add(req)
			initMax.setMax(sidecars)
			continue
		}
		req.Add(sidecars)
		initMax.setMax(req)
	}
	sum.setMax(initMax)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			sum.MilliCPU = q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			sum.Memory = q.Value()
		}
	}
	if pod.Spec.Overhead != nil {
		sum.Add(NewResource(pod.Spec.Overhead))
	}
	return sum
}

// podNonZeroRequests returns the cpu and memory a pod counts for scoring:
// as PodRequests, but each container missing a cpu or memory request
// counts DefaultMilliCPURequest / DefaultMemoryRequest (upstream's
// NonMissingContainerRequests). With pod-level requests, those count, and
// the defaults fill only what is missing there too.
func podNonZeroRequests(pod *corev1.Pod) (milliCPU, memory int64) {
	container := func(c *corev1.Container) (int64, int64) {
		cpu, mem := DefaultMilliCPURequest, DefaultMemoryRequest
		if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
			cpu = q.MilliValue()
		}
		if q, ok := c.Resources.Requests[corev1.ResourceMemory]; ok {
			mem = q.Value()
		}
		return cpu, mem
	}
	var cpu, mem int64
	for i := range pod.Spec.Containers {
		c, m := container(&pod.Spec.Containers[i])
		cpu, mem = cpu+c, mem+m
	}
	var sideCPU, sideMem, initCPU, initMem int64
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		c, m := container(ic)
		if isSidecar(ic) {
			cpu, mem = cpu+c, mem+m
			sideCPU, sideMem = sideCPU+c, sideMem+m
			initCPU, initMem = max(initCPU, sideCPU), max(initMem, sideMem)
			continue
		}
		initCPU, initMem = max(initCPU, c+sideCPU), max(initMem, m+sideMem)
	}
	cpu, mem = max(cpu, initCPU), max(mem, initMem)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			cpu = q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			mem = q.Value()
		}
	}
	if oh := pod.Spec.Overhead; oh != nil {
		cpu += oh.Cpu().MilliValue()
		mem += oh.Memory().Value()
	}
	return cpu, mem
}

// isSidecar reports whether an init container is a sidecar (restartPolicy
// Always): it keeps running next to the app containers.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
