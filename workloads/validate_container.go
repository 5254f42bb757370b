package workloads

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// containers checks spec.containers and spec.initContainers: each
// container, names unique across both lists, host ports that collide.
func (c *checks) containers(spec *corev1.PodSpec, path *field.Path, volumes map[string]bool, owner podOwner) {
	cpath, ipath := path.Child("containers"), path.Child("initContainers")
	if len(spec.Containers) == 0 {
		c.required(cpath, RuleRequired, "a pod needs at least one container")
	}
	names := map[string]bool{}
	for i := range spec.Containers {
		c.container(&spec.Containers[i], cpath.Index(i), volumes, names, spec.TerminationGracePeriodSeconds, owner, false)
	}
	for i := range spec.InitContainers {
		c.container(&spec.InitContainers[i], ipath.Index(i), volumes, names, spec.TerminationGracePeriodSeconds, owner, true)
	}
	c.hostPortConflicts(spec.Containers, cpath, 0)
	for i := range spec.InitContainers {
		// init containers run one at a time: each only against itself
		c.hostPortConflicts(spec.InitContainers[i:i+1], ipath, i)
	}
	c.podPortNames(spec.Containers, cpath)
}

// container checks one container. names collects the container names seen
// so far in the pod.
func (c *checks) container(ctr *corev1.Container, path *field.Path, volumes, names map[string]bool, grace *int64, owner podOwner, isInit bool) {
	c.uniqueName(ctr.Name, path.Child("name"), names)
	if ctr.Image == "" {
		c.required(path.Child("image"), RuleRequired, "")
	} else if owner.isPod && strings.TrimSpace(ctr.Image) != ctr.Image {
		c.invalid(path.Child("image"), RuleInvalid, ctr.Image, "must not have leading or trailing whitespace")
	}
	c.containerEnums(ctr, path, isInit)
	c.containerPorts(ctr.Ports, path.Child("ports"))
	c.env(ctr.Env, path.Child("env"))
	c.envFrom(ctr.EnvFrom, path.Child("envFrom"))
	c.volumeMounts(ctr.VolumeMounts, volumes, path.Child("volumeMounts"))
	c.resources(&ctr.Resources, path.Child("resources"))
	c.containerProbes(ctr, path, grace, isInit)
}

// containerEnums checks the enumerated fields of a container. Empty values
// are left to Default.
func (c *checks) containerEnums(ctr *corev1.Container, path *field.Path, isInit bool) {
	switch ctr.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		unsupportedValue(c, path.Child("imagePullPolicy"), RuleEnum, ctr.ImagePullPolicy,
			corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)
	}
	switch ctr.TerminationMessagePolicy {
	case "", corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	default:
		unsupportedValue(c, path.Child("terminationMessagePolicy"), RuleEnum, ctr.TerminationMessagePolicy,
			corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)
	}
	if ctr.RestartPolicy != nil && isInit && *ctr.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		unsupportedValue(c, path.Child("restartPolicy"), RuleEnum, *ctr.RestartPolicy, corev1.ContainerRestartPolicyAlways)
	}
}

