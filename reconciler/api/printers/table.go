package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// TableOptions shape a `get` table.
type TableOptions struct {
	// Wide adds kubectl's -o wide columns.
	Wide bool
	// AllNamespaces adds a NAMESPACE column first (-A).
	AllNamespaces bool
	// NoHeaders leaves the header line out (a watch's later rows).
	NoHeaders bool
	// Now is the time ages are measured to.
	Now time.Time
	// Sources, when it is not nil, gives the SYNC and HEALTH columns of
	// objects applied from a source.
	Sources *SourceIndex
}

// NewTabWriter returns the tabwriter kubectl prints tables with (columns
// three spaces apart).
func NewTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// Age is kubectl's AGE: the time since t, "<unknown>" for a zero t.
func Age(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// table is a header and rows of cells.
type table struct {
	header []string
	rows   [][]string
}

// PrintTable writes objs, all of kind k, as kubectl's `get` table.
func PrintTable(w io.Writer, k Kind, objs []store.Object, opts TableOptions) error {
	t, err := buildTable(k, objs, opts)
	if err != nil {
		return err
	}
	tw := NewTabWriter(w)
	if !opts.NoHeaders {
		fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	}
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func buildTable(k Kind, objs []store.Object, opts TableOptions) (table, error) {
	var t table
	showSync := opts.Sources != nil && anyFromSource(objs)
	for _, obj := range objs {
		header, row, err := objectRow(obj, opts)
		if err != nil {
			return table{}, err
		}
		meta := obj.(metav1.Object)
		if showSync {
			sync, health := opts.Sources.Status(k.Kind, meta)
			header, row = insertBeforeAge(header, row, []string{"SYNC", "HEALTH"}, []string{sync, health})
		}
		if opts.AllNamespaces && k.Namespaced {
			header = append([]string{"NAMESPACE"}, header...)
			row = append([]string{meta.GetNamespace()}, row...)
		}
		t.header = header
		t.rows = append(t.rows, row)
	}
	return t, nil
}

// insertBeforeAge puts extra columns just before AGE (after the kind's
// own status columns, as Argo CD's and Flux's CLIs place them), or last.
func insertBeforeAge(header, row, extraHeader, extraRow []string) ([]string, []string) {
	at := len(header)
	for i, h := range header {
		if h == "AGE" {
			at = i
			break
		}
	}
	h := append(append(append([]string{}, header[:at]...), extraHeader...), header[at:]...)
	r := append(append(append([]string{}, row[:at]...), extraRow...), row[at:]...)
	return h, r
}

func anyFromSource(objs []store.Object) bool {
	for _, obj := range objs {
		if m, ok := obj.(metav1.Object); ok && m.GetLabels()[LabelSource] != "" {
			return true
		}
	}
	return false
}

// objectRow returns the header and the row of one object.
func objectRow(obj store.Object, o TableOptions) ([]string, []string, error) {
	now := o.Now
	switch x := obj.(type) {
	case *corev1.Pod:
		p := PodStatus(x, now)
		h := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
		r := []string{x.Name, p.Ready, p.Status, p.Restarts, age(x.CreationTimestamp, now)}
		if o.Wide {
			ip := "<none>"
			if len(x.Status.PodIPs) > 0 && x.Status.PodIPs[0].IP != "" {
				ip = x.Status.PodIPs[0].IP
			}
			h = append(h, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
			r = append(r, ip, orNone(x.Spec.NodeName), orNone(x.Status.NominatedNodeName), readinessGates(x))
		}
		return h, r, nil
	case *appsv1.Deployment:
		h := []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}
		r := []string{x.Name, fmt.Sprintf("%d/%d", x.Status.ReadyReplicas, replicas(x.Spec.Replicas)),
			fmt.Sprint(x.Status.UpdatedReplicas), fmt.Sprint(x.Status.AvailableReplicas), age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES", "SELECTOR")
			r = append(r, names, images, selectorString(x.Spec.Selector))
		}
		return h, r, nil
	case *appsv1.ReplicaSet:
		h := []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}
		r := []string{x.Name, fmt.Sprint(replicas(x.Spec.Replicas)), fmt.Sprint(x.Status.Replicas), fmt.Sprint(x.Status.ReadyReplicas), age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES", "SELECTOR")
			r = append(r, names, images, metav1.FormatLabelSelector(x.Spec.Selector))
		}
		return h, r, nil
	case *appsv1.DaemonSet:
		s := x.Status
		h := []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"}
		r := []string{x.Name, fmt.Sprint(s.DesiredNumberScheduled), fmt.Sprint(s.CurrentNumberScheduled), fmt.Sprint(s.NumberReady),
			fmt.Sprint(s.UpdatedNumberScheduled), fmt.Sprint(s.NumberAvailable), labels.FormatLabels(x.Spec.Template.Spec.NodeSelector), age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES", "SELECTOR")
			r = append(r, names, images, metav1.FormatLabelSelector(x.Spec.Selector))
		}
		return h, r, nil
	case *appsv1.StatefulSet:
		h := []string{"NAME", "READY", "AGE"}
		r := []string{x.Name, fmt.Sprintf("%d/%d", x.Status.ReadyReplicas, replicas(x.Spec.Replicas)), age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES")
			r = append(r, names, images)
		}
		return h, r, nil
	case *batchv1.Job:
		h := []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}
		r := []string{x.Name, jobStatus(x), jobCompletions(x), jobDuration(x, now), age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES", "SELECTOR")
			r = append(r, names, images, metav1.FormatLabelSelector(x.Spec.Selector))
		}
		return h, r, nil
	case *batchv1.CronJob:
		last := "<none>"
		if x.Status.LastScheduleTime != nil {
			last = age(*x.Status.LastScheduleTime, now)
		}
		tz := "<none>"
		if x.Spec.TimeZone != nil {
			tz = *x.Spec.TimeZone
		}
		suspend := "<unset>"
		if x.Spec.Suspend != nil {
			suspend = fmt.Sprint(*x.Spec.Suspend)
		}
		h := []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}
		r := []string{x.Name, x.Spec.Schedule, tz, suspend, fmt.Sprint(len(x.Status.Active)), last, age(x.CreationTimestamp, now)}
		if o.Wide {
			names, images := containerCells(x.Spec.JobTemplate.Spec.Template.Spec.Containers)
			h = append(h, "CONTAINERS", "IMAGES", "SELECTOR")
			r = append(r, names, images, metav1.FormatLabelSelector(x.Spec.JobTemplate.Spec.Selector))
		}
		return h, r, nil
	case *corev1.Service:
		h := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}
		clusterIP := "<none>"
		if len(x.Spec.ClusterIPs) > 0 {
			clusterIP = x.Spec.ClusterIPs[0]
		}
		r := []string{x.Name, string(x.Spec.Type), clusterIP, externalIP(x), orNone(servicePorts(x.Spec.Ports)), age(x.CreationTimestamp, now)}
		if o.Wide {
			h = append(h, "SELECTOR")
			r = append(r, labels.FormatLabels(x.Spec.Selector))
		}
		return h, r, nil
	case *corev1.ConfigMap:
		return []string{"NAME", "DATA", "AGE"},
			[]string{x.Name, fmt.Sprint(len(x.Data) + len(x.BinaryData)), age(x.CreationTimestamp, now)}, nil
	case *corev1.Secret:
		return []string{"NAME", "TYPE", "DATA", "AGE"},
			[]string{x.Name, string(x.Type), fmt.Sprint(len(x.Data)), age(x.CreationTimestamp, now)}, nil
	case *corev1.Namespace:
		return []string{"NAME", "STATUS", "AGE"}, []string{x.Name, string(x.Status.Phase), age(x.CreationTimestamp, now)}, nil
	case *corev1.Node:
		h := []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"}
		r := []string{x.Name, nodeStatus(x), nodeRoles(x), age(x.CreationTimestamp, now), x.Status.NodeInfo.KubeletVersion}
		if o.Wide {
			info := x.Status.NodeInfo
			kernel := orUnknown(info.KernelVersion)
			if info.Architecture != "" {
				kernel += " (" + info.Architecture + ")"
			}
			h = append(h, "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
			r = append(r, nodeAddress(x, corev1.NodeInternalIP), nodeAddress(x, corev1.NodeExternalIP), orUnknown(info.OSImage), kernel, orUnknown(info.ContainerRuntimeVersion))
		}
		return h, r, nil
	case *corev1.Event:
		h := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
		last := eventLastSeen(x, now)
		target := strings.ToLower(x.InvolvedObject.Kind)
		if x.InvolvedObject.Name != "" {
			target += "/" + x.InvolvedObject.Name
		}
		r := []string{last, x.Type, x.Reason, target, strings.TrimSpace(x.Message)}
		if o.Wide {
			h = []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"}
			r = []string{last, x.Type, x.Reason, target, x.InvolvedObject.FieldPath, eventSource(x), strings.TrimSpace(x.Message),
				eventFirstSeen(x, now), fmt.Sprint(eventCount(x)), x.Name}
		}
		return h, r, nil
	case *sources.Resource:
		ready, status := sourceReady(x)
		h := []string{"NAME", "TYPE", "URL", "REVISION", "READY", "STATUS", "AGE"}
		r := []string{x.Name, x.Spec.Type, x.Spec.URL, orNone(ShortRevision(x.Status.LastAppliedRevision)), ready, status, age(x.CreationTimestamp, now)}
		if o.Wide {
			h = append(h, "REF", "PATH", "PINNED")
			r = append(r, orNone(sourceRef(x.Spec)), orNone(x.Spec.Path), orNone(ShortRevision(x.Spec.PinnedRevision)))
		}
		return h, r, nil
	}
	if m, ok := obj.(metav1.Object); ok {
		return []string{"NAME", "AGE"}, []string{m.GetName(), age(m.GetCreationTimestamp(), now)}, nil
	}
	return nil, nil, fmt.Errorf("cannot print %T as a table", obj)
}

