package gitops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// merge3 is kubectl apply's three-way merge, on JSON objects: it changes
// live in place by what changed from last (what Git said the previous
// time) to desired (what Git says now), and returns it.
//
//   - A field desired sets wins over live's value.
//   - A field last set and desired no longer sets is removed (Git stopped
//     declaring it); so is a field desired sets to null.
//   - A field neither set is left as live has it: what controllers and
//     users wrote (status, spec.paused of `rollout pause`, the restartedAt
//     annotation of `rollout restart`, deployment.kubernetes.io/revision).
//
// Maps merge by key, recursively. Lists are replaced whole by desired's:
// simpler and more predictable than Kubernetes' strategic merge by
// per-field keys, and what a manifest that lists containers means. The
// price: an item someone added to a list Git also sets is reverted.
func merge3(live, last, desired map[string]any) map[string]any {
	if live == nil {
		live = map[string]any{}
	}
	for k, dv := range desired {
		if dv == nil {
			delete(live, k)
			continue
		}
		if dm, ok := dv.(map[string]any); ok {
			if lm, ok := live[k].(map[string]any); ok {
				lastSub, _ := last[k].(map[string]any)
				live[k] = merge3(lm, lastSub, dm)
				continue
			}
		}
		live[k] = dv
	}
	for k := range last {
		if _, still := desired[k]; !still {
			delete(live, k)
		}
	}
	return live
}

// decodeJSONMap parses a JSON object keeping numbers as written.
func decodeJSONMap(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// toMap turns a typed object into its JSON object form.
func toMap(obj store.Object) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return decodeJSONMap(data)
}

// fromMap decodes m into a new object of like's type.
func fromMap(m map[string]any, like store.Object) (store.Object, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := reflect.New(reflect.TypeOf(like).Elem()).Interface().(store.Object)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
}

// mergeObject computes what applying desired (with last the previous
// manifest, nil for an object not made by Git) makes of live: live with
// its spec (every field but metadata and status), labels and annotations
// replaced by the three-way merge's, defaulted as the API server would.
// Everything else of live (status, uid, ownerReferences...) is kept as is.
func mergeObject(live store.Object, last, desired map[string]any) (store.Object, error) {
	lm, err := toMap(live)
	if err != nil {
		return nil, err
	}
	m3 := merge3(lm, last, deepCopyMap(desired))
	kind, _ := desired["kind"].(string)
	for _, path := range retainKeys[kind] {
		retain(m3, desired, path)
	}
	merged, err := fromMap(m3, live)
	if err != nil {
		return nil, fmt.Errorf("merging with the live object: %w", err)
	}
	workloads.Default(merged)
	workloads.Normalize(merged)
	out := live.DeepCopyObject()
	copySpec(out, merged)
	om, mm := metaOf(out), metaOf(merged)
	om.SetLabels(mm.GetLabels())
	om.SetAnnotations(mm.GetAnnotations())
	return out, nil
}

// retainKeys are, by kind, the union structs that Kubernetes patches with
// the retainKeys strategy: a strategy type and the one member that goes
// with it. Merged key by key, a switch to Recreate would keep the live
// rollingUpdate (a combination the API server, and berth validate,
// refuse).
var retainKeys = map[string][][]string{
	"Deployment":  {{"spec", "strategy"}},
	"DaemonSet":   {{"spec", "updateStrategy"}},
	"StatefulSet": {{"spec", "updateStrategy"}},
}

// retain applies retainKeys at path: when desired sets the map there,
// the merged map keeps only the keys desired names (defaulting fills in
// the rest afterwards).
func retain(merged, desired map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		var ok bool
		if merged, ok = merged[p].(map[string]any); !ok {
			return
		}
		if desired, ok = desired[p].(map[string]any); !ok {
			return
		}
	}
	leaf := path[len(path)-1]
	dm, ok := desired[leaf].(map[string]any)
	if !ok {
		return
	}
	mm, ok := merged[leaf].(map[string]any)
	if !ok {
		return
	}
	for k := range mm {
		if _, named := dm[k]; !named {
			delete(mm, k)
		}
	}
}

// deepCopyMap copies a JSON object, so that merging never shares desired's
// maps and slices with the result (desired is reused across merges).
func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyJSON(v)
	}
	return out
}

func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i := range t {
			out[i] = deepCopyJSON(t[i])
		}
		return out
	}
	return v
}

// specFields are the top-level fields of a kind's struct other than
// TypeMeta, ObjectMeta and Status: Spec, or Data/StringData/Type for a
// Secret.
func specFields(t reflect.Type) []int {
	var out []int
	for i := range t.NumField() {
		switch t.Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		out = append(out, i)
	}
	return out
}

// copySpec copies src's spec fields onto dst (same type).
func copySpec(dst, src store.Object) {
	dv, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for _, i := range specFields(dv.Type()) {
		dv.Field(i).Set(sv.Field(i))
	}
}

// differs reports whether a and b (same type) differ in what GitOps
// writes: the spec fields, labels or annotations.
func differs(a, b store.Object) bool {
	am, bm := metaOf(a), metaOf(b)
	if !maps.Equal(am.GetLabels(), bm.GetLabels()) || !maps.Equal(am.GetAnnotations(), bm.GetAnnotations()) {
		return true
	}
	av, bv := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for _, i := range specFields(av.Type()) {
		if !equality.Semantic.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			return true
		}
	}
	return false
}

// metaOf returns an object's metadata; every kind the store holds has it.
func metaOf(obj store.Object) metav1.Object {
	return obj.(metav1.Object)
}
