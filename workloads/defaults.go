package workloads

// Kubernetes' defaults, applied the way the API server applies them when an
// object is created: the SetDefaults_* functions of pkg/apis/{core,apps,batch}/v1
// and the generated zz_generated.defaults.go that walks into pod templates,
// containers, probes and volumes. The behaviour is that of Kubernetes 1.37
// (k8s.io/api v0.37) with its default feature gates, so in particular
// MaxUnavailableStatefulSet, StatefulSetAutoDeletePVC, JobPodReplacementPolicy,
// PodLevelResources and ImageVolume are on.
//
// Exactness matters: controllers hash the defaulted pod template into the
// pod-template-hash, so a template that defaults differently here than in
// Kubernetes would give a different ReplicaSet name and break rollbacks to
// revisions created by a real cluster.
//
// What is not here, on purpose: fields the server fills in outside defaulting
// (uid, creationTimestamp, resourceVersion, generation, status, a Service's
// clusterIP and ipFamilies/ipFamilyPolicy, node ports, a Job's generated
// selector and controller-uid labels) and what admission plugins add
// (serviceAccountName, the service-account token volume, default
// tolerations, priority).

import (
	"math"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DefaultNamespace is the namespace a namespaced object without one is put
// in, as the API server does for a request made in kubectl's default context.
const DefaultNamespace = "default"

// Default mutates obj in place, giving every unset field the value the
// Kubernetes API server would store for it. It is idempotent and never
// overwrites a value that is set. Objects of kinds berth does not serve are
// left alone.
func Default(obj runtime.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		defaultNamespaceObject(o)
	case *corev1.ConfigMap:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultConfigMap(o)
	case *corev1.Secret:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultSecret(o)
	case *corev1.Pod:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultPod(o)
	case *corev1.Service:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultService(o)
	case *appsv1.Deployment:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultDeployment(o)
	case *appsv1.ReplicaSet:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultReplicaSet(o)
	case *appsv1.DaemonSet:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultDaemonSet(o)
	case *appsv1.StatefulSet:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultStatefulSet(o)
	case *batchv1.Job:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultJob(o)
	case *batchv1.CronJob:
		defaultMetaNamespace(&o.ObjectMeta)
		defaultCronJob(o)
	}
}

// defaultMetaNamespace is the API server's, not a SetDefaults_ function: a
// namespaced object created without a namespace lands in the request's
// namespace, which for berth is always "default".
func defaultMetaNamespace(m *metav1.ObjectMeta) {
	if m.Namespace == "" {
		m.Namespace = DefaultNamespace
	}
}

// --- core/v1 objects other than Pod (Pod is in defaults_pod.go) ---

