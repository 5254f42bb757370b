package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/rollouts"
	"github.com/berth-io/berth/sources"
)

// Related is what `describe` shows beside the object itself; the caller
// fetches it.
type Related struct {
	// Events are the object's events (involvedObject is the object); nil
	// prints "Events: <none>".
	Events []corev1.Event
	// ReplicaSets are a Deployment's (its old and new ones).
	ReplicaSets []*appsv1.ReplicaSet
	// Pods are a ReplicaSet's pods, or the pods bound to a Node.
	Pods []*corev1.Pod
	// Sources give a sourced object's sync status and health.
	Sources *SourceIndex
	// Now is the time ages are measured to.
	Now time.Time
}

// Describe writes kubectl's `describe` of obj: dedicated layouts for
// pods, deployments, replica sets, nodes and sources, a generic one
// (metadata, then spec and status as YAML) for the rest, and the events
// last.
func Describe(w io.Writer, obj store.Object, rel Related) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	d := &describer{w: tw, now: rel.Now}
	switch x := obj.(type) {
	case *corev1.Pod:
		d.pod(x)
	case *appsv1.Deployment:
		d.deployment(x, rel)
	case *appsv1.ReplicaSet:
		d.replicaSet(x, rel)
	case *corev1.Node:
		d.node(x, rel)
	case *sources.Resource:
		d.source(x)
	default:
		if err := d.generic(obj); err != nil {
			return err
		}
	}
	if _, isSource := obj.(*sources.Resource); !isSource && rel.Sources != nil {
		d.gitOps(obj, rel.Sources)
	}
	d.events(rel.Events)
	return tw.Flush()
}

// describer writes indented "Key:\tvalue" lines (two spaces a level),
// kubectl's PrefixWriter.
type describer struct {
	w   io.Writer
	now time.Time
}

func (d *describer) line(level int, format string, args ...any) {
	fmt.Fprintf(d.w, strings.Repeat("  ", level)+format+"\n", args...)
}

func (d *describer) timestamp(t metav1.Time) string { return t.Time.Format(time.RFC1123Z) }

func (d *describer) labels(title string, m map[string]string) {
	d.keyValues(0, title, m, "=")
}

func (d *describer) annotations(level int, title string, m map[string]string) {
	filtered := make(map[string]string, len(m))
	for k, v := range m {
		// kubectl hides the last-applied configuration; so does berth.
		if k == gitops.AnnotationLastApplied || k == corev1.LastAppliedConfigAnnotation {
			continue
		}
		filtered[k] = strings.TrimSuffix(v, "\n")
	}
	d.keyValues(level, title, filtered, ": ")
}

func (d *describer) keyValues(level int, title string, m map[string]string, sep string) {
	indent := strings.Repeat("  ", level)
	if len(m) == 0 {
		fmt.Fprintf(d.w, "%s%s:\t<none>\n", indent, title)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			fmt.Fprintf(d.w, "%s%s:\t%s%s%s\n", indent, title, k, sep, m[k])
		} else {
			fmt.Fprintf(d.w, "%s\t%s%s%s\n", indent, k, sep, m[k])
		}
	}
}

func controlledBy(m metav1.Object) string {
	if ref := metav1.GetControllerOf(m); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return ""
}

