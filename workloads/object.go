package workloads

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/berth-io/berth/workloads/yamltree"
)

// Origin says where an object was read from.
type Origin struct {
	File string `json:"file"`
	// Doc is the 0-based index of the YAML document in the file.
	Doc int `json:"doc"`
	// Line is the line where the object starts (for an item of a List, the
	// line of the item).
	Line int `json:"line"`
}

// Key identifies an object: two objects with the same key are duplicates.
type Key struct {
	Kind      string
	Namespace string
	Name      string
}

// String formats the key as "Kind namespace/name" (or "Kind name" for
// cluster-scoped kinds).
func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// Object is one decoded manifest: the typed Kubernetes object and where it
// came from.
type Object struct {
	Origin
	// Obj is the typed object (*appsv1.Deployment, *corev1.ConfigMap, ...).
	Obj runtime.Object
	// Tree is the document as written, kept for positions and for the walk
	// over the fields the user set.
	Tree *yamltree.Node
}

// Meta returns the object's metadata.
func (o *Object) Meta() metav1.Object {
	m, err := meta.Accessor(o.Obj)
	if err != nil {
		panic("workloads: typed object without metadata: " + err.Error())
	}
	return m
}

// Kind returns the object's kind ("Deployment").
func (o *Object) Kind() string { return o.Obj.GetObjectKind().GroupVersionKind().Kind }

// Key returns the object's identity.
func (o *Object) Key() Key {
	m := o.Meta()
	return Key{Kind: o.Kind(), Namespace: m.GetNamespace(), Name: m.GetName()}
}

// Finding is what a check reports about one object: a field path within it
// (resolved to a file position by the caller), a rule id and a message.
type Finding struct {
	Severity Severity
	Path     *field.Path
	Rule     string
	Message  string
}

func errorAt(path *field.Path, rule, msg string) Finding {
	return Finding{Severity: SeverityError, Path: path, Rule: rule, Message: msg}
}

func warningAt(path *field.Path, rule, msg string) Finding {
	return Finding{Severity: SeverityWarning, Path: path, Rule: rule, Message: msg}
}
