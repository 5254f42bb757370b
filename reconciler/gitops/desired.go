package gitops

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/sources"
	"github.com/berth-io/berth/workloads"
	"github.com/berth-io/berth/workloads/yamltree"
)

// PinHash is the value of AnnotationPinned for an object whose
// AnnotationLastApplied is lastApplied: the hex SHA-256 of the manifest's
// spec, that is every field but metadata and status, as canonical JSON.
// The rollout actions pin with it (rollout.PinValue calls it); the sync
// lifts the pin once a revision's manifest for the object hashes
// differently: a new revision that changes only the object's labels or
// annotations leaves the pin in place (SPEC.md: the pin ends when a
// revision "changes that object's spec"). A lastApplied that is not a
// JSON object is hashed whole.
func PinHash(lastApplied string) string {
	m, err := decodeJSONMap([]byte(lastApplied))
	if err != nil {
		return legacyPinHash(lastApplied)
	}
	delete(m, "metadata")
	delete(m, "status")
	canon, err := json.Marshal(m)
	if err != nil {
		return legacyPinHash(lastApplied)
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// legacyPinHash is the pin value of earlier versions: the hash of the
// whole last-applied manifest. A pin set that way still holds as long as
// revisions leave the object's manifest as it was.
func legacyPinHash(lastApplied string) string {
	sum := sha256.Sum256([]byte(lastApplied))
	return hex.EncodeToString(sum[:])
}

// pinHolds reports whether pin, an object's AnnotationPinned, still holds
// against lastApplied, a revision's manifest for the object.
func pinHolds(pin, lastApplied string) bool {
	return pin == PinHash(lastApplied) || pin == legacyPinHash(lastApplied)
}

// objectKey identifies an object in the store.
type objectKey struct {
	Kind, Namespace, Name string
}

func (k objectKey) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

func keyOf(obj store.Object) objectKey {
	m := metaOf(obj)
	return objectKey{Kind: obj.GetObjectKind().GroupVersionKind().Kind, Namespace: m.GetNamespace(), Name: m.GetName()}
}

// desiredObject is one object of a revision.
type desiredObject struct {
	key objectKey
	// typed is the object decoded and defaulted: what a create stores.
	typed store.Object
	// manifest is the document as written in Git (JSON object form), the
	// desired side of the three-way merge.
	manifest map[string]any
	// lastApplied is manifest as canonical JSON (keys sorted), the value
	// of AnnotationLastApplied: the same manifest always gives the same
	// string, so PinHash compares manifests, not formatting.
	lastApplied string
	origin      workloads.Origin
}

// revisionObjects is a decoded, valid revision.
type revisionObjects struct {
	objects  []*desiredObject // Namespaces first, then file order
	warnings []workloads.Diagnostic
}

// validationError is a revision that did not decode or validate.
type validationError struct {
	errors []workloads.Diagnostic
}

// maxErrorsInMessage is how many findings a status message quotes.
const maxErrorsInMessage = 3

func (e *validationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d error(s) in the manifests: ", len(e.errors))
	for i, d := range e.errors {
		if i == maxErrorsInMessage {
			fmt.Fprintf(&b, "; and %d more", len(e.errors)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// decodeFiles decodes and validates files as `berth validate` does. Any
// error finding fails the whole revision with a *validationError. An
// input with no manifests at all is not an error here: the prune-all
// guard decides what an empty revision may do.
func decodeFiles(files []sources.File) (*revisionObjects, error) {
	in := make([]workloads.File, len(files))
	for i, f := range files {
		in[i] = workloads.File{Path: f.Path, Data: f.Data}
	}
	objs, diags, _ := workloads.LoadFiles(in)
	out := &revisionObjects{}
	var errs []workloads.Diagnostic
	for _, d := range diags {
		switch {
		case d.Rule == workloads.RuleNoDocuments:
		case d.Severity == workloads.SeverityError:
			errs = append(errs, d)
		default:
			out.warnings = append(out.warnings, d)
		}
	}
	if errs != nil {
		return nil, &validationError{errors: errs}
	}
	for _, o := range objs {
		d, err := newDesired(o)
		if err != nil {
			return nil, err
		}
		out.objects = append(out.objects, d)
	}
	// Namespaces first, as Flux's staged apply: the objects in them follow.
	slices.SortStableFunc(out.objects, func(a, b *desiredObject) int {
		an, bn := a.key.Kind == "Namespace", b.key.Kind == "Namespace"
		switch {
		case an && !bn:
			return -1
		case bn && !an:
			return 1
		}
		return 0
	})
	return out, nil
}

func newDesired(o *workloads.Object) (*desiredObject, error) {
	m, err := decodeJSONMap(yamltree.AppendJSON(nil, o.Tree))
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", o.File, o.Line, o.Key(), err)
	}
	canon, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %s: %w", o.File, o.Line, o.Key(), err)
	}
	k := o.Key()
	return &desiredObject{
		key:         objectKey{Kind: k.Kind, Namespace: k.Namespace, Name: k.Name},
		typed:       o.Obj,
		manifest:    m,
		lastApplied: string(canon),
		origin:      o.Origin,
	}, nil
}

// desiredFromLive rebuilds an object's desired state from its own
// AnnotationLastApplied (for drift checks, which need no snapshot); ok is
// false when the object has none.
func desiredFromLive(live store.Object) (*desiredObject, bool) {
	last := metaOf(live).GetAnnotations()[AnnotationLastApplied]
	if last == "" {
		return nil, false
	}
	m, err := decodeJSONMap([]byte(last))
	if err != nil {
		return nil, false
	}
	return &desiredObject{key: keyOf(live), manifest: m, lastApplied: last}, true
}