func (d *describer) pod(p *corev1.Pod) {
	d.line(0, "Name:\t%s", p.Name)
	d.line(0, "Namespace:\t%s", p.Namespace)
	if p.Spec.NodeName == "" {
		d.line(0, "Node:\t<none>")
	} else {
		d.line(0, "Node:\t%s/%s", p.Spec.NodeName, p.Status.HostIP)
	}
	if p.Status.StartTime != nil {
		d.line(0, "Start Time:\t%s", d.timestamp(*p.Status.StartTime))
	}
	d.labels("Labels", p.Labels)
	d.annotations(0, "Annotations", p.Annotations)
	if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
		d.line(0, "Status:\tTerminating (lasts %s)", Age(p.DeletionTimestamp.Time, d.now))
		if p.DeletionGracePeriodSeconds != nil {
			d.line(0, "Termination Grace Period:\t%ds", *p.DeletionGracePeriodSeconds)
		}
	} else {
		d.line(0, "Status:\t%s", p.Status.Phase)
	}
	if p.Status.Reason != "" {
		d.line(0, "Reason:\t%s", p.Status.Reason)
	}
	if p.Status.Message != "" {
		d.line(0, "Message:\t%s", p.Status.Message)
	}
	d.line(0, "IP:\t%s", p.Status.PodIP)
	if len(p.Status.PodIPs) == 0 {
		d.line(0, "IPs:\t<none>")
	} else {
		d.line(0, "IPs:")
		for _, ip := range p.Status.PodIPs {
			d.line(1, "IP:\t%s", ip.IP)
		}
	}
	if c := controlledBy(p); c != "" {
		d.line(0, "Controlled By:\t%s", c)
	}
	if len(p.Spec.InitContainers) > 0 {
		d.containers("Init Containers", 0, p.Spec.InitContainers, p.Status.InitContainerStatuses)
	}
	d.containers("Containers", 0, p.Spec.Containers, p.Status.ContainerStatuses)
	if len(p.Status.Conditions) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus")
		for _, c := range p.Status.Conditions {
			d.line(1, "%v \t%v ", c.Type, c.Status)
		}
	}
	d.volumes(0, p.Spec.Volumes)
	d.keyValues(0, "Node-Selectors", p.Spec.NodeSelector, "=")
	d.tolerations(p.Spec.Tolerations)
}

func (d *describer) containers(title string, level int, cs []corev1.Container, statuses []corev1.ContainerStatus) {
	if len(cs) == 0 {
		d.line(level, "%s: <none>", title)
		return
	}
	d.line(level, "%s:", title)
	byName := map[string]corev1.ContainerStatus{}
	for _, s := range statuses {
		byName[s.Name] = s
	}
	for _, c := range cs {
		st, ok := byName[c.Name]
		d.line(level+1, "%s:", c.Name)
		if ok {
			d.line(level+2, "Container ID:\t%s", st.ContainerID)
		}
		d.line(level+2, "Image:\t%s", c.Image)
		if ok {
			d.line(level+2, "Image ID:\t%s", st.ImageID)
		}
		ports := containerPorts(c.Ports, func(p corev1.ContainerPort) int32 { return p.ContainerPort })
		if strings.Contains(ports, ",") {
			d.line(level+2, "Ports:\t%s", ports)
		} else {
			d.line(level+2, "Port:\t%s", orNone(ports))
		}
		hostPorts := containerPorts(c.Ports, func(p corev1.ContainerPort) int32 { return p.HostPort })
		if strings.Contains(hostPorts, ",") {
			d.line(level+2, "Host Ports:\t%s", hostPorts)
		} else {
			d.line(level+2, "Host Port:\t%s", orNone(hostPorts))
		}
		if len(c.Command) > 0 {
			d.line(level+2, "Command:")
			for _, s := range c.Command {
				d.line(level+3, "%s", s)
			}
		}
		if len(c.Args) > 0 {
			d.line(level+2, "Args:")
			for _, s := range c.Args {
				d.line(level+3, "%s", s)
			}
		}
		if ok {
			d.containerState(level+2, "State", st.State)
			if st.LastTerminationState.Terminated != nil {
				d.containerState(level+2, "Last State", st.LastTerminationState)
			}
			d.line(level+2, "Ready:\t%v", st.Ready)
			d.line(level+2, "Restart Count:\t%d", st.RestartCount)
		}
		d.resources(level+2, c.Resources)
		if len(c.Env) == 0 && len(c.EnvFrom) == 0 {
			d.line(level+2, "Environment:\t<none>")
		} else {
			d.line(level+2, "Environment:")
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					d.line(level+3, "%s:\t%s", e.Name, e.Value)
				case e.ValueFrom.ConfigMapKeyRef != nil:
					d.line(level+3, "%s:\t<set to the key '%s' of config map '%s'>", e.Name, e.ValueFrom.ConfigMapKeyRef.Key, e.ValueFrom.ConfigMapKeyRef.Name)
				case e.ValueFrom.SecretKeyRef != nil:
					d.line(level+3, "%s:\t<set to the key '%s' in secret '%s'>", e.Name, e.ValueFrom.SecretKeyRef.Key, e.ValueFrom.SecretKeyRef.Name)
				case e.ValueFrom.FieldRef != nil:
					d.line(level+3, "%s:\t (%s:%s)", e.Name, e.ValueFrom.FieldRef.APIVersion, e.ValueFrom.FieldRef.FieldPath)
				default:
					d.line(level+3, "%s:\t<set from a reference>", e.Name)
				}
			}
		}
		if len(c.VolumeMounts) == 0 {
			d.line(level+2, "Mounts:\t<none>")
		} else {
			d.line(level+2, "Mounts:")
			for _, m := range c.VolumeMounts {
				mode := "rw"
				if m.ReadOnly {
					mode = "ro"
				}
				d.line(level+3, "%s from %s (%s)", m.MountPath, m.Name, mode)
			}
		}
	}
}

