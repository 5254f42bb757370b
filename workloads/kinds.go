package workloads

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// servedKind is a kind berth decodes into a typed object and runs.
type servedKind struct {
	apiVersion string
	kind       string
	namespaced bool
	new        func() runtime.Object
}

// servedKinds are the kinds of SPEC.md, in the order `berth get` lists them.
var servedKinds = []servedKind{
	{"v1", "Namespace", false, func() runtime.Object { return &corev1.Namespace{} }},
	{"v1", "ConfigMap", true, func() runtime.Object { return &corev1.ConfigMap{} }},
	{"v1", "Secret", true, func() runtime.Object { return &corev1.Secret{} }},
	{"v1", "Pod", true, func() runtime.Object { return &corev1.Pod{} }},
	{"v1", "Service", true, func() runtime.Object { return &corev1.Service{} }},
	{"apps/v1", "Deployment", true, func() runtime.Object { return &appsv1.Deployment{} }},
	{"apps/v1", "ReplicaSet", true, func() runtime.Object { return &appsv1.ReplicaSet{} }},
	{"apps/v1", "DaemonSet", true, func() runtime.Object { return &appsv1.DaemonSet{} }},
	{"apps/v1", "StatefulSet", true, func() runtime.Object { return &appsv1.StatefulSet{} }},
	{"batch/v1", "Job", true, func() runtime.Object { return &batchv1.Job{} }},
	{"batch/v1", "CronJob", true, func() runtime.Object { return &batchv1.CronJob{} }},
}

// lookupServed returns the served kind for apiVersion and kind, or nil.
func lookupServed(apiVersion, kind string) *servedKind {
	for i := range servedKinds {
		if servedKinds[i].apiVersion == apiVersion && servedKinds[i].kind == kind {
			return &servedKinds[i]
		}
	}
	return nil
}

// servedVersionOf returns the apiVersion berth serves kind under, or "".
func servedVersionOf(kind string) string {
	for _, k := range servedKinds {
		if k.kind == kind {
			return k.apiVersion
		}
	}
	return ""
}

// Namespaced reports whether objects of kind live in a namespace. Unknown
// kinds count as namespaced.
func Namespaced(kind string) bool {
	for _, k := range servedKinds {
		if k.kind == kind {
			return k.namespaced
		}
	}
	return true
}

// ServedKinds lists the kinds berth serves as "apiVersion/Kind".
func ServedKinds() []string {
	out := make([]string, len(servedKinds))
	for i, k := range servedKinds {
		out[i] = k.apiVersion + "/" + k.kind
	}
	return out
}

