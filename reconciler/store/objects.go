package store

import (
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// This file holds the write semantics both implementations share: keys,
// errors, and what Create, Update and Delete do to an object's metadata.

// objKey builds the key of an object inside its kind. The separator sorts
// before every character a namespace may hold, so key order is namespace
// order, then name order ("a/x" before "a-b/x").
func objKey(namespace, name string) string {
	return namespace + "\x00" + name
}

// nsPrefix is the prefix of the keys of namespace's objects.
func nsPrefix(namespace string) string { return namespace + "\x00" }

// normalizeNamespace returns the namespace an object of kind k lives in:
// "" for cluster-scoped kinds, "default" for an empty namespace.
func normalizeNamespace(k *kindInfo, namespace string) string {
	if !k.namespaced {
		return ""
	}
	if namespace == "" {
		return metav1.NamespaceDefault
	}
	return namespace
}

// objError is an error about one object: "Deployment default/web already
// exists". errors.Is finds its sentinel.
type objError struct {
	kind, namespace, name string
	err                   error  // a sentinel: ErrNotFound, ErrConflict...
	detail                string // optional, before the sentinel's text
}

func (e *objError) Error() string {
	id := e.kind + " " + e.name
	if e.namespace != "" {
		id = e.kind + " " + e.namespace + "/" + e.name
	}
	switch {
	case e.detail != "":
		return id + ": " + e.detail + ": " + e.err.Error()
	case e.err == ErrNotFound || e.err == ErrAlreadyExists:
		return id + " " + e.err.Error()
	default:
		return id + ": " + e.err.Error()
	}
}

func (e *objError) Unwrap() error { return e.err }

func newObjError(k *kindInfo, namespace, name string, sentinel error, detailFormat string, args ...any) error {
	e := &objError{kind: k.gvk.Kind, namespace: namespace, name: name, err: sentinel}
	if detailFormat != "" {
		e.detail = fmt.Sprintf(detailFormat, args...)
	}
	return e
}

// accessor returns obj's metadata; every kind in the table has some.
func accessor(obj Object) metav1.Object {
	return obj.(metav1.Object)
}

// checkName refuses names that cannot be keys.
func checkName(k *kindInfo, namespace, name string) error {
	if name == "" {
		return newObjError(k, namespace, name, ErrInvalid, "metadata.name is required")
	}
	if strings.ContainsAny(name, "/\x00") || strings.ContainsAny(namespace, "/\x00") {
		return newObjError(k, namespace, name, ErrInvalid, "names may not contain '/'")
	}
	return nil
}

// parseRV parses a metadata.resourceVersion; "" is 0.
func parseRV(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("resourceVersion %q is not a positive integer", s)
	}
	return v, nil
}

// generateNameMaxPrefix is Kubernetes' limit: a generated name is at most
// 63 characters, 5 of them random.
const (
	generateNameMaxPrefix = 58
	generateNameAlphabet  = "bcdfghjklmnpqrstvwxz2456789"
	generateNameRetries   = 8
)

// generatedName is prefix (truncated as Kubernetes does) plus 5 characters
// drawn from rnd.
func generatedName(prefix string, rnd func(n int) int) string {
	if len(prefix) > generateNameMaxPrefix {
		prefix = prefix[:generateNameMaxPrefix]
	}
	var b strings.Builder
	b.Grow(len(prefix) + 5)
	b.WriteString(prefix)
	for range 5 {
		b.WriteByte(generateNameAlphabet[rnd(len(generateNameAlphabet))])
	}
	return b.String()
}

// specChanged reports whether anything outside metadata and status differs
// between two objects of kind k: the fields whose change bumps generation.
// It compares the Go values in place with apimachinery's semantic equality
// (nil and empty are equal, quantities and times by value), which is what
// comparing the objects' JSON with metadata and status removed would say,
// without copying or encoding anything.
func specChanged(k *kindInfo, old, cur Object) bool {
	ov := reflect.ValueOf(old).Elem()
	cv := reflect.ValueOf(cur).Elem()
	for _, i := range k.specFields {
		if !semanticEqual(ov.Field(i), cv.Field(i)) {
			return true
		}
	}
	if k.annotationsBumpGeneration && !maps.Equal(accessor(old).GetAnnotations(), accessor(cur).GetAnnotations()) {
		return true
	}
	return false
}

// unchanged reports whether cur, prepared for an update whose spec did not
// change, equals the stored old object in every other field too: such an
// update writes nothing.
func unchanged(k *kindInfo, old, cur Object) bool {
	ov := reflect.ValueOf(old).Elem()
	cv := reflect.ValueOf(cur).Elem()
	for _, i := range k.otherFields {
		if !semanticEqual(ov.Field(i), cv.Field(i)) {
			return false
		}
	}
	return true
}

// prepareUpdate fills cur (the caller's object, already copied) from the
// stored old one: uid, creationTimestamp, a deletionTimestamp once set,
// and generation. It checks the resourceVersion precondition, and reports
// whether the spec changed.
func prepareUpdate(k *kindInfo, old, cur Object) (specChange bool, err error) {
	om, cm := accessor(old), accessor(cur)
	ns, name := om.GetNamespace(), om.GetName()
	if cm.GetResourceVersion() == "" {
		return false, newObjError(k, ns, name, ErrConflict, "metadata.resourceVersion must be set on update (read the object, change it, update it)")
	}
	if cm.GetResourceVersion() != om.GetResourceVersion() {
		return false, newObjError(k, ns, name, ErrConflict, "resourceVersion %s is not the stored %s", cm.GetResourceVersion(), om.GetResourceVersion())
	}
	if uid := cm.GetUID(); uid != "" && uid != om.GetUID() {
		return false, newObjError(k, ns, name, ErrConflict, "uid %s is not the stored %s (the object was deleted and re-created)", uid, om.GetUID())
	}
	cm.SetUID(om.GetUID())
	cm.SetCreationTimestamp(om.GetCreationTimestamp())
	if om.GetDeletionTimestamp() != nil {
		cm.SetDeletionTimestamp(om.GetDeletionTimestamp())
		if cm.GetDeletionGracePeriodSeconds() == nil {
			cm.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
		}
	}
	gen := om.GetGeneration()
	specChange = specChanged(k, old, cur)
	if specChange || (om.GetDeletionTimestamp() == nil && cm.GetDeletionTimestamp() != nil) {
		gen++
	}
	cm.SetGeneration(gen)
	setTypeMeta(cur, k)
	return specChange, nil
}