func containerPorts(ports []corev1.ContainerPort, port func(corev1.ContainerPort) int32) string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		s := fmt.Sprintf("%d/%s", port(p), p.Protocol)
		if p.Name != "" {
			s += " (" + p.Name + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func (d *describer) containerState(level int, title string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		d.line(level, "%s:\tRunning", title)
		d.line(level+1, "Started:\t%s", d.timestamp(s.Running.StartedAt))
	case s.Terminated != nil:
		t := s.Terminated
		d.line(level, "%s:\tTerminated", title)
		if t.Reason != "" {
			d.line(level+1, "Reason:\t%s", t.Reason)
		}
		if t.Message != "" {
			d.line(level+1, "Message:\t%s", t.Message)
		}
		d.line(level+1, "Exit Code:\t%d", t.ExitCode)
		if t.Signal > 0 {
			d.line(level+1, "Signal:\t%d", t.Signal)
		}
		d.line(level+1, "Started:\t%s", d.timestamp(t.StartedAt))
		d.line(level+1, "Finished:\t%s", d.timestamp(t.FinishedAt))
	default:
		d.line(level, "%s:\tWaiting", title)
		if s.Waiting != nil && s.Waiting.Reason != "" {
			d.line(level+1, "Reason:\t%s", s.Waiting.Reason)
		}
	}
}

func (d *describer) resources(level int, r corev1.ResourceRequirements) {
	for _, part := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(part.list) == 0 {
			continue
		}
		d.line(level, "%s:", part.title)
		names := make([]string, 0, len(part.list))
		for n := range part.list {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			q := part.list[corev1.ResourceName(n)]
			d.line(level+1, "%s:\t%s", n, q.String())
		}
	}
}

func (d *describer) volumes(level int, vs []corev1.Volume) {
	if len(vs) == 0 {
		d.line(level, "Volumes:\t<none>")
		return
	}
	d.line(level, "Volumes:")
	for _, v := range vs {
		d.line(level+1, "%s:", v.Name)
		switch {
		case v.ConfigMap != nil:
			d.line(level+2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
			d.line(level+2, "Name:\t%s", v.ConfigMap.Name)
		case v.Secret != nil:
			d.line(level+2, "Type:\tSecret (a volume populated by a Secret)")
			d.line(level+2, "SecretName:\t%s", v.Secret.SecretName)
		case v.EmptyDir != nil:
			d.line(level+2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
			d.line(level+2, "Medium:\t%s", v.EmptyDir.Medium)
		case v.HostPath != nil:
			d.line(level+2, "Type:\tHostPath (bare host directory volume)")
			d.line(level+2, "Path:\t%s", v.HostPath.Path)
		default:
			d.line(level+2, "Type:\t<unknown>")
		}
	}
}

func (d *describer) tolerations(ts []corev1.Toleration) {
	if len(ts) == 0 {
		d.line(0, "Tolerations:\t<none>")
		return
	}
	for i, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		if t.Effect != "" {
			s += ":" + string(t.Effect)
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if t.Key != "" || t.Effect != "" {
				s += " op=Exists"
			} else {
				s = "op=Exists"
			}
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
		}
		if i == 0 {
			d.line(0, "Tolerations:\t%s", s)
		} else {
			d.line(0, "\t%s", s)
		}
	}
}

func (d *describer) podTemplate(t *corev1.PodTemplateSpec) {
	d.line(0, "Pod Template:")
	d.keyValues(1, "Labels", t.Labels, "=")
	if len(t.Annotations) > 0 {
		d.annotations(1, "Annotations", t.Annotations)
	}
	if len(t.Spec.InitContainers) > 0 {
		d.containers("Init Containers", 1, t.Spec.InitContainers, nil)
	}
	d.containers("Containers", 1, t.Spec.Containers, nil)
	d.volumes(1, t.Spec.Volumes)
	d.keyValues(1, "Node-Selectors", t.Spec.NodeSelector, "=")
	if len(t.Spec.Tolerations) == 0 {
		d.line(1, "Tolerations:\t<none>")
	}
}

func (d *describer) deployment(x *appsv1.Deployment, rel Related) {
	d.line(0, "Name:\t%s", x.Name)
	d.line(0, "Namespace:\t%s", x.Namespace)
	d.line(0, "CreationTimestamp:\t%s", d.timestamp(x.CreationTimestamp))
	d.labels("Labels", x.Labels)
	d.annotations(0, "Annotations", x.Annotations)
	d.line(0, "Selector:\t%s", selectorString(x.Spec.Selector))
	d.line(0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable",
		replicas(x.Spec.Replicas), x.Status.UpdatedReplicas, x.Status.Replicas, x.Status.AvailableReplicas, x.Status.UnavailableReplicas)
	d.line(0, "StrategyType:\t%s", x.Spec.Strategy.Type)
	d.line(0, "MinReadySeconds:\t%d", x.Spec.MinReadySeconds)
	if ru := x.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil && ru.MaxSurge != nil {
		d.line(0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge", ru.MaxUnavailable.String(), ru.MaxSurge.String())
	}
	d.podTemplate(&x.Spec.Template)
	if len(x.Status.Conditions) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tReason")
		d.line(1, "----\t------\t------")
		for _, c := range x.Status.Conditions {
			d.line(1, "%v \t%v\t%v", c.Type, c.Status, c.Reason)
		}
	}
	if len(rel.ReplicaSets) > 0 {
		newRS := rollouts.FindNewReplicaSet(x, rel.ReplicaSets)
		_, oldRSs := rollouts.FindOldReplicaSets(x, rel.ReplicaSets)
		var newRSs []*appsv1.ReplicaSet
		if newRS != nil {
			newRSs = append(newRSs, newRS)
		}
		d.line(0, "OldReplicaSets:\t%s", replicaSetList(oldRSs))
		d.line(0, "NewReplicaSet:\t%s", replicaSetList(newRSs))
	}
}

func replicaSetList(rss []*appsv1.ReplicaSet) string {
	out := make([]string, 0, len(rss))
	for _, rs := range rss {
		out = append(out, fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, replicas(rs.Spec.Replicas)))
	}
	return orNone(strings.Join(out, ", "))
}

