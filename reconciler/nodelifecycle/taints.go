package nodelifecycle

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TaintEdit is what `berth taint` arguments ask for: taints to add
// ("k=v:Effect", "k:Effect") and to remove ("k:Effect-", "k-": every
// effect).
type TaintEdit struct {
	Add    []corev1.Taint
	Remove []corev1.Taint
}

// ParseTaintArgs parses `berth taint` arguments as kubectl's ParseTaints
// does, with its messages.
func ParseTaintArgs(args []string) (TaintEdit, error) {
	var e TaintEdit
	seen := map[corev1.TaintEffect]map[string]bool{}
	for _, spec := range args {
		if strings.HasSuffix(spec, "-") {
			t, err := ParseTaint(strings.TrimSuffix(spec, "-"))
			if err != nil {
				return TaintEdit{}, err
			}
			e.Remove = append(e.Remove, corev1.Taint{Key: t.Key, Effect: t.Effect})
			continue
		}
		t, err := ParseTaint(spec)
		if err != nil {
			return TaintEdit{}, err
		}
		if t.Effect == "" {
			return TaintEdit{}, fmt.Errorf("unknown taint spec: %v", spec)
		}
		if seen[t.Effect][t.Key] {
			return TaintEdit{}, fmt.Errorf("duplicated taints with the same key and effect: %v", t.ToString())
		}
		if seen[t.Effect] == nil {
			seen[t.Effect] = map[string]bool{}
		}
		seen[t.Effect][t.Key] = true
		e.Add = append(e.Add, t)
	}
	for _, r := range e.Remove {
		for _, a := range e.Add {
			if a.Key == r.Key && (r.Effect == "" || r.Effect == a.Effect) {
				return TaintEdit{}, fmt.Errorf("can not both modify and remove the following taint(s) in the same command: %s", r.ToString())
			}
		}
	}
	if len(e.Add) == 0 && len(e.Remove) == 0 {
		return TaintEdit{}, errors.New("at least one taint update is required")
	}
	return e, nil
}

// ParseTaint parses one "key[=value][:effect]" (kubectl's parseTaint; the
// effect may be missing, for removals and agent flags that add it).
func ParseTaint(spec string) (corev1.Taint, error) {
	var t corev1.Taint
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 1:
		t.Key = parts[0]
	case 2:
		t.Effect = corev1.TaintEffect(parts[1])
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return t, fmt.Errorf("invalid taint effect: %v, unsupported taint effect", t.Effect)
		}
		kv := strings.Split(parts[0], "=")
		if len(kv) > 2 {
			return t, fmt.Errorf("invalid taint spec: %v", spec)
		}
		t.Key = kv[0]
		if len(kv) == 2 {
			t.Value = kv[1]
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				return t, fmt.Errorf("invalid taint spec: %v, %s", spec, strings.Join(errs, "; "))
			}
		}
	default:
		return t, fmt.Errorf("invalid taint spec: %v", spec)
	}
	if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
		return t, fmt.Errorf("invalid taint spec: %v, %s", spec, strings.Join(errs, "; "))
	}
	return t, nil
}

// Taint edit outcomes, kubectl's words after "node/NAME ".
const (
	Tainted   = "tainted"
	Untainted = "untainted"
	Modified  = "modified"
)

// Apply returns taints edited and kubectl's word for what happened
// (reorganizeTaints): a taint to add whose key and effect are already
// there needs overwrite ("node n already has k taint(s) with same
// effect(s) and --overwrite is false"); a taint to remove that is not
// there is an error ("taint \"k:NoSchedule\" not found"), with what could
// be done still returned.
func (e TaintEdit) Apply(node string, taints []corev1.Taint, overwrite bool) ([]corev1.Taint, string, error) {
	if !overwrite {
		var dup []string
		for _, a := range e.Add {
			for _, t := range taints {
				if t.Key == a.Key && t.Effect == a.Effect {
					dup = append(dup, a.Key)
				}
			}
		}
		if len(dup) > 0 {
			return nil, "", fmt.Errorf("node %s already has %s taint(s) with same effect(s) and --overwrite is false", node, strings.Join(dup, ","))
		}
	}
	out := append([]corev1.Taint(nil), e.Add...)
	added := len(e.Add) > 0
	for _, t := range taints {
		replaced := false
		for _, a := range e.Add {
			if a.Key == t.Key && a.Effect == t.Effect {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	var errs []error
	deleted := false
	for _, r := range e.Remove {
		n := len(out)
		out = deleteTaint(out, r)
		if len(out) == n {
			errs = append(errs, fmt.Errorf("taint %q not found", r.ToString()))
		} else {
			deleted = true
		}
	}
	op := Untainted
	switch {
	case (added && deleted) || overwrite:
		op = Modified
	case added:
		op = Tainted
	}
	return out, op, errors.Join(errs...)
}

// deleteTaint removes the taints with r's key and effect (any effect when
// r has none).
func deleteTaint(taints []corev1.Taint, r corev1.Taint) []corev1.Taint {
	out := taints[:0:0]
	for _, t := range taints {
		if t.Key == r.Key && (r.Effect == "" || t.Effect == r.Effect) {
			continue
		}
		out = append(out, t)
	}
	return out
}
