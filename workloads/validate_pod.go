package workloads

import (
	"math"
	"net"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podOwner is what a pod spec belongs to: a Pod, or the template of a
// controller. The few rules that differ by owner read it.
type podOwner struct {
	// restartPolicies are the pod restart policies the owner accepts.
	restartPolicies []corev1.RestartPolicy
	// isPod is set for a Pod itself, not a template.
	isPod bool
	// claimVolumes are volume names a StatefulSet's volumeClaimTemplates
	// add to each pod.
	claimVolumes []string
}

var (
	anyRestartPolicy = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	jobRestartPolicy = []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}
	// alwaysRestart is for controllers that keep their pods running.
	alwaysRestart = []corev1.RestartPolicy{corev1.RestartPolicyAlways}
)

// controllerPods is the owner of the pods of a Deployment, ReplicaSet,
// DaemonSet or StatefulSet.
var controllerPods = podOwner{restartPolicies: alwaysRestart}

// jobPods is the owner of the pods of a Job or of a CronJob's jobs.
var jobPods = podOwner{restartPolicies: jobRestartPolicy}

// pod checks a Pod.
func (c *checks) pod(p *corev1.Pod) {
	c.objectMeta(&p.ObjectMeta, subdomainName)
	c.podSpec(&p.Spec, field.NewPath("spec"), podOwner{restartPolicies: anyRestartPolicy, isPod: true})
}

// podTemplate checks the pod template of a controller.
func (c *checks) podTemplate(t *corev1.PodTemplateSpec, path *field.Path, owner podOwner) {
	c.templateMeta(&t.ObjectMeta, path.Child("metadata"))
	c.podSpec(&t.Spec, path.Child("spec"), owner)
}

// noActiveDeadline reports spec.activeDeadlineSeconds in the template of a
// controller whose pods run until replaced: upstream forbids it there.
func (c *checks) noActiveDeadline(t *corev1.PodTemplateSpec, path *field.Path, kind string) {
	if t.Spec.ActiveDeadlineSeconds != nil {
		c.forbidden(path.Child("spec", "activeDeadlineSeconds"), RuleInvalid, "activeDeadlineSeconds in "+kind+" is not Supported")
	}
}

// podSpec checks a pod spec, at path (spec, spec.template.spec,
// spec.jobTemplate.spec.template.spec).
func (c *checks) podSpec(spec *corev1.PodSpec, path *field.Path, owner podOwner) {
	volumes := c.volumes(spec.Volumes, path.Child("volumes"), owner)
	c.containers(spec, path, volumes, owner)
	c.restartPolicy(spec.RestartPolicy, path.Child("restartPolicy"), owner)
	c.podDeadlines(spec, path)
	c.dnsPolicy(spec, path)
	c.labelMap(spec.NodeSelector, path.Child("nodeSelector"), RuleSelector)
	c.affinity(spec.Affinity, path.Child("affinity"))
	c.tolerations(spec.Tolerations, path.Child("tolerations"))
	c.topologySpread(spec.TopologySpreadConstraints, path.Child("topologySpreadConstraints"))
	c.podNames(spec, path)
	c.hostNetworkPorts(spec, path)
}

// restartPolicy checks spec.restartPolicy against what the owner allows.
// Defaulting turns an absent policy into Always, which a Job rejects:
// upstream then asks for one of the policies it accepts.
func (c *checks) restartPolicy(policy corev1.RestartPolicy, path *field.Path, owner podOwner) {
	if policy == "" {
		policy = corev1.RestartPolicyAlways // what Default sets
	}
	switch {
	case slices.Contains(owner.restartPolicies, policy):
	case policy == corev1.RestartPolicyAlways:
		quoted := make([]string, len(owner.restartPolicies))
		for i, p := range owner.restartPolicies {
			quoted[i] = strconv.Quote(string(p))
		}
		c.required(path, RuleEnum, "valid values: "+strings.Join(quoted, ", ")+" (not Always, the default)")
	default:
		unsupportedValue(c, path, RuleEnum, policy, owner.restartPolicies...)
	}
}