func (d *describer) replicaSet(x *appsv1.ReplicaSet, rel Related) {
	d.line(0, "Name:\t%s", x.Name)
	d.line(0, "Namespace:\t%s", x.Namespace)
	d.line(0, "Selector:\t%s", metav1.FormatLabelSelector(x.Spec.Selector))
	d.labels("Labels", x.Labels)
	d.annotations(0, "Annotations", x.Annotations)
	if c := controlledBy(x); c != "" {
		d.line(0, "Controlled By:\t%s", c)
	}
	d.line(0, "Replicas:\t%d current / %d desired", x.Status.Replicas, replicas(x.Spec.Replicas))
	var running, waiting, succeeded, failed int
	for _, p := range rel.Pods {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != x.UID {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			waiting++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
		}
	}
	d.line(0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed", running, waiting, succeeded, failed)
	d.podTemplate(&x.Spec.Template)
	if len(x.Status.Conditions) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tReason")
		d.line(1, "----\t------\t------")
		for _, c := range x.Status.Conditions {
			d.line(1, "%v \t%v\t%v", c.Type, c.Status, c.Reason)
		}
	}
}

func (d *describer) node(n *corev1.Node, rel Related) {
	d.line(0, "Name:\t%s", n.Name)
	d.line(0, "Roles:\t%s", nodeRoles(n))
	d.labels("Labels", n.Labels)
	d.annotations(0, "Annotations", n.Annotations)
	d.line(0, "CreationTimestamp:\t%s", d.timestamp(n.CreationTimestamp))
	if len(n.Spec.Taints) == 0 {
		d.line(0, "Taints:\t<none>")
	}
	for i, t := range n.Spec.Taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		s += ":" + string(t.Effect)
		if i == 0 {
			d.line(0, "Taints:\t%s", s)
		} else {
			d.line(0, "\t%s", s)
		}
	}
	d.line(0, "Unschedulable:\t%v", n.Spec.Unschedulable)
	if len(n.Status.Conditions) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
		d.line(1, "----\t------\t-----------------\t------------------\t------\t-------")
		for _, c := range n.Status.Conditions {
			d.line(1, "%v \t%v \t%s \t%s \t%v \t%v", c.Type, c.Status, d.timestamp(c.LastHeartbeatTime), d.timestamp(c.LastTransitionTime), c.Reason, c.Message)
		}
	}
	d.line(0, "Addresses:")
	for _, a := range n.Status.Addresses {
		d.line(1, "%s:\t%s", a.Type, a.Address)
	}
	for _, part := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Capacity", n.Status.Capacity}, {"Allocatable", n.Status.Allocatable}} {
		if len(part.list) == 0 {
			continue
		}
		d.line(0, "%s:", part.title)
		names := make([]string, 0, len(part.list))
		for k := range part.list {
			names = append(names, string(k))
		}
		sort.Strings(names)
		for _, k := range names {
			q := part.list[corev1.ResourceName(k)]
			d.line(1, "%s:\t%s", k, q.String())
		}
	}
	info := n.Status.NodeInfo
	d.line(0, "System Info:")
	d.line(1, "Machine ID:\t%s", info.MachineID)
	d.line(1, "Kernel Version:\t%s", info.KernelVersion)
	d.line(1, "OS Image:\t%s", info.OSImage)
	d.line(1, "Operating System:\t%s", info.OperatingSystem)
	d.line(1, "Architecture:\t%s", info.Architecture)
	d.line(1, "Container Runtime Version:\t%s", info.ContainerRuntimeVersion)
	d.line(1, "Kubelet Version:\t%s", info.KubeletVersion)
	if n.Spec.PodCIDR != "" {
		d.line(0, "PodCIDR:\t%s", n.Spec.PodCIDR)
	}
	var pods []*corev1.Pod
	for _, p := range rel.Pods {
		if p.Spec.NodeName == n.Name && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			pods = append(pods, p)
		}
	}
	d.line(0, "Non-terminated Pods:\t(%d in total)", len(pods))
	if len(pods) > 0 {
		d.line(1, "Namespace\tName\tAge")
		d.line(1, "---------\t----\t---")
		for _, p := range pods {
			d.line(1, "%s\t%s\t%s", p.Namespace, p.Name, Age(p.CreationTimestamp.Time, d.now))
		}
	}
}