// containerPorts checks a container's ports: numbers, names unique within
// the container, protocols.
func (c *checks) containerPorts(ports []corev1.ContainerPort, path *field.Path) {
	names := map[string]bool{}
	for i, p := range ports {
		pp := path.Index(i)
		if p.Name != "" {
			if msgs := validation.IsValidPortName(p.Name); len(msgs) > 0 {
				c.invalidAll(pp.Child("name"), RulePortName, p.Name, msgs)
			} else if names[p.Name] {
				c.duplicate(pp.Child("name"), RulePortName, p.Name)
			}
			names[p.Name] = true
		}
		if p.ContainerPort == 0 {
			c.required(pp.Child("containerPort"), RuleRequired, "")
		} else {
			c.invalidAll(pp.Child("containerPort"), RulePort, p.ContainerPort, validation.IsValidPortNum(int(p.ContainerPort)))
		}
		if p.HostPort != 0 {
			c.invalidAll(pp.Child("hostPort"), RulePort, p.HostPort, validation.IsValidPortNum(int(p.HostPort)))
		}
		c.protocol(p.Protocol, pp.Child("protocol"))
		if p.HostIP != "" && net.ParseIP(p.HostIP) == nil {
			c.invalid(pp.Child("hostIP"), RuleInvalid, p.HostIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
		}
	}
}

// protocol checks a port protocol; empty is left to Default (TCP).
func (c *checks) protocol(p corev1.Protocol, path *field.Path) {
	switch p {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		unsupportedValue(c, path, RuleEnum, p, corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP)
	}
}

// hostPortConflicts reports two ports of containers that run together
// claiming the same host port. first is the index of ctrs[0] in its list.
func (c *checks) hostPortConflicts(ctrs []corev1.Container, path *field.Path, first int) {
	seen := map[string]bool{}
	for i, ctr := range ctrs {
		for j, p := range ctr.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			key := fmt.Sprintf("%s/%s/%d", proto, p.HostIP, p.HostPort)
			if seen[key] {
				c.duplicate(path.Index(first+i).Child("ports").Index(j).Child("hostPort"), RulePort, key)
			}
			seen[key] = true
		}
	}
}

// podPortNames warns about a port name used by two containers of a pod:
// upstream allows it, but a Service's targetPort naming it reaches only the
// first container that declares it.
func (c *checks) podPortNames(ctrs []corev1.Container, path *field.Path) {
	owner := map[string]string{}
	for i, ctr := range ctrs {
		for j, p := range ctr.Ports {
			if p.Name == "" {
				continue
			}
			if first, ok := owner[p.Name]; ok && first != ctr.Name {
				c.warn(path.Index(i).Child("ports").Index(j).Child("name"), RulePortName,
					fmt.Sprintf("port name %q is also used by container %q; a Service targetPort %q reaches only the first", p.Name, first, p.Name))
				continue
			}
			owner[p.Name] = ctr.Name
		}
	}
}

// env checks a container's environment variables.
func (c *checks) env(vars []corev1.EnvVar, path *field.Path) {
	first := map[string]int{}
	for i, ev := range vars {
		p := path.Index(i)
		if ev.Name == "" {
			c.required(p.Child("name"), RuleRequired, "")
		} else {
			c.invalidAll(p.Child("name"), RuleInvalid, ev.Name, validation.IsRelaxedEnvVarName(ev.Name))
			if j, dup := first[ev.Name]; dup {
				c.warn(p.Child("name"), RuleUniqueName,
					fmt.Sprintf("%s is also set by env[%d]; the last definition wins", ev.Name, j))
			} else {
				first[ev.Name] = i
			}
		}
		c.envValueFrom(ev, p)
	}
}

// envValueFrom checks env[i].valueFrom: exactly one source, and not with a
// value.
func (c *checks) envValueFrom(ev corev1.EnvVar, path *field.Path) {
	from := ev.ValueFrom
	if from == nil {
		return
	}
	p := path.Child("valueFrom")
	sources := 0
	if from.FieldRef != nil {
		sources++
		c.fieldRef(from.FieldRef, p.Child("fieldRef"))
	}
	if from.ResourceFieldRef != nil {
		sources++
		c.resourceFieldRef(from.ResourceFieldRef, p.Child("resourceFieldRef"))
	}
	if ref := from.ConfigMapKeyRef; ref != nil {
		sources++
		c.keyRef(ref.Name, ref.Key, p.Child("configMapKeyRef"))
	}
	if ref := from.SecretKeyRef; ref != nil {
		sources++
		c.keyRef(ref.Name, ref.Key, p.Child("secretKeyRef"))
	}
	switch {
	case sources == 0:
		c.invalid(p, RuleInvalid, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")
	case ev.Value != "":
		c.invalid(p, RuleInvalid, "", "may not be specified when `value` is not empty")
	case sources > 1:
		c.invalid(p, RuleInvalid, "", "may not have more than one field specified at a time")
	}
}

// envFieldPaths are the pod fields an environment variable may read.
var envFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

// fieldRef checks a downward-API field reference of an env var.
func (c *checks) fieldRef(ref *corev1.ObjectFieldSelector, path *field.Path) {
	fp := ref.FieldPath
	if fp == "" {
		c.required(path.Child("fieldPath"), RuleRequired, "")
		return
	}
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		if key, ok := strings.CutPrefix(fp, prefix+"['"); ok && strings.HasSuffix(key, "']") {
			key = strings.TrimSuffix(key, "']")
			if prefix == "metadata.annotations" {
				key = strings.ToLower(key)
			}
			c.invalidAll(path.Child("fieldPath"), RuleInvalid, key, validation.IsQualifiedName(key))
			return
		}
	}
	for _, ok := range envFieldPaths {
		if fp == ok {
			return
		}
	}
	unsupportedValue(c, path.Child("fieldPath"), RuleEnum, fp, envFieldPaths...)
}

