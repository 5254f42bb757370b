package workloads

import (
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// DefaultPodSpec applies the defaults Kubernetes gives every pod spec,
// wherever it is embedded (a Pod, or the template of a Deployment, Job, ...):
// SetDefaults_PodSpec and the defaults of the containers, probes, ports,
// volumes and resource quantities inside it.
//
// It does not apply the Pod-only defaults (enableServiceLinks, requests
// copied from limits, hostPorts under hostNetwork, pod-level requests):
// upstream keeps those out of templates, so they never change a
// pod-template-hash. A controller creating a Pod from a template should call
// Default on the Pod, which applies both.
func DefaultPodSpec(spec *corev1.PodSpec) {
	if spec.DNSPolicy == "" {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = new(int64(corev1.DefaultTerminationGracePeriodSeconds))
	}
	if spec.SchedulerName == "" {
		spec.SchedulerName = corev1.DefaultSchedulerName
	}
	for i := range spec.Volumes {
		defaultVolume(&spec.Volumes[i])
	}
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		defaultContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	roundResourceList(spec.Overhead)
	if spec.Resources != nil {
		roundResourceList(spec.Resources.Limits)
		roundResourceList(spec.Resources.Requests)
	}
}

func defaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	DefaultPodSpec(&t.Spec)
}

// defaultPod is SetObjectDefaults_Pod: SetDefaults_Pod, then the pod spec's.
func defaultPod(p *corev1.Pod) {
	s := &p.Spec
	for i := range s.Containers {
		defaultRequestsFromLimits(&s.Containers[i].Resources)
	}
	for i := range s.InitContainers {
		defaultRequestsFromLimits(&s.InitContainers[i].Resources)
	}
	// Pod-level values must come after the container-level ones above.
	defaultPodHugePageLimits(s)
	defaultPodRequests(s)
	if s.EnableServiceLinks == nil {
		s.EnableServiceLinks = new(corev1.DefaultEnableServiceLinks)
	}
	if s.HostNetwork {
		defaultHostNetworkPorts(s.Containers)
		defaultHostNetworkPorts(s.InitContainers)
	}
	DefaultPodSpec(s)
}

// defaultRequestsFromLimits makes a request default to its limit. Note the
// test is limits != nil: an explicit empty limits map yields an empty
// requests map.
func defaultRequestsFromLimits(r *corev1.ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	for name, q := range r.Limits {
		if _, ok := r.Requests[name]; !ok {
			r.Requests[name] = q.DeepCopy()
		}
	}
}

// defaultHostNetworkPorts: on the host network a container port is a host
// port, and upstream records it as one.
func defaultHostNetworkPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			if p := &containers[i].Ports[j]; p.HostPort == 0 {
				p.HostPort = p.ContainerPort
			}
		}
	}
}

// --- containers ---

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = pullPolicyFor(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil {
			defaultFieldSelector(vf.FieldRef)
			if vf.FileKeyRef != nil && vf.FileKeyRef.Optional == nil {
				vf.FileKeyRef.Optional = new(false)
			}
		}
	}
	roundResourceList(c.Resources.Limits)
	roundResourceList(c.Resources.Requests)
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	if c.Lifecycle != nil {
		if c.Lifecycle.PostStart != nil {
			defaultHTTPGet(c.Lifecycle.PostStart.HTTPGet)
		}
		if c.Lifecycle.PreStop != nil {
			defaultHTTPGet(c.Lifecycle.PreStop.HTTPGet)
		}
	}
}