func (d *describer) source(s *sources.Resource) {
	d.line(0, "Name:\t%s", s.Name)
	d.labels("Labels", s.Labels)
	d.annotations(0, "Annotations", s.Annotations)
	d.line(0, "CreationTimestamp:\t%s", d.timestamp(s.CreationTimestamp))
	d.line(0, "Type:\t%s", s.Spec.Type)
	d.line(0, "URL:\t%s", s.Spec.URL)
	if s.Spec.Type == sources.TypeGit {
		d.line(0, "Ref:\t%s", orValue(sourceRef(s.Spec), "the remote's default branch"))
	}
	d.line(0, "Path:\t%s", orValue(s.Spec.Path, "/"))
	if s.Spec.Interval.Duration > 0 {
		d.line(0, "Interval:\t%s", s.Spec.Interval.Duration)
	}
	d.line(0, "Pinned Revision:\t%s", orNone(s.Spec.PinnedRevision))
	d.line(0, "Allow Prune All:\t%v", s.Spec.AllowPruneAll)
	d.line(0, "Last Applied Revision:\t%s", orNone(s.Status.LastAppliedRevision))
	if s.Status.LastAttemptedRevision != "" && s.Status.LastAttemptedRevision != s.Status.LastAppliedRevision {
		d.line(0, "Last Attempted Revision:\t%s", s.Status.LastAttemptedRevision)
	}
	if s.Status.LastAppliedTime != nil {
		d.line(0, "Last Applied:\t%s (%s ago)", d.timestamp(*s.Status.LastAppliedTime), Age(s.Status.LastAppliedTime.Time, d.now))
	}
	if len(s.Status.Conditions) == 0 {
		d.line(0, "Conditions:\t<none>")
	} else {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tReason\tAge\tMessage")
		d.line(1, "----\t------\t------\t---\t-------")
		for _, c := range s.Status.Conditions {
			d.line(1, "%s\t%s\t%s\t%s\t%s", c.Type, c.Status, c.Reason, Age(c.LastTransitionTime.Time, d.now), c.Message)
		}
	}
	if len(s.Status.Skipped) == 0 {
		d.line(0, "Skipped Files:\t<none>")
	} else {
		d.line(0, "Skipped Files:")
		for _, f := range s.Status.Skipped {
			d.line(1, "%s", f)
		}
	}
	if len(s.Status.Resources) == 0 {
		d.line(0, "Resources:\t<none>")
		return
	}
	d.line(0, "Resources:")
	d.line(1, "Kind\tNamespace\tName\tSync\tHealth\tMessage")
	d.line(1, "----\t---------\t----\t----\t------\t-------")
	for _, r := range s.Status.Resources {
		d.line(1, "%s\t%s\t%s\t%s\t%s\t%s", r.Kind, r.Namespace, r.Name, r.Sync, r.Health, r.Message)
	}
}

