package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/berth-io/berth/nodes"
	"github.com/berth-io/berth/reconciler/store"
)

// configError is a problem with a container's configuration that the
// user must fix (a missing ConfigMap, an undeclared volume): the
// container waits with reason CreateContainerConfigError.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func configErrorf(format string, args ...any) error {
	return configError{fmt.Errorf(format, args...)}
}

// envSources caches the ConfigMaps and Secrets one container start reads.
type envSources struct {
	a          *Agent
	ctx        context.Context
	ns         string
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

// configMap returns the named ConfigMap; a missing one is (nil, nil) when
// optional, else an error in the API's words (`configmap "x" not found`).
func (s *envSources) configMap(name string, optional *bool) (*corev1.ConfigMap, error) {
	if cm, ok := s.configMaps[name]; ok {
		return cm, nil
	}
	obj, err := s.a.opts.Store.Get(s.ctx, "ConfigMap", s.ns, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, configErrorf("configmap %q not found", name)
	case err != nil:
		return nil, err
	}
	cm := obj.(*corev1.ConfigMap)
	s.configMaps[name] = cm
	return cm, nil
}

// secret is configMap for Secrets; stringData is merged over data, as
// the API server does on write.
func (s *envSources) secret(name string, optional *bool) (*corev1.Secret, error) {
	if sec, ok := s.secrets[name]; ok {
		return sec, nil
	}
	obj, err := s.a.opts.Store.Get(s.ctx, "Secret", s.ns, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, configErrorf("secret %q not found", name)
	case err != nil:
		return nil, err
	}
	sec := obj.(*corev1.Secret).DeepCopy()
	if len(sec.StringData) > 0 {
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		for k, v := range sec.StringData {
			sec.Data[k] = []byte(v)
		}
	}
	s.secrets[name] = sec
	return sec, nil
}

func (a *Agent) sources(ctx context.Context, ns string) *envSources {
	return &envSources{a: a, ctx: ctx, ns: ns, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
}

// containerEnv resolves c's environment as kubelet's
// makeEnvironmentVariables: envFrom first (with its prefix; keys that are
// not valid names are skipped with an event), then env in order, literal
// values expanding $(VAR) over what is defined so far, valueFrom read
// from ConfigMaps, Secrets and the pod's fields (not expanded). A later
// definition of a name replaces an earlier one in place.
func (a *Agent) containerEnv(ctx context.Context, r *podRun, c *corev1.Container) ([]nodes.EnvVar, error) {
	src := a.sources(ctx, r.pod.Namespace)
	var order []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, ef := range c.EnvFrom {
		var data map[string]string
		var what, name string
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := src.configMap(ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
			if err != nil {
				return nil, err
			}
			if cm == nil {
				continue
			}
			data, what, name = cm.Data, "configMap", cm.Name
		case ef.SecretRef != nil:
			sec, err := src.secret(ef.SecretRef.Name, ef.SecretRef.Optional)
			if err != nil {
				return nil, err
			}
			if sec == nil {
				continue
			}
			data = map[string]string{}
			for k, v := range sec.Data {
				data[k] = string(v)
			}
			what, name = "secret", sec.Name
		default:
			continue
		}
		var invalid []string
		for _, k := range sortedKeys(data) {
			key := ef.Prefix + k
			if len(validation.IsEnvVarName(key)) != 0 {
				invalid = append(invalid, key)
				continue
			}
			set(key, data[k])
		}
		if len(invalid) > 0 {
			a.event(r.pod, corev1.EventTypeWarning, "InvalidEnvironmentVariableNames",
				"Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
				strings.Join(invalid, ", "), what, r.pod.Namespace, name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vals))
			continue
		}
		v, ok, err := a.envValueFrom(src, r, e.ValueFrom)
		if err != nil {
			return nil, err
		}
		if ok {
			set(e.Name, v)
		}
	}
	out := make([]nodes.EnvVar, 0, len(order))
	for _, k := range order {
		out = append(out, nodes.EnvVar{Name: k, Value: vals[k]})
	}
	return out, nil
}

// envValueFrom resolves one valueFrom; ok is false for an optional
// reference that is absent (the variable is not set).
func (a *Agent) envValueFrom(src *envSources, r *podRun, vf *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		cm, err := src.configMap(ref.Name, ref.Optional)
		if err != nil || cm == nil {
			return "", false, err
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return v, true, nil
		}
		if v, ok := cm.BinaryData[ref.Key]; ok {
			return string(v), true, nil
		}
		if ref.Optional != nil && *ref.Optional {
			return "", false, nil
		}
		return "", false, configErrorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, r.pod.Namespace, ref.Name)
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		sec, err := src.secret(ref.Name, ref.Optional)
		if err != nil || sec == nil {
			return "", false, err
		}
		if v, ok := sec.Data[ref.Key]; ok {
			return string(v), true, nil
		}
		if ref.Optional != nil && *ref.Optional {
			return "", false, nil
		}
		return "", false, configErrorf("couldn't find key %s in Secret %s/%s", ref.Key, r.pod.Namespace, ref.Name)
	case vf.FieldRef != nil:
		v, err := a.podField(r, vf.FieldRef.FieldPath)
		return v, err == nil, err
	case vf.ResourceFieldRef != nil:
		return "", false, configErrorf("resourceFieldRef %q is not supported by berth yet", vf.ResourceFieldRef.Resource)
	}
	return "", false, nil
}

// podField is a downward-API field of the pod (kubelet's podFieldSelectorRuntimeValue).
func (a *Agent) podField(r *podRun, path string) (string, error) {
	pod := r.pod
	podIP, podIPs := r.sandbox.IP, r.sandbox.IPs
	if pod.Spec.HostNetwork {
		podIP, podIPs = a.hostIP, []string{a.hostIP}
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIP, nil
	case "status.podIPs":
		return strings.Join(podIPs, ","), nil
	case "status.hostIP", "status.hostIPs":
		return a.hostIP, nil
	}
	for _, f := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels", pod.Labels}, {"metadata.annotations", pod.Annotations}} {
		if path == f.prefix {
			var lines []string
			for _, k := range sortedKeys(f.m) {
				lines = append(lines, fmt.Sprintf("%s=%q", k, f.m[k]))
			}
			return strings.Join(lines, "\n"), nil
		}
		if rest, ok := strings.CutPrefix(path, f.prefix+"['"); ok && strings.HasSuffix(rest, "']") {
			return f.m[strings.TrimSuffix(rest, "']")], nil
		}
	}
	return "", configErrorf("unsupported fieldRef %q", path)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// envMap turns resolved env into a lookup for expand.
func envMap(env []nodes.EnvVar) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}

// expandAll expands $(VAR) in each string (command and args).
func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// expand replaces $(NAME) with vars[NAME] as Kubernetes does
// (third_party/forked/golang/expansion): $$ is a literal $, a reference
// to an undefined name and an unclosed $( stay as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += end + 2
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}