func age(t metav1.Time, now time.Time) string { return Age(t.Time, now) }

func replicas(r *int32) int32 {
	if r == nil {
		return 0
	}
	return *r
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func containerCells(cs []corev1.Container) (names, images string) {
	n := make([]string, len(cs))
	im := make([]string, len(cs))
	for i, c := range cs {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// selectorString is a Deployment's selector as kubectl's wide column shows
// it (a parsed selector, "<invalid>" when it does not parse).
func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return "<invalid>"
	}
	return sel.String()
}

func readinessGates(p *corev1.Pod) string {
	if len(p.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	n := 0
	for _, g := range p.Spec.ReadinessGates {
		for _, c := range p.Status.Conditions {
			if c.Type == g.ConditionType {
				if c.Status == corev1.ConditionTrue {
					n++
				}
				break
			}
		}
	}
	return fmt.Sprintf("%d/%d", n, len(p.Spec.ReadinessGates))
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func jobStatus(j *batchv1.Job) string {
	switch {
	case jobCondition(j, batchv1.JobComplete):
		return "Complete"
	case jobCondition(j, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(j, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(j, batchv1.JobFailureTarget):
		return "FailureTarget"
	case jobCondition(j, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDuration(j *batchv1.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

func externalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(s.Spec.ExternalIPs) > 0 {
			return strings.Join(s.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		sort.Strings(ips)
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return "<unknown>"
}

func servicePorts(ports []corev1.ServicePort) string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort > 0 {
			out[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
	}
	return strings.Join(out, ",")
}

func nodeStatus(n *corev1.Node) string {
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = append(status, "Ready")
			} else {
				status = append(status, "NotReady")
			}
			break
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// nodeRoles reads node-role.kubernetes.io/ROLE and kubernetes.io/role
// labels, as kubectl does.
func nodeRoles(n *corev1.Node) string {
	set := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if role := strings.TrimPrefix(k, "node-role.kubernetes.io/"); role != "" {
				set[role] = true
			}
		case k == "kubernetes.io/role" && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return orNone(strings.Join(roles, ","))
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}