// gitOps adds where a sourced object came from and whether it is in sync.
func (d *describer) gitOps(obj store.Object, ix *SourceIndex) {
	m, ok := obj.(metav1.Object)
	if !ok || m.GetLabels()[LabelSource] == "" {
		return
	}
	kind, err := store.KindOf(obj)
	if err != nil {
		return
	}
	sync, health := ix.Status(kind, m)
	d.line(0, "GitOps:")
	d.line(1, "Source:\t%s", m.GetLabels()[LabelSource])
	d.line(1, "Revision:\t%s", orNone(m.GetAnnotations()[gitops.AnnotationRevision]))
	d.line(1, "Sync:\t%s", sync)
	d.line(1, "Health:\t%s", health)
	if reason := m.GetAnnotations()[gitops.AnnotationPinnedReason]; reason != "" && sync == sources.SyncPinned {
		d.line(1, "Pinned By:\t%s", reason)
	}
}

func orValue(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// generic describes any object: its metadata, then its spec and status
// as YAML.
func (d *describer) generic(obj store.Object) error {
	m, ok := obj.(metav1.Object)
	if !ok {
		return fmt.Errorf("cannot describe %T", obj)
	}
	if err := setTypeMeta(obj); err != nil {
		return err
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	d.line(0, "Name:\t%s", m.GetName())
	if m.GetNamespace() != "" {
		d.line(0, "Namespace:\t%s", m.GetNamespace())
	}
	d.labels("Labels", m.GetLabels())
	d.annotations(0, "Annotations", m.GetAnnotations())
	d.line(0, "API Version:\t%s", gvk.GroupVersion().String())
	d.line(0, "Kind:\t%s", gvk.Kind)
	d.line(0, "CreationTimestamp:\t%s", d.timestamp(m.GetCreationTimestamp()))
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := yaml.Unmarshal(b, &fields); err != nil {
		return err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		switch k {
		case "apiVersion", "kind", "metadata":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		part, err := yaml.Marshal(fields[k])
		if err != nil {
			return err
		}
		text := strings.TrimRight(string(part), "\n")
		if !strings.Contains(text, "\n") && !strings.HasPrefix(text, "  ") && len(text) < 60 {
			// kubectl titles fields "Spec:", "Data:"...
			if _, isMap := fields[k].(map[string]any); !isMap {
				d.line(0, "%s:\t%s", title(k), text)
				continue
			}
		}
		d.line(0, "%s:", title(k))
		for _, l := range strings.Split(text, "\n") {
			d.line(1, "%s", l)
		}
	}
	return nil
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// events writes kubectl's Events section, sorted by time.
func (d *describer) events(events []corev1.Event) {
	if len(events) == 0 {
		d.line(0, "Events:\t<none>")
		return
	}
	sorted := append([]corev1.Event(nil), events...)
	SortEvents(sorted)
	d.line(0, "Events:")
	d.line(1, "Type\tReason\tAge\tFrom\tMessage")
	d.line(1, "----\t------\t----\t----\t-------")
	for i := range sorted {
		e := &sorted[i]
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		msg := strings.TrimSpace(e.Message)
		if e.InvolvedObject.FieldPath != "" {
			msg = e.InvolvedObject.FieldPath + ": " + msg
		}
		d.line(1, "%s\t%s\t%s\t%s\t%s", e.Type, e.Reason, eventInterval(e, d.now), from, msg)
	}
}

// EventsFor filters events to those about one object.
func EventsFor(events []corev1.Event, kind, namespace, name string) []corev1.Event {
	var out []corev1.Event
	for _, e := range events {
		o := e.InvolvedObject
		if o.Kind == kind && o.Name == name && (o.Namespace == namespace || o.Namespace == "") {
			out = append(out, e)
		}
	}
	return out
}