// defaultNamespaceObject gives a named Namespace the immutable
// kubernetes.io/metadata.name label, so that namespace selectors can match
// on the name. The status phase (Active) is server state and is not set.
func defaultNamespaceObject(ns *corev1.Namespace) {
	if ns.Name == "" {
		return // generateName: upstream can't label it either
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func defaultConfigMap(cm *corev1.ConfigMap) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

func defaultSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}

func defaultService(svc *corev1.Service) {
	s := &svc.Spec
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	// Upstream drops a config that cannot apply rather than rejecting it.
	if s.SessionAffinity == corev1.ServiceAffinityNone {
		s.SessionAffinityConfig = nil
	}
	if s.SessionAffinity == corev1.ServiceAffinityClientIP {
		c := s.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			s.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: new(corev1.DefaultClientIPServiceAffinitySeconds)},
			}
		}
	}
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		// Both an absent targetPort and an explicit 0 or "" mean "the port".
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	externallyAccessible := s.Type == corev1.ServiceTypeLoadBalancer || s.Type == corev1.ServiceTypeNodePort ||
		(s.Type == corev1.ServiceTypeClusterIP && len(s.ExternalIPs) > 0)
	if externallyAccessible && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if s.InternalTrafficPolicy == nil &&
		(s.Type == corev1.ServiceTypeClusterIP || s.Type == corev1.ServiceTypeNodePort || s.Type == corev1.ServiceTypeLoadBalancer) {
		s.InternalTrafficPolicy = new(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if s.Type == corev1.ServiceTypeLoadBalancer && s.AllocateLoadBalancerNodePorts == nil {
		s.AllocateLoadBalancerNodePorts = new(true)
	}
	// ipFamilyPolicy and ipFamilies are set by the Service REST storage
	// together with the clusterIP allocation, not by defaulting: offline
	// they stay unset, exactly as a defaulted-but-not-stored Service.
}

// --- apps/v1 ---

func defaultDeployment(d *appsv1.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = new(int32(1))
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	// Recreate gets no rollingUpdate block; one written by the user is left
	// for validation to reject.
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = new(intstr.FromString("25%"))
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			s.Strategy.RollingUpdate.MaxSurge = new(intstr.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = new(int32(10))
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = new(int32(600))
	}
	defaultPodTemplateSpec(&s.Template)
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = new(int32(1))
	}
	defaultPodTemplateSpec(&rs.Spec.Template)
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	u := &ds.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if u.RollingUpdate.MaxUnavailable == nil {
			u.RollingUpdate.MaxUnavailable = new(intstr.FromInt32(1))
		}
		if u.RollingUpdate.MaxSurge == nil {
			u.RollingUpdate.MaxSurge = new(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = new(int32(10))
	}
	defaultPodTemplateSpec(&ds.Spec.Template)
}

func defaultStatefulSet(sts *appsv1.StatefulSet) {
	s := &sts.Spec
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	// Subtle, and upstream's: the rollingUpdate block is only created when
	// the type itself was defaulted. "type: RollingUpdate" written without a
	// rollingUpdate block keeps it nil (and so gets no partition either).
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := s.UpdateStrategy.RollingUpdate; s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil {
		if ru.Partition == nil {
			ru.Partition = new(int32(0))
		}
		if ru.MaxUnavailable == nil { // MaxUnavailableStatefulSet, beta and on
			ru.MaxUnavailable = new(intstr.FromInt32(1))
		}
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if s.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		s.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		s.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Replicas == nil {
		s.Replicas = new(int32(1))
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = new(int32(10))
	}
	defaultPodTemplateSpec(&s.Template)
	for i := range s.VolumeClaimTemplates {
		defaultPVCTemplate(&s.VolumeClaimTemplates[i])
	}
}

// defaultPVCTemplate is what the generated StatefulSet defaulter does to a
// volumeClaimTemplate: it is a whole PersistentVolumeClaim object, status
// included, so upstream stores "status: {phase: Pending}" in the template.
func defaultPVCTemplate(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	defaultPVCSpec(&pvc.Spec)
	roundResourceList(pvc.Status.Capacity)
	roundResourceList(pvc.Status.AllocatedResources)
}

func defaultPVCSpec(s *corev1.PersistentVolumeClaimSpec) {
	if s.VolumeMode == nil {
		s.VolumeMode = new(corev1.PersistentVolumeFilesystem)
	}
	roundResourceList(s.Resources.Limits)
	roundResourceList(s.Resources.Requests)
}

// --- batch/v1 ---

func defaultJob(j *batchv1.Job) {
	s := &j.Spec
	// A non-parallel job may leave both unset; otherwise only parallelism
	// defaults, and a nil completions means "until one pod succeeds".
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = new(int32(1))
		s.Parallelism = new(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = new(int32(1))
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = new(int32(math.MaxInt32))
		} else {
			s.BackoffLimit = new(int32(6))
		}
	}
	// The Job (alone among the workloads) takes its labels from the template
	// when it has none; copied, so the two maps don't alias.
	if tl := s.Template.Labels; tl != nil && len(j.Labels) == 0 {
		j.Labels = make(map[string]string, len(tl))
		for k, v := range tl {
			j.Labels[k] = v
		}
	}
	if s.CompletionMode == nil {
		s.CompletionMode = new(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = new(false)
	}
	if s.PodReplacementPolicy == nil {
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = new(batchv1.Failed)
		} else {
			s.PodReplacementPolicy = new(batchv1.TerminatingOrFailed)
		}
	}
	if s.ManualSelector == nil {
		s.ManualSelector = new(false)
	}
	defaultPodFailurePolicy(s.PodFailurePolicy)
	// Upstream runs the pod-spec defaults on a Job's template too, so a
	// template without restartPolicy gets "Always" and validation then
	// rejects it, as kubectl users know ("Unsupported value: \"Always\"").
	defaultPodTemplateSpec(&s.Template)
}

func defaultPodFailurePolicy(p *batchv1.PodFailurePolicy) {
	if p == nil {
		return
	}
	for i := range p.Rules {
		for k := range p.Rules[i].OnPodConditions {
			if c := &p.Rules[i].OnPodConditions[k]; c.Status == "" {
				c.Status = corev1.ConditionTrue
			}
		}
	}
}

func defaultCronJob(cj *batchv1.CronJob) {
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = new(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = new(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = new(int32(1))
	}
	// The job template is not a Job: SetDefaults_Job does not run on it
	// (no completions, backoffLimit, ... until a Job is created from it);
	// only the nested types' defaulters do.
	defaultPodFailurePolicy(s.JobTemplate.Spec.PodFailurePolicy)
	defaultPodTemplateSpec(&s.JobTemplate.Spec.Template)
}