// knownKinds are Kubernetes kinds berth recognises but does not run: a
// document of one of them is a warning ("not served by berth; ignored"), not
// an error, so that real-world manifest sets validate. Keyed by apiVersion.
var knownKinds = map[string][]string{
	"v1": {"Binding", "ComponentStatus", "Endpoints", "Event", "LimitRange", "Node",
		"PersistentVolume", "PersistentVolumeClaim", "PodTemplate", "ReplicationController",
		"ResourceQuota", "ServiceAccount"},
	"apps/v1":                         {"ControllerRevision"},
	"autoscaling/v1":                  {"HorizontalPodAutoscaler"},
	"autoscaling/v2":                  {"HorizontalPodAutoscaler"},
	"policy/v1":                       {"PodDisruptionBudget"},
	"networking.k8s.io/v1":            {"Ingress", "IngressClass", "NetworkPolicy"},
	"rbac.authorization.k8s.io/v1":    {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
	"storage.k8s.io/v1":               {"CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment"},
	"scheduling.k8s.io/v1":            {"PriorityClass"},
	"node.k8s.io/v1":                  {"RuntimeClass"},
	"coordination.k8s.io/v1":          {"Lease"},
	"discovery.k8s.io/v1":             {"EndpointSlice"},
	"events.k8s.io/v1":                {"Event"},
	"certificates.k8s.io/v1":          {"CertificateSigningRequest"},
	"apiextensions.k8s.io/v1":         {"CustomResourceDefinition"},
	"apiregistration.k8s.io/v1":       {"APIService"},
	"admissionregistration.k8s.io/v1": {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"},
	"flowcontrol.apiserver.k8s.io/v1": {"FlowSchema", "PriorityLevelConfiguration"},
	"resource.k8s.io/v1":              {"DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"},
	// kustomize's own files often sit beside the manifests they list.
	"kustomize.config.k8s.io/v1beta1":  {"Kustomization"},
	"kustomize.config.k8s.io/v1alpha1": {"Component"},
}

func isKnownKind(apiVersion, kind string) bool {
	for _, k := range knownKinds[apiVersion] {
		if k == kind {
			return true
		}
	}
	return false
}

// removedAPI records an API version Kubernetes has removed.
type removedAPI struct {
	apiVersion  string
	kinds       []string // nil: every kind of apiVersion
	removedIn   string   // Kubernetes version that removed it
	replacement string   // the apiVersion to use instead
}

// removedAPIs are from Kubernetes' deprecated API migration guide.
var removedAPIs = []removedAPI{
	{"extensions/v1beta1", []string{"Deployment", "DaemonSet", "ReplicaSet"}, "1.16", "apps/v1"},
	{"extensions/v1beta1", []string{"NetworkPolicy"}, "1.16", "networking.k8s.io/v1"},
	{"extensions/v1beta1", []string{"Ingress"}, "1.22", "networking.k8s.io/v1"},
	{"extensions/v1beta1", []string{"PodSecurityPolicy"}, "1.16", ""},
	{"apps/v1beta1", nil, "1.16", "apps/v1"},
	{"apps/v1beta2", nil, "1.16", "apps/v1"},
	{"batch/v1beta1", []string{"CronJob"}, "1.25", "batch/v1"},
	{"batch/v2alpha1", []string{"CronJob"}, "1.21", "batch/v1"},
	{"policy/v1beta1", []string{"PodDisruptionBudget"}, "1.25", "policy/v1"},
	{"policy/v1beta1", []string{"PodSecurityPolicy"}, "1.25", ""},
	{"autoscaling/v2beta1", nil, "1.25", "autoscaling/v2"},
	{"autoscaling/v2beta2", nil, "1.26", "autoscaling/v2"},
	{"networking.k8s.io/v1beta1", nil, "1.22", "networking.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", nil, "1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1alpha1", nil, "1.22", "rbac.authorization.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", []string{"CSIStorageCapacity"}, "1.27", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", nil, "1.22", "storage.k8s.io/v1"},
	{"apiextensions.k8s.io/v1beta1", nil, "1.22", "apiextensions.k8s.io/v1"},
	{"apiregistration.k8s.io/v1beta1", nil, "1.22", "apiregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}, "1.22", "admissionregistration.k8s.io/v1"},
	{"scheduling.k8s.io/v1beta1", nil, "1.22", "scheduling.k8s.io/v1"},
	{"scheduling.k8s.io/v1alpha1", nil, "1.22", "scheduling.k8s.io/v1"},
	{"coordination.k8s.io/v1beta1", nil, "1.22", "coordination.k8s.io/v1"},
	{"certificates.k8s.io/v1beta1", nil, "1.22", "certificates.k8s.io/v1"},
	{"discovery.k8s.io/v1beta1", nil, "1.25", "discovery.k8s.io/v1"},
	{"events.k8s.io/v1beta1", nil, "1.25", "events.k8s.io/v1"},
	{"node.k8s.io/v1beta1", nil, "1.25", "node.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta1", nil, "1.26", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta2", nil, "1.29", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta3", nil, "1.32", "flowcontrol.apiserver.k8s.io/v1"},
}

// removedHint explains why apiVersion/kind is refused, or returns "" when it
// was not removed.
func removedHint(apiVersion, kind string) string {
	for _, r := range removedAPIs {
		if r.apiVersion != apiVersion || (r.kinds != nil && !contains(r.kinds, kind)) {
			continue
		}
		msg := apiVersion + " " + kind + " was removed in Kubernetes " + r.removedIn
		if r.replacement == "" {
			return msg + " and has no replacement"
		}
		return msg + "; use apiVersion: " + r.replacement
	}
	return ""
}

// unknownKindMessage explains an apiVersion/kind berth does not know,
// suggesting the served apiVersion when only the version is wrong.
func unknownKindMessage(apiVersion, kind string) string {
	if v := servedVersionOf(kind); v != "" {
		return "unknown apiVersion " + quote(apiVersion) + " for kind " + kind + "; berth serves " + kind + " as apiVersion: " + v
	}
	for _, k := range servedKinds {
		if strings.EqualFold(k.kind, kind) {
			return "unknown kind " + quote(kind) + "; did you mean " + k.kind + "? (kinds are case-sensitive)"
		}
	}
	if strings.Contains(apiVersion, ".") && !strings.Contains(apiVersion, "k8s.io") {
		return "unknown kind " + kind + " (" + apiVersion + "): berth does not serve custom resources"
	}
	return "unknown apiVersion/kind " + apiVersion + "/" + kind + "; berth serves " + strings.Join(ServedKinds(), ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quote(s string) string { return `"` + s + `"` }