// envResourceFields are the container resources an env var may read.
var envResourceFields = []string{
	"limits.cpu", "limits.ephemeral-storage", "limits.memory",
	"requests.cpu", "requests.ephemeral-storage", "requests.memory",
}

// resourceFieldRef checks a downward-API resource reference of an env var.
func (c *checks) resourceFieldRef(ref *corev1.ResourceFieldSelector, path *field.Path) {
	r := ref.Resource
	switch {
	case r == "":
		c.required(path.Child("resource"), RuleRequired, "")
	case strings.HasPrefix(r, "limits.hugepages-"), strings.HasPrefix(r, "requests.hugepages-"):
	default:
		for _, ok := range envResourceFields {
			if r == ok {
				return
			}
		}
		unsupportedValue(c, path.Child("resource"), RuleEnum, r, envResourceFields...)
	}
}

// keyRef checks a configMapKeyRef or secretKeyRef.
func (c *checks) keyRef(name, key string, path *field.Path) {
	c.objectName(name, path.Child("name"))
	if key == "" {
		c.required(path.Child("key"), RuleRequired, "")
	} else {
		c.invalidAll(path.Child("key"), RuleInvalid, key, validation.IsConfigMapKey(key))
	}
}

// objectName checks the name of a referenced ConfigMap or Secret.
func (c *checks) objectName(name string, path *field.Path) {
	if name == "" {
		c.required(path, RuleRequired, "")
	} else {
		c.dnsSubdomain(name, path, RuleName)
	}
}

// envFrom checks a container's envFrom sources.
func (c *checks) envFrom(list []corev1.EnvFromSource, path *field.Path) {
	for i, src := range list {
		p := path.Index(i)
		if src.Prefix != "" {
			c.invalidAll(p.Child("prefix"), RuleInvalid, src.Prefix, validation.IsRelaxedEnvVarName(src.Prefix))
		}
		sources := 0
		if src.ConfigMapRef != nil {
			sources++
			c.objectName(src.ConfigMapRef.Name, p.Child("configMapRef", "name"))
		}
		if src.SecretRef != nil {
			sources++
			c.objectName(src.SecretRef.Name, p.Child("secretRef", "name"))
		}
		switch {
		case sources == 0:
			c.invalid(p, RuleInvalid, "", "must specify one of: `configMapRef` or `secretRef`")
		case sources > 1:
			c.invalid(p, RuleInvalid, "", "may not have more than one field specified at a time")
		}
	}
}