// pullPolicyFor is upstream's rule: Always for ":latest" (which an image
// with neither tag nor digest implicitly is), IfNotPresent otherwise,
// including for a reference that does not parse.
func pullPolicyFor(image string) corev1.PullPolicy {
	if imageTag(image) == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		p.GRPC.Service = new("")
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func defaultFieldSelector(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

// roundResourceList rounds every quantity up to milli precision, as
// upstream does for API compatibility ("0.0001" CPU is stored as "1m").
func roundResourceList(l corev1.ResourceList) {
	for name, q := range l {
		q.RoundUp(resource.Milli)
		l[name] = q
	}
}

// --- volumes ---

func defaultVolume(v *corev1.Volume) {
	vs := &v.VolumeSource
	if noVolumeSource(vs) {
		vs.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if vs.Image != nil && vs.Image.PullPolicy == "" {
		vs.Image.PullPolicy = pullPolicyFor(vs.Image.Reference)
	}
	if vs.HostPath != nil && vs.HostPath.Type == nil {
		vs.HostPath.Type = new(corev1.HostPathUnset)
	}
	if vs.Secret != nil && vs.Secret.DefaultMode == nil {
		vs.Secret.DefaultMode = new(corev1.SecretVolumeSourceDefaultMode)
	}
	if vs.ConfigMap != nil && vs.ConfigMap.DefaultMode == nil {
		vs.ConfigMap.DefaultMode = new(corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if d := vs.DownwardAPI; d != nil {
		if d.DefaultMode == nil {
			d.DefaultMode = new(corev1.DownwardAPIVolumeSourceDefaultMode)
		}
		for i := range d.Items {
			defaultFieldSelector(d.Items[i].FieldRef)
		}
	}
	if p := vs.Projected; p != nil {
		if p.DefaultMode == nil {
			p.DefaultMode = new(corev1.ProjectedVolumeSourceDefaultMode)
		}
		for i := range p.Sources {
			src := &p.Sources[i]
			if src.DownwardAPI != nil {
				for k := range src.DownwardAPI.Items {
					defaultFieldSelector(src.DownwardAPI.Items[k].FieldRef)
				}
			}
			if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				t.ExpirationSeconds = new(int64(time.Hour / time.Second))
			}
		}
	}
	if e := vs.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		defaultPVCSpec(&e.VolumeClaimTemplate.Spec)
	}
	// The in-tree plugins Kubernetes still defaults, though berth serves none
	// of them: kept so that a template using one hashes as upstream's does.
	if s := vs.ISCSI; s != nil && s.ISCSIInterface == "" {
		s.ISCSIInterface = "default"
	}
	if s := vs.RBD; s != nil {
		if s.RBDPool == "" {
			s.RBDPool = "rbd"
		}
		if s.RadosUser == "" {
			s.RadosUser = "admin"
		}
		if s.Keyring == "" {
			s.Keyring = "/etc/ceph/keyring"
		}
	}
	if s := vs.AzureDisk; s != nil {
		if s.CachingMode == nil {
			s.CachingMode = new(corev1.AzureDataDiskCachingReadWrite)
		}
		if s.Kind == nil {
			s.Kind = new(corev1.AzureSharedBlobDisk)
		}
		if s.FSType == nil {
			s.FSType = new("ext4")
		}
		if s.ReadOnly == nil {
			s.ReadOnly = new(false)
		}
	}
	if s := vs.ScaleIO; s != nil {
		if s.StorageMode == "" {
			s.StorageMode = "ThinProvisioned"
		}
		if s.FSType == "" {
			s.FSType = "xfs"
		}
	}
}

// noVolumeSource reports whether no source is set at all; upstream then
// makes the volume an emptyDir. Every field of VolumeSource is a pointer,
// and reflection keeps this right when Kubernetes adds a volume type.
func noVolumeSource(vs *corev1.VolumeSource) bool {
	v := reflect.ValueOf(vs).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			return false
		}
	}
	return true
}

// --- pod-level resources (PodLevelResources, on by default) ---

// defaultPodHugePageLimits: once spec.resources is in use, a pod-level
// hugepages limit defaults to the sum the containers ask for, unless the
// pod asks for that hugepage size itself.
func defaultPodHugePageLimits(s *corev1.PodSpec) {
	r := s.Resources
	if r == nil || (len(r.Limits) == 0 && len(r.Requests) == 0) {
		return
	}
	limits := r.Limits
	if limits == nil {
		limits = corev1.ResourceList{}
	}
	for name, q := range aggregateContainerResources(s, func(c corev1.ResourceRequirements) corev1.ResourceList { return c.Limits }) {
		if !isPodLevelResourceName(name) || !isHugePagesResource(name) {
			continue
		}
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if _, ok := limits[name]; !ok {
			limits[name] = q.DeepCopy()
		}
	}
	if len(limits) > 0 {
		r.Limits = limits
	}
}

// defaultPodRequests: with pod-level limits set, a missing pod-level
// request defaults to what the containers request (for cpu and memory, the
// resources that can be overcommitted), else to the pod-level limit.
func defaultPodRequests(s *corev1.PodSpec) {
	r := s.Resources
	if r == nil || len(r.Limits) == 0 {
		return
	}
	requests := r.Requests
	if requests == nil {
		requests = corev1.ResourceList{}
	}
	for name, q := range aggregateContainerResources(s, func(c corev1.ResourceRequirements) corev1.ResourceList { return c.Requests }) {
		if _, ok := requests[name]; !ok && isPodLevelResourceName(name) && !isHugePagesResource(name) && isNativeResourceName(name) {
			requests[name] = q.DeepCopy()
		}
	}
	for name, q := range r.Limits {
		if _, ok := requests[name]; !ok && isPodLevelResourceName(name) {
			requests[name] = q.DeepCopy()
		}
	}
	if len(requests) > 0 {
		r.Requests = requests
	}
}

// aggregateContainerResources is what the pod as a whole needs of the list
// pick selects: the sum over the containers and sidecars (restartable init
// containers), or the most any one init container needs while it runs
// next to the sidecars started before it, whichever is larger.
func aggregateContainerResources(s *corev1.PodSpec, pick func(corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for i := range s.Containers {
		addResourceQuantities(total, pick(s.Containers[i].Resources))
	}
	sidecars := corev1.ResourceList{}
	initPeak := corev1.ResourceList{}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		running := corev1.ResourceList{}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addResourceQuantities(total, pick(c.Resources))
			addResourceQuantities(sidecars, pick(c.Resources))
			addResourceQuantities(running, sidecars)
		} else {
			addResourceQuantities(running, pick(c.Resources))
			addResourceQuantities(running, sidecars)
		}
		maxResourceQuantities(initPeak, running)
	}
	maxResourceQuantities(total, initPeak)
	return total
}

func addResourceQuantities(dst, src corev1.ResourceList) {
	for name, q := range src {
		if have, ok := dst[name]; ok {
			sum := have.DeepCopy()
			sum.Add(q)
			dst[name] = sum
		} else {
			dst[name] = q.DeepCopy()
		}
	}
}

func maxResourceQuantities(dst, src corev1.ResourceList) {
	for name, q := range src {
		if have, ok := dst[name]; !ok || q.Cmp(have) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}

func isPodLevelResourceName(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || isHugePagesResource(name)
}

func isHugePagesResource(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isNativeResourceName: a resource name without a domain, or in kubernetes.io.
func isNativeResourceName(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.HasPrefix(string(name), corev1.ResourceDefaultNamespacePrefix)
}
