package gitops

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
)

// Diff implements api.Syncer: what applying each source's latest revision
// (not a pinned one) would change, computed as the apply computes it,
// without writing. A source that has not fetched yet, or whose latest
// revision does not validate or would be refused, fails the call.
func (c *Controller) Diff(ctx context.Context, source string) ([]api.ObjectDiff, error) {
	names, err := c.namesFor(source)
	if err != nil {
		return nil, err
	}
	var out []api.ObjectDiff
	for _, name := range names {
		c.mu.Lock()
		snap := c.state[name].latest
		c.mu.Unlock()
		if snap == nil {
			return nil, fmt.Errorf("source %q has not fetched a revision yet; try again in a moment", name)
		}
		objs, err := decodeFiles(snap.Files)
		if err != nil {
			return nil, fmt.Errorf("source %q revision %s: %w", name, shortRevision(snap.Revision), err)
		}
		allowPruneAll := c.sources[name].Spec().AllowPruneAll
		if obj, err := c.st.Get(ctx, sources.Kind, "", name); err == nil {
			allowPruneAll = obj.(*sources.Resource).Spec.AllowPruneAll
		}
		res, leaving, err := c.plan(ctx, name, snap.Revision, allowPruneAll, objs.objects)
		if err != nil {
			return nil, fmt.Errorf("source %q revision %s: %w", name, shortRevision(snap.Revision), err)
		}
		diffs, err := renderDiffs(res, leaving)
		if err != nil {
			return nil, err
		}
		out = append(out, diffs...)
	}
	return out, nil
}

// DiffFiles implements api.Syncer: what applying files (`berth diff
// PATH`) would change. They are decoded and validated as a revision is;
// an object already in the store is merged as its source would merge it.
// Nothing is pruned: files are not a whole source.
func (c *Controller) DiffFiles(ctx context.Context, files []sources.File) ([]api.ObjectDiff, error) {
	objs, err := decodeFiles(files)
	if err != nil {
		return nil, err
	}
	res := &applyResult{}
	for _, d := range objs.objects {
		live, err := c.st.Get(ctx, d.key.Kind, d.key.Namespace, d.key.Name)
		if errors.Is(err, store.ErrNotFound) {
			live, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		source := ""
		if live != nil {
			source = metaOf(live).GetLabels()[LabelSource]
		}
		dec, err := c.decide(d, live, source, "", nil)
		if err != nil {
			return nil, err
		}
		if source == "" && dec.out != nil {
			// Not a source's: shown without the source label.
			m := metaOf(dec.out)
			l := m.GetLabels()
			delete(l, LabelSource)
			m.SetLabels(l)
		}
		res.decisions = append(res.decisions, dec)
	}
	return renderDiffs(res, nil)
}

func (c *Controller) namesFor(source string) ([]string, error) {
	if source == "" {
		return c.names, nil
	}
	if _, ok := c.sources[source]; !ok {
		return nil, fmt.Errorf("no source named %q (the server has %v)", source, c.names)
	}
	return []string{source}, nil
}

// renderDiffs turns a plan into object diffs: creates and updates in
// apply order, then prunes.
func renderDiffs(res *applyResult, prune map[objectKey]store.Object) ([]api.ObjectDiff, error) {
	var out []api.ObjectDiff
	add := func(k objectKey, action string, live, desired store.Object) error {
		lm, dm, err := diffMaps(live, desired)
		if err != nil {
			return err
		}
		ly, err := yamlText(lm)
		if err != nil {
			return err
		}
		dy, err := yamlText(dm)
		if err != nil {
			return err
		}
		text := unifiedDiff(ly, dy, "live", "desired")
		if text == "" {
			return nil
		}
		out = append(out, api.ObjectDiff{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name, Action: action, Diff: text})
		return nil
	}
	for _, d := range res.decisions {
		var err error
		switch d.verdict {
		case verdictCreate:
			err = add(d.d.key, api.DiffCreate, nil, d.out)
		case verdictUpdate:
			err = add(d.d.key, api.DiffUpdate, d.live, d.out)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, k := range res.pruned {
		if err := add(k, api.DiffDelete, prune[k], nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func yamlText(m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := yaml.Marshal(m)
	return string(b), err
}

// diffMaps renders the two sides of a diff as JSON objects without the
// noise a reader does not act on: server-set metadata, status, and
// berth's bookkeeping annotations; Secret values are masked.
func diffMaps(live, desired store.Object) (map[string]any, map[string]any, error) {
	var lm, dm map[string]any
	var err error
	if live != nil {
		if lm, err = cleanMap(live); err != nil {
			return nil, nil, err
		}
	}
	if desired != nil {
		if dm, err = cleanMap(desired); err != nil {
			return nil, nil, err
		}
	}
	maskSecret(lm, dm)
	return lm, dm, nil
}

func cleanMap(obj store.Object) (map[string]any, error) {
	m, err := toMap(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"} {
			delete(md, f)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, AnnotationLastApplied)
			delete(ann, AnnotationRevision)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return m, nil
}

// maskSecret hides a Secret's values as kubectl diff does: "***" for a
// value that is the same on both sides (or on one side only), "***
// (before)" and "*** (after)" for one that changes, so a diff shows which
// keys change without printing any value.
func maskSecret(live, desired map[string]any) {
	isSecret := func(m map[string]any) bool { return m != nil && m["kind"] == "Secret" }
	if !isSecret(live) && !isSecret(desired) {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		lv, _ := mapAt(live, field)
		dv, _ := mapAt(desired, field)
		keys := map[string]bool{}
		for k := range lv {
			keys[k] = true
		}
		for k := range dv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.Sort(sorted)
		for _, k := range sorted {
			l, inL := lv[k]
			d, inD := dv[k]
			switch {
			case inL && inD && !reflect.DeepEqual(l, d):
				lv[k], dv[k] = "*** (before)", "*** (after)"
			default:
				if inL {
					lv[k] = "***"
				}
				if inD {
					dv[k] = "***"
				}
			}
		}
	}
}

func mapAt(m map[string]any, key string) (map[string]any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m[key].(map[string]any)
	return v, ok
}
