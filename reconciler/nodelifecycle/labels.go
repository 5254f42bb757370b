package nodelifecycle

import (
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// LabelEdit is what `berth label` arguments ask for: labels to set
// ("k=v") and keys to remove ("k-").
type LabelEdit struct {
	Set    map[string]string
	Remove []string
}

// ParseLabelArgs parses `berth label` arguments as kubectl's parseLabels
// does, and checks keys and values with upstream's validation (which
// kubectl leaves to the API server), so a bad one fails before anything
// is sent.
func ParseLabelArgs(args []string) (LabelEdit, error) {
	e := LabelEdit{Set: map[string]string{}}
	for _, spec := range args {
		switch {
		case strings.Contains(spec, "="):
			parts := strings.Split(spec, "=")
			if len(parts) != 2 {
				return LabelEdit{}, fmt.Errorf("invalid label spec: %v", spec)
			}
			if errs := validation.IsQualifiedName(parts[0]); len(errs) != 0 {
				return LabelEdit{}, fmt.Errorf("invalid label key: %q: %s", spec, strings.Join(errs, "; "))
			}
			if errs := validation.IsValidLabelValue(parts[1]); len(errs) != 0 {
				return LabelEdit{}, fmt.Errorf("invalid label value: %q: %s", spec, strings.Join(errs, "; "))
			}
			e.Set[parts[0]] = parts[1]
		case strings.HasSuffix(spec, "-") && len(spec) > 1:
			key := spec[:len(spec)-1]
			if errs := validation.IsQualifiedName(key); len(errs) != 0 {
				return LabelEdit{}, fmt.Errorf("invalid label key: %q: %s", spec, strings.Join(errs, "; "))
			}
			e.Remove = append(e.Remove, key)
		default:
			return LabelEdit{}, fmt.Errorf("unknown label spec: %v", spec)
		}
	}
	for _, k := range e.Remove {
		if _, ok := e.Set[k]; ok {
			return LabelEdit{}, fmt.Errorf("can not both modify and remove a label in the same command")
		}
	}
	if len(e.Set) == 0 && len(e.Remove) == 0 {
		return LabelEdit{}, fmt.Errorf("at least one label update is required")
	}
	return e, nil
}

// Apply returns labels edited, whether anything changed, and the keys
// asked to be removed that were not there (kubectl warns: label "k" not
// found.). Changing an existing label's value needs overwrite, as
// kubectl's: "'k' already has a value (v), and --overwrite is false".
func (e LabelEdit) Apply(labels map[string]string, overwrite bool) (out map[string]string, changed bool, notFound []string, err error) {
	out = maps.Clone(labels)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range e.Set {
		if old, ok := out[k]; ok && old != v && !overwrite {
			return nil, false, nil, fmt.Errorf("'%s' already has a value (%s), and --overwrite is false", k, old)
		}
	}
	for k, v := range e.Set {
		if old, ok := out[k]; !ok || old != v {
			out[k] = v
			changed = true
		}
	}
	for _, k := range e.Remove {
		if _, ok := out[k]; !ok {
			notFound = append(notFound, k)
			continue
		}
		delete(out, k)
		changed = true
	}
	return out, changed, notFound, nil
}