// volumeMounts checks a container's volume mounts: each names a volume of
// the pod and has its own mount path.
func (c *checks) volumeMounts(mounts []corev1.VolumeMount, volumes map[string]bool, path *field.Path) {
	paths := map[string]bool{}
	for i, m := range mounts {
		p := path.Index(i)
		switch {
		case m.Name == "":
			c.required(p.Child("name"), RuleVolumeMount, "")
		case !volumes[m.Name]:
			c.notFound(p.Child("name"), RuleVolumeMount, m.Name, "must be the name of a volume in spec.volumes")
		}
		switch {
		case m.MountPath == "":
			c.required(p.Child("mountPath"), RuleVolumeMount, "")
		case paths[m.MountPath]:
			c.invalid(p.Child("mountPath"), RuleVolumeMount, m.MountPath, "must be unique")
		case !strings.HasPrefix(m.MountPath, "/"):
			c.warn(p.Child("mountPath"), RuleVolumeMount,
				fmt.Sprintf("mountPath %q is not absolute; containers on Linux resolve it from /", m.MountPath))
		}
		paths[m.MountPath] = true
		if m.SubPath != "" {
			c.relativePath(m.SubPath, p.Child("subPath"), RuleVolumeMount)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				c.invalid(p.Child("subPathExpr"), RuleVolumeMount, m.SubPathExpr, "subPathExpr and subPath are mutually exclusive")
			}
			c.relativePath(m.SubPathExpr, p.Child("subPathExpr"), RuleVolumeMount)
		}
		if mp := m.MountPropagation; mp != nil {
			switch *mp {
			case corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional:
			default:
				unsupportedValue(c, p.Child("mountPropagation"), RuleEnum, *mp,
					corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone)
			}
		}
	}
}

// resources checks a container's requests and limits: resource names,
// quantities, and requests within limits.
func (c *checks) resources(r *corev1.ResourceRequirements, path *field.Path) {
	limits, requests := path.Child("limits"), path.Child("requests")
	computeOrMemory, hugePages := false, false
	note := func(name corev1.ResourceName) {
		computeOrMemory = computeOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
		hugePages = hugePages || isHugePages(name)
	}
	for _, name := range resourceNamesInOrder(r.Limits) {
		c.resourceQuantity(name, r.Limits[name], limits.Key(string(name)))
		note(name)
	}
	for _, name := range resourceNamesInOrder(r.Requests) {
		p := requests.Key(string(name))
		q := r.Requests[name]
		c.resourceQuantity(name, q, p)
		note(name)
		limit, hasLimit := r.Limits[name]
		switch {
		case hasLimit && !overcommitAllowed(name) && q.Cmp(limit) != 0:
			c.invalid(p, RuleRequestsLimits, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String()))
		case hasLimit && q.Cmp(limit) > 0:
			c.invalid(p, RuleRequestsLimits, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String()))
		case !hasLimit && !overcommitAllowed(name):
			c.required(limits, RuleRequestsLimits, fmt.Sprintf("Limit must be set for non overcommitable resources (%s)", name))
		}
	}
	if hugePages && !computeOrMemory {
		c.forbidden(path, RuleQuantity, "HugePages require cpu or memory")
	}
}

// resourceQuantity checks one entry of requests or limits.
func (c *checks) resourceQuantity(name corev1.ResourceName, q resource.Quantity, path *field.Path) {
	c.containerResourceName(name, path)
	if q.Sign() < 0 {
		c.invalid(path, RuleQuantity, q.String(), "must be greater than or equal to 0")
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		c.invalid(path, RuleQuantity, q.String(), "must be an integer")
	}
}

