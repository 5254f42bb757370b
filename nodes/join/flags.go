package join

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ParseLabels reads --labels: "k=v,k2=v2", each key a qualified name
// ("example.com/tier") and each value a label value, checked with
// upstream's rules and messages. "" is no labels.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("invalid label %q: expected key=value", kv)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid label value %q of %s: %s", v, k, strings.Join(errs, "; "))
		}
		if old, dup := out[k]; dup && old != v {
			return nil, fmt.Errorf("invalid labels: %s is given twice (%q and %q)", k, old, v)
		}
		out[k] = v
	}
	return out, nil
}

// ParseTaints reads --taints: "key=value:Effect,key:Effect", as kubelet's
// --register-with-taints and kubectl taint spell them, with upstream's
// rules: a qualified-name key, a label-value value, and an effect of
// NoSchedule, PreferNoSchedule or NoExecute. "" is no taints.
func ParseTaints(s string) ([]corev1.Taint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []corev1.Taint
	seen := map[string]bool{}
	for _, spec := range strings.Split(s, ",") {
		t, err := parseTaint(strings.TrimSpace(spec))
		if err != nil {
			return nil, err
		}
		id := t.Key + ":" + string(t.Effect)
		if seen[id] {
			return nil, fmt.Errorf("invalid taint spec: %v, duplicate taint key %q with effect %s", spec, t.Key, t.Effect)
		}
		seen[id] = true
		out = append(out, t)
	}
	return out, nil
}

// parseTaint is upstream's parseTaint (k8s.io/kubernetes/pkg/util/taints).
func parseTaint(st string) (corev1.Taint, error) {
	var t corev1.Taint
	parts := strings.Split(st, ":")
	if len(parts) != 2 || parts[1] == "" {
		return t, fmt.Errorf("invalid taint spec: %v, expected key=value:Effect or key:Effect", st)
	}
	t.Effect = corev1.TaintEffect(parts[1])
	switch t.Effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return t, fmt.Errorf("invalid taint spec: %v, invalid taint effect: %v, unsupported taint effect (NoSchedule, PreferNoSchedule or NoExecute)", st, parts[1])
	}
	key, value, _ := strings.Cut(parts[0], "=")
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return t, fmt.Errorf("invalid taint spec: %v, %s", st, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		return t, fmt.Errorf("invalid taint spec: %v, %s", st, strings.Join(errs, "; "))
	}
	t.Key, t.Value = key, value
	return t, nil
}