// podDeadlines checks terminationGracePeriodSeconds and
// activeDeadlineSeconds.
func (c *checks) podDeadlines(spec *corev1.PodSpec, path *field.Path) {
	nonNegativeOptional(c, spec.TerminationGracePeriodSeconds, path.Child("terminationGracePeriodSeconds"))
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		rule := RuleInvalid
		if *d < 0 {
			rule = RuleNonNegative
		}
		c.invalid(path.Child("activeDeadlineSeconds"), rule, *d, "must be between 1 and 2147483647, inclusive")
	}
}

// dnsPolicy checks spec.dnsPolicy and, for None, spec.dnsConfig.
func (c *checks) dnsPolicy(spec *corev1.PodSpec, path *field.Path) {
	switch spec.DNSPolicy {
	case "", corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault:
	case corev1.DNSNone:
		switch {
		case spec.DNSConfig == nil:
			c.required(path.Child("dnsConfig"), RuleRequired, "must provide `dnsConfig` when `dnsPolicy` is None")
		case len(spec.DNSConfig.Nameservers) == 0:
			c.required(path.Child("dnsConfig", "nameservers"), RuleRequired, "must provide at least one DNS nameserver when `dnsPolicy` is None")
		}
	default:
		unsupportedValue(c, path.Child("dnsPolicy"), RuleEnum, spec.DNSPolicy,
			corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)
	}
	if spec.DNSConfig == nil {
		return
	}
	ns := path.Child("dnsConfig", "nameservers")
	if len(spec.DNSConfig.Nameservers) > 3 {
		c.invalid(ns, RuleInvalid, spec.DNSConfig.Nameservers, "must not have more than 3 nameservers")
	}
	for i, ip := range spec.DNSConfig.Nameservers {
		if net.ParseIP(ip) == nil {
			c.invalid(ns.Index(i), RuleInvalid, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
		}
	}
}

// podNames checks the fields of a pod spec that name things.
func (c *checks) podNames(spec *corev1.PodSpec, path *field.Path) {
	if spec.Hostname != "" {
		c.dnsLabel(spec.Hostname, path.Child("hostname"), RuleName)
	}
	if spec.Subdomain != "" {
		c.dnsLabel(spec.Subdomain, path.Child("subdomain"), RuleName)
	}
	if spec.ServiceAccountName != "" {
		c.dnsSubdomain(spec.ServiceAccountName, path.Child("serviceAccountName"), RuleName)
	}
	if spec.NodeName != "" {
		c.dnsSubdomain(spec.NodeName, path.Child("nodeName"), RuleName)
	}
	if spec.PriorityClassName != "" {
		c.dnsSubdomain(spec.PriorityClassName, path.Child("priorityClassName"), RuleName)
	}
}

// hostNetworkPorts: a pod on the host network listens on the node's ports,
// so a hostPort must equal its containerPort.
func (c *checks) hostNetworkPorts(spec *corev1.PodSpec, path *field.Path) {
	if !spec.HostNetwork {
		return
	}
	for i, ctr := range spec.Containers {
		for j, p := range ctr.Ports {
			if p.HostPort != 0 && p.HostPort != p.ContainerPort {
				c.invalid(path.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"),
					RulePort, p.HostPort, "must match `containerPort` when `hostNetwork` is true")
			}
		}
	}
}

// volumes checks spec.volumes and returns the names a volume mount may
// use: the declared volumes and, for a StatefulSet, its claim templates.
func (c *checks) volumes(vols []corev1.Volume, path *field.Path, owner podOwner) map[string]bool {
	declared := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		p := path.Index(i)
		c.uniqueName(v.Name, p.Child("name"), declared)
		c.volumeSource(&v.VolumeSource, p)
	}
	for _, name := range owner.claimVolumes {
		declared[name] = true
	}
	return declared
}