// containerResourceName is upstream's validateContainerResourceName: an
// unprefixed name must be cpu, memory, ephemeral-storage or hugepages-*;
// a prefixed one must be a valid extended resource.
func (c *checks) containerResourceName(name corev1.ResourceName, path *field.Path) {
	s := string(name)
	if msgs := validation.IsQualifiedName(s); len(msgs) > 0 {
		c.invalidAll(path, RuleQuantity, s, msgs)
		return
	}
	switch {
	case !strings.Contains(s, "/"):
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage && !isHugePages(name) {
			c.invalid(path, RuleQuantity, s, "must be a standard resource for containers")
		}
	case !isNativeResource(name) && !isExtendedResource(name):
		c.invalid(path, RuleQuantity, s, "doesn't follow extended resource name standard")
	}
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isNativeResource: unprefixed, or prefixed with kubernetes.io/.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResource: a prefixed, non-native name (example.com/gpu) that
// also makes a valid quota name (requests.example.com/gpu).
func isExtendedResource(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// overcommitAllowed: requests may be below limits, except for huge pages
// and extended resources, which must be equal.
func overcommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePages(name)
}

func resourceNamesInOrder(l corev1.ResourceList) []corev1.ResourceName {
	m := make(map[string]bool, len(l))
	for k := range l {
		m[string(k)] = true
	}
	keys := keysInOrder(m)
	out := make([]corev1.ResourceName, len(keys))
	for i, k := range keys {
		out[i] = corev1.ResourceName(k)
	}
	return out
}

// containerProbes checks probes and lifecycle hooks. An init container may
// have them only as a sidecar (restartPolicy: Always).
func (c *checks) containerProbes(ctr *corev1.Container, path *field.Path, grace *int64, isInit bool) {
	sidecar := ctr.RestartPolicy != nil && *ctr.RestartPolicy == corev1.ContainerRestartPolicyAlways
	if isInit && !sidecar {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"lifecycle", ctr.Lifecycle != nil},
			{"livenessProbe", ctr.LivenessProbe != nil},
			{"readinessProbe", ctr.ReadinessProbe != nil},
			{"startupProbe", ctr.StartupProbe != nil},
		} {
			if f.set {
				c.forbidden(path.Child(f.name), RuleInvalid, "may not be set for init containers without restartPolicy=Always")
			}
		}
		return
	}
	ports := map[string]bool{}
	for _, p := range ctr.Ports {
		if p.Name != "" {
			ports[p.Name] = true
		}
	}
	c.probe(ctr.LivenessProbe, path.Child("livenessProbe"), ports, grace, true)
	c.probe(ctr.ReadinessProbe, path.Child("readinessProbe"), ports, grace, false)
	c.probe(ctr.StartupProbe, path.Child("startupProbe"), ports, grace, true)
	if lc := ctr.Lifecycle; lc != nil {
		if lc.PostStart != nil {
			c.handler(lifecycleHandler(lc.PostStart), path.Child("lifecycle", "postStart"), ports, grace)
		}
		if lc.PreStop != nil {
			c.handler(lifecycleHandler(lc.PreStop), path.Child("lifecycle", "preStop"), ports, grace)
		}
	}
}

// probe checks one probe. oneSuccess is set for liveness and startup
// probes, whose successThreshold must be 1.
func (c *checks) probe(p *corev1.Probe, path *field.Path, ports map[string]bool, grace *int64, oneSuccess bool) {
	if p == nil {
		return
	}
	c.handler(probeHandler(&p.ProbeHandler), path, ports, grace)
	c.nonNegative(int64(p.InitialDelaySeconds), path.Child("initialDelaySeconds"))
	c.nonNegative(int64(p.TimeoutSeconds), path.Child("timeoutSeconds"))
	c.nonNegative(int64(p.PeriodSeconds), path.Child("periodSeconds"))
	c.nonNegative(int64(p.SuccessThreshold), path.Child("successThreshold"))
	c.nonNegative(int64(p.FailureThreshold), path.Child("failureThreshold"))
	// 0 is defaulted to 1
	if oneSuccess && p.SuccessThreshold > 1 {
		c.invalid(path.Child("successThreshold"), RuleInvalid, p.SuccessThreshold, "must be 1")
	}
	if g := p.TerminationGracePeriodSeconds; g != nil {
		switch {
		case !oneSuccess:
			c.invalid(path.Child("terminationGracePeriodSeconds"), RuleInvalid, *g, "must not be set for readinessProbes")
		case *g <= 0:
			c.invalid(path.Child("terminationGracePeriodSeconds"), RuleInvalid, *g, "must be greater than 0")
		}
	}
}

// handlerAction is the union shared by probes and lifecycle hooks.
type handlerAction struct {
	exec      *corev1.ExecAction
	httpGet   *corev1.HTTPGetAction
	tcpSocket *corev1.TCPSocketAction
	grpc      *corev1.GRPCAction
	sleep     *corev1.SleepAction
}

