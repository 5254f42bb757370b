package workloads

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Reference is a ConfigMap or Secret that a pod spec uses.
type Reference struct {
	// Kind is "ConfigMap" or "Secret".
	Kind string
	// Namespace is the referring object's metadata.namespace, as decoded and
	// defaulted: pods only see objects of their own namespace.
	Namespace, Name string
	// Path is where the reference is written
	// (spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef).
	Path *field.Path
	// Optional is set when the pod starts without the object.
	Optional bool
}

// configReferences lists every ConfigMap and Secret the pod specs of obj
// refer to: env valueFrom, envFrom, configMap/secret/projected volumes and
// imagePullSecrets, in document order.
func configReferences(obj runtime.Object) []Reference {
	var ns string
	var spec *corev1.PodSpec
	var path *field.Path
	template := specPath.Child("template", "spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		ns, spec, path = o.Namespace, &o.Spec, specPath
	case *appsv1.Deployment:
		ns, spec, path = o.Namespace, &o.Spec.Template.Spec, template
	case *appsv1.ReplicaSet:
		ns, spec, path = o.Namespace, &o.Spec.Template.Spec, template
	case *appsv1.DaemonSet:
		ns, spec, path = o.Namespace, &o.Spec.Template.Spec, template
	case *appsv1.StatefulSet:
		ns, spec, path = o.Namespace, &o.Spec.Template.Spec, template
	case *batchv1.Job:
		ns, spec, path = o.Namespace, &o.Spec.Template.Spec, template
	case *batchv1.CronJob:
		ns, spec, path = o.Namespace, &o.Spec.JobTemplate.Spec.Template.Spec, specPath.Child("jobTemplate", "spec", "template", "spec")
	default:
		return nil
	}
	r := refCollector{namespace: ns}
	r.podSpec(spec, path)
	return r.refs
}

// refCollector gathers the references of one pod spec.
type refCollector struct {
	namespace string
	refs      []Reference
}

func (r *refCollector) add(kind, name string, optional *bool, path *field.Path) {
	if name == "" {
		return // reported by validation
	}
	r.refs = append(r.refs, Reference{
		Kind: kind, Namespace: r.namespace, Name: name, Path: path,
		Optional: optional != nil && *optional,
	})
}

func (r *refCollector) podSpec(spec *corev1.PodSpec, path *field.Path) {
	for i := range spec.InitContainers {
		r.container(&spec.InitContainers[i], path.Child("initContainers").Index(i))
	}
	for i := range spec.Containers {
		r.container(&spec.Containers[i], path.Child("containers").Index(i))
	}
	for i := range spec.Volumes {
		r.volume(&spec.Volumes[i].VolumeSource, path.Child("volumes").Index(i))
	}
	for i, s := range spec.ImagePullSecrets {
		r.add("Secret", s.Name, nil, path.Child("imagePullSecrets").Index(i))
	}
}

func (r *refCollector) container(ctr *corev1.Container, path *field.Path) {
	for i, ev := range ctr.Env {
		if ev.ValueFrom == nil {
			continue
		}
		p := path.Child("env").Index(i).Child("valueFrom")
		if ref := ev.ValueFrom.ConfigMapKeyRef; ref != nil {
			r.add("ConfigMap", ref.Name, ref.Optional, p.Child("configMapKeyRef"))
		}
		if ref := ev.ValueFrom.SecretKeyRef; ref != nil {
			r.add("Secret", ref.Name, ref.Optional, p.Child("secretKeyRef"))
		}
	}
	for i, src := range ctr.EnvFrom {
		p := path.Child("envFrom").Index(i)
		if ref := src.ConfigMapRef; ref != nil {
			r.add("ConfigMap", ref.Name, ref.Optional, p.Child("configMapRef"))
		}
		if ref := src.SecretRef; ref != nil {
			r.add("Secret", ref.Name, ref.Optional, p.Child("secretRef"))
		}
	}
}

func (r *refCollector) volume(v *corev1.VolumeSource, path *field.Path) {
	if v.ConfigMap != nil {
		r.add("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional, path.Child("configMap"))
	}
	if v.Secret != nil {
		r.add("Secret", v.Secret.SecretName, v.Secret.Optional, path.Child("secret"))
	}
	if v.Projected == nil {
		return
	}
	for i, src := range v.Projected.Sources {
		p := path.Child("projected", "sources").Index(i)
		if src.ConfigMap != nil {
			r.add("ConfigMap", src.ConfigMap.Name, src.ConfigMap.Optional, p.Child("configMap"))
		}
		if src.Secret != nil {
			r.add("Secret", src.Secret.Name, src.Secret.Optional, p.Child("secret"))
		}
	}
}
