package api

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/berth-io/berth/reconciler/store"
)

// filter is a request's label and field selectors.
type filter struct {
	namespace string // "" = all
	labels    labels.Selector
	fields    fields.Selector // nil = everything
}

// parseFilter reads ?labelSelector= and ?fieldSelector= as the Kubernetes
// API server does, refusing fields it cannot select on for kind (as it
// does: "field label not supported").
func parseFilter(kind, labelSel, fieldSel string) (filter, error) {
	var f filter
	sel, err := labels.Parse(labelSel)
	if err != nil {
		return f, fmt.Errorf("labelSelector %q: %v", labelSel, err)
	}
	f.labels = sel
	if fieldSel == "" {
		return f, nil
	}
	fs, err := fields.ParseSelector(fieldSel)
	if err != nil {
		return f, fmt.Errorf("fieldSelector %q: %v", fieldSel, err)
	}
	supported := selectableFields(kind, nil)
	for _, req := range fs.Requirements() {
		if _, ok := supported[req.Field]; !ok {
			return f, fmt.Errorf("field label not supported: %s", req.Field)
		}
	}
	f.fields = fs
	return f, nil
}

// matches reports whether obj passes the filter.
func (f filter) matches(kind string, obj store.Object) bool {
	m, ok := obj.(metav1.Object)
	if !ok {
		return false
	}
	if f.namespace != "" && m.GetNamespace() != f.namespace {
		return false
	}
	if f.labels != nil && !f.labels.Empty() && !f.labels.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	if f.fields != nil && !f.fields.Empty() && !f.fields.Matches(selectableFields(kind, obj)) {
		return false
	}
	return true
}

// selectableFields returns the field set Kubernetes' field selectors see
// for an object of kind; with obj nil, only which fields exist.
func selectableFields(kind string, obj store.Object) fields.Set {
	set := fields.Set{"metadata.name": "", "metadata.namespace": ""}
	if m, ok := obj.(metav1.Object); ok {
		set["metadata.name"] = m.GetName()
		set["metadata.namespace"] = m.GetNamespace()
	}
	switch kind {
	case "Pod":
		p, _ := obj.(*corev1.Pod)
		if p == nil {
			p = &corev1.Pod{}
		}
		set["spec.nodeName"] = p.Spec.NodeName
		set["spec.restartPolicy"] = string(p.Spec.RestartPolicy)
		set["spec.schedulerName"] = p.Spec.SchedulerName
		set["spec.serviceAccountName"] = p.Spec.ServiceAccountName
		set["spec.hostNetwork"] = strconv.FormatBool(p.Spec.HostNetwork)
		set["status.phase"] = string(p.Status.Phase)
		set["status.podIP"] = p.Status.PodIP
		set["status.nominatedNodeName"] = p.Status.NominatedNodeName
	case "Event":
		e, _ := obj.(*corev1.Event)
		if e == nil {
			e = &corev1.Event{}
		}
		set["involvedObject.kind"] = e.InvolvedObject.Kind
		set["involvedObject.namespace"] = e.InvolvedObject.Namespace
		set["involvedObject.name"] = e.InvolvedObject.Name
		set["involvedObject.uid"] = string(e.InvolvedObject.UID)
		set["involvedObject.apiVersion"] = e.InvolvedObject.APIVersion
		set["involvedObject.resourceVersion"] = e.InvolvedObject.ResourceVersion
		set["involvedObject.fieldPath"] = e.InvolvedObject.FieldPath
		set["reason"] = e.Reason
		set["reportingComponent"] = e.ReportingController
		set["source"] = e.Source.Component
		set["type"] = e.Type
	case "Node":
		n, _ := obj.(*corev1.Node)
		if n == nil {
			n = &corev1.Node{}
		}
		set["spec.unschedulable"] = strconv.FormatBool(n.Spec.Unschedulable)
	case "Namespace":
		n, _ := obj.(*corev1.Namespace)
		if n == nil {
			n = &corev1.Namespace{}
		}
		set["status.phase"] = string(n.Status.Phase)
	case "Secret":
		s, _ := obj.(*corev1.Secret)
		if s == nil {
			s = &corev1.Secret{}
		}
		set["type"] = string(s.Type)
	case "ReplicaSet":
		rs, _ := obj.(*appsv1.ReplicaSet)
		if rs == nil {
			rs = &appsv1.ReplicaSet{}
		}
		set["status.replicas"] = strconv.Itoa(int(rs.Status.Replicas))
	case "Job":
		j, _ := obj.(*batchv1.Job)
		if j == nil {
			j = &batchv1.Job{}
		}
		set["status.successful"] = strconv.Itoa(int(j.Status.Succeeded))
	}
	return set
}