func probeHandler(h *corev1.ProbeHandler) handlerAction {
	return handlerAction{exec: h.Exec, httpGet: h.HTTPGet, tcpSocket: h.TCPSocket, grpc: h.GRPC}
}

func lifecycleHandler(h *corev1.LifecycleHandler) handlerAction {
	return handlerAction{exec: h.Exec, httpGet: h.HTTPGet, tcpSocket: h.TCPSocket, sleep: h.Sleep}
}

// handler checks that a probe or hook has exactly one action, and that
// action.
func (c *checks) handler(h handlerAction, path *field.Path, ports map[string]bool, grace *int64) {
	actions := []struct {
		name  string
		set   bool
		check func(*field.Path)
	}{
		{"exec", h.exec != nil, func(p *field.Path) {
			if len(h.exec.Command) == 0 {
				c.required(p.Child("command"), RuleRequired, "")
			}
		}},
		{"httpGet", h.httpGet != nil, func(p *field.Path) { c.httpGet(h.httpGet, p, ports) }},
		{"tcpSocket", h.tcpSocket != nil, func(p *field.Path) { c.portNumOrName(h.tcpSocket.Port, p.Child("port"), ports) }},
		{"grpc", h.grpc != nil, func(p *field.Path) { c.portNumOrName(intstr.FromInt32(h.grpc.Port), p.Child("port"), nil) }},
		{"sleep", h.sleep != nil, func(p *field.Path) { c.sleepAction(h.sleep, p, grace) }},
	}
	n := 0
	for _, a := range actions {
		if !a.set {
			continue
		}
		if n++; n > 1 {
			c.forbidden(path.Child(a.name), RuleProbeHandler, "may not specify more than 1 handler type")
			continue
		}
		a.check(path.Child(a.name))
	}
	if n == 0 {
		c.required(path, RuleProbeHandler, "must specify a handler type")
	}
}

// httpGet checks an HTTP probe or hook. An empty path and scheme are left
// to Default ("/", HTTP).
func (c *checks) httpGet(h *corev1.HTTPGetAction, path *field.Path, ports map[string]bool) {
	c.portNumOrName(h.Port, path.Child("port"), ports)
	switch h.Scheme {
	case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
	default:
		unsupportedValue(c, path.Child("scheme"), RuleEnum, h.Scheme, corev1.URISchemeHTTP, corev1.URISchemeHTTPS)
	}
	for i, hdr := range h.HTTPHeaders {
		c.invalidAll(path.Child("httpHeaders").Index(i).Child("name"), RuleInvalid, hdr.Name, validation.IsHTTPHeaderName(hdr.Name))
	}
}

// portNumOrName checks a port given as a number or as the name of a port
// of the container (ports; nil when there is no container to look in).
func (c *checks) portNumOrName(port intstr.IntOrString, path *field.Path, ports map[string]bool) {
	if port.Type == intstr.Int {
		if port.IntVal == 0 {
			c.required(path, RuleRequired, "")
			return
		}
		c.invalidAll(path, RulePort, port.IntVal, validation.IsValidPortNum(int(port.IntVal)))
		return
	}
	if msgs := validation.IsValidPortName(port.StrVal); len(msgs) > 0 {
		c.invalidAll(path, RulePortName, port.StrVal, msgs)
		return
	}
	if ports != nil && !ports[port.StrVal] {
		c.warn(path, RulePortName, fmt.Sprintf("the container has no port named %q; the check will fail", port.StrVal))
	}
}

// sleepAction checks a sleep hook: it must end within the grace period.
func (c *checks) sleepAction(s *corev1.SleepAction, path *field.Path, grace *int64) {
	g := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if grace != nil {
		g = *grace
	}
	if s.Seconds < 0 || s.Seconds > g {
		c.invalid(path.Child("seconds"), RuleInvalid, s.Seconds,
			fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", g))
	}
}