// volumeSource checks that a volume has one source (none means emptyDir)
// and the fields of the common ones.
func (c *checks) volumeSource(src *corev1.VolumeSource, path *field.Path) {
	c.oneOf(src, path, "may not specify more than 1 volume type")
	switch {
	case src.ConfigMap != nil:
		p := path.Child("configMap")
		if src.ConfigMap.Name == "" {
			c.required(p.Child("name"), RuleRequired, "")
		}
		c.keyToPaths(src.ConfigMap.Items, p.Child("items"))
		c.fileMode(src.ConfigMap.DefaultMode, p.Child("defaultMode"))
	case src.Secret != nil:
		p := path.Child("secret")
		if src.Secret.SecretName == "" {
			c.required(p.Child("secretName"), RuleRequired, "")
		}
		c.keyToPaths(src.Secret.Items, p.Child("items"))
		c.fileMode(src.Secret.DefaultMode, p.Child("defaultMode"))
	case src.Projected != nil:
		c.projected(src.Projected, path.Child("projected"))
	case src.HostPath != nil:
		c.hostPath(src.HostPath, path.Child("hostPath"))
	case src.EmptyDir != nil:
		if q := src.EmptyDir.SizeLimit; q != nil && q.Sign() < 0 {
			c.invalid(path.Child("emptyDir", "sizeLimit"), RuleQuantity, q.String(), "must be greater than or equal to 0")
		}
	case src.PersistentVolumeClaim != nil:
		if src.PersistentVolumeClaim.ClaimName == "" {
			c.required(path.Child("persistentVolumeClaim", "claimName"), RuleRequired, "")
		}
	}
}

// oneOf reports a union (a volume source, a projection) with more than one
// member set, on the second member, as upstream does.
func (c *checks) oneOf(union any, path *field.Path, detail string) {
	v := reflect.ValueOf(union).Elem()
	set := 0
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		if set++; set == 2 {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			c.forbidden(path.Child(name), RuleInvalid, detail)
		}
	}
}

// projected checks a projected volume's sources.
func (c *checks) projected(p *corev1.ProjectedVolumeSource, path *field.Path) {
	c.fileMode(p.DefaultMode, path.Child("defaultMode"))
	for i := range p.Sources {
		src := &p.Sources[i]
		sp := path.Child("sources").Index(i)
		c.oneOf(src, sp, "may not specify more than 1 volume type per source")
		if src.ConfigMap != nil {
			if src.ConfigMap.Name == "" {
				c.required(sp.Child("configMap", "name"), RuleRequired, "")
			}
			c.keyToPaths(src.ConfigMap.Items, sp.Child("configMap", "items"))
		}
		if src.Secret != nil {
			if src.Secret.Name == "" {
				c.required(sp.Child("secret", "name"), RuleRequired, "")
			}
			c.keyToPaths(src.Secret.Items, sp.Child("secret", "items"))
		}
	}
}

// hostPath checks a hostPath volume.
func (c *checks) hostPath(h *corev1.HostPathVolumeSource, path *field.Path) {
	if h.Path == "" {
		c.required(path.Child("path"), RuleRequired, "")
	}
	if h.Type == nil {
		return
	}
	switch *h.Type {
	case corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
		corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
	default:
		unsupportedValue(c, path.Child("type"), RuleEnum, *h.Type,
			corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
			corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)
	}
}

// keyToPaths checks the items of a configMap or secret volume: which keys
// go to which files.
func (c *checks) keyToPaths(items []corev1.KeyToPath, path *field.Path) {
	for i, it := range items {
		p := path.Index(i)
		if it.Key == "" {
			c.required(p.Child("key"), RuleRequired, "")
		}
		if it.Path == "" {
			c.required(p.Child("path"), RuleRequired, "")
		} else {
			c.relativePath(it.Path, p.Child("path"), RuleInvalid)
		}
		c.fileMode(it.Mode, p.Child("mode"))
	}
}

// relativePath checks a path that must stay inside a volume (an item path,
// a subPath): relative, without '..' (upstream's validateLocalDescendingPath).
func (c *checks) relativePath(p string, fp *field.Path, rule string) {
	if path.IsAbs(p) {
		c.invalid(fp, rule, p, "must be a relative path")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			c.invalid(fp, rule, p, "must not contain '..'")
			return
		}
	}
}

// fileMode checks a file permission: 0 to 0777.
func (c *checks) fileMode(mode *int32, path *field.Path) {
	if mode != nil && (*mode < 0 || *mode > 0777) {
		c.invalid(path, RuleInvalid, *mode, "must be a number between 0 and 0777 (octal), both inclusive")
	}
}
