package store

import (
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/berth-io/berth/sources"
)

// kindInfo describes one kind the store holds.
type kindInfo struct {
	gvk        schema.GroupVersionKind
	apiVersion string // gvk's "group/version" ("v1" for the core group)
	namespaced bool
	typ        reflect.Type // the pointer type, *corev1.Pod
	new        func() Object

	// specFields are the indices of the struct's fields other than
	// TypeMeta, ObjectMeta and Status: a change in any of them bumps
	// metadata.generation.
	specFields []int
	// otherFields are the rest: TypeMeta, ObjectMeta, Status.
	otherFields []int
	// annotationsBumpGeneration: Kubernetes bumps a Deployment's
	// generation when its annotations change too, because the controller
	// copies them to its ReplicaSets.
	annotationsBumpGeneration bool
}

// kindTable lists the kinds the store holds. It is built once and only read.
var kindTable = buildKindTable([]kindInfo{
	kindOf[corev1.Namespace]("", "v1", "Namespace", false),
	kindOf[corev1.ConfigMap]("", "v1", "ConfigMap", true),
	kindOf[corev1.Secret]("", "v1", "Secret", true),
	kindOf[corev1.Pod]("", "v1", "Pod", true),
	kindOf[corev1.Service]("", "v1", "Service", true),
	kindOf[corev1.Node]("", "v1", "Node", false),
	kindOf[corev1.Event]("", "v1", "Event", true),
	kindOf[appsv1.Deployment]("apps", "v1", "Deployment", true),
	kindOf[appsv1.ReplicaSet]("apps", "v1", "ReplicaSet", true),
	kindOf[appsv1.DaemonSet]("apps", "v1", "DaemonSet", true),
	kindOf[appsv1.StatefulSet]("apps", "v1", "StatefulSet", true),
	kindOf[appsv1.ControllerRevision]("apps", "v1", "ControllerRevision", true),
	kindOf[batchv1.Job]("batch", "v1", "Job", true),
	kindOf[batchv1.CronJob]("batch", "v1", "CronJob", true),
	// berth's own: a Git repository or folder and how applying it went.
	kindOf[sources.Resource]("berth.io", "v1", sources.Kind, false),
})

// kindOf describes kind, held as *T.
func kindOf[T any, PT interface {
	*T
	Object
}](group, version, kind string, namespaced bool) kindInfo {
	gv := schema.GroupVersion{Group: group, Version: version}
	return kindInfo{
		gvk:        gv.WithKind(kind),
		apiVersion: gv.String(),
		namespaced: namespaced,
		typ:        reflect.TypeFor[PT](),
		new:        func() Object { return PT(new(T)) },
	}
}

var (
	typeMetaType   = reflect.TypeFor[metav1.TypeMeta]()
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
)

// buildKindTable fills in the fields derived by reflection.
func buildKindTable(kinds []kindInfo) []kindInfo {
	for i := range kinds {
		k := &kinds[i]
		st := k.typ.Elem()
		for f := range st.NumField() {
			sf := st.Field(f)
			if sf.Type == typeMetaType || sf.Type == objectMetaType || sf.Name == "Status" {
				k.otherFields = append(k.otherFields, f)
				continue
			}
			k.specFields = append(k.specFields, f)
		}
		k.annotationsBumpGeneration = k.gvk.Kind == "Deployment"
	}
	return kinds
}

// lookupKind returns the table entry of kind, or nil.
func lookupKind(kind string) *kindInfo {
	for i := range kindTable {
		if kindTable[i].gvk.Kind == kind {
			return &kindTable[i]
		}
	}
	return nil
}

// kindInfoOf returns the table entry of obj's Go type.
func kindInfoOf(obj Object) (*kindInfo, error) {
	if obj == nil {
		return nil, fmt.Errorf("%w: nil object", ErrInvalid)
	}
	t := reflect.TypeOf(obj)
	for i := range kindTable {
		if kindTable[i].typ == t {
			return &kindTable[i], nil
		}
	}
	return nil, fmt.Errorf("%w: the store does not hold objects of Go type %s; it holds %s", ErrInvalid, t, kindList())
}

// knownKind returns the table entry of kind, or an error naming the kinds
// the store holds.
func knownKind(kind string) (*kindInfo, error) {
	if k := lookupKind(kind); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: the store does not hold kind %q; it holds %s", ErrInvalid, kind, kindList())
}

func kindList() string {
	names := make([]string, len(kindTable))
	for i := range kindTable {
		names[i] = kindTable[i].gvk.Kind
	}
	return strings.Join(names, ", ")
}

// KindOf returns the Kubernetes kind of obj ("Deployment" for an
// *appsv1.Deployment), from its Go type; an error for types the store does
// not hold.
func KindOf(obj Object) (string, error) {
	k, err := kindInfoOf(obj)
	if err != nil {
		return "", err
	}
	return k.gvk.Kind, nil
}

// New returns a new, empty object of kind with its TypeMeta set.
func New(kind string) (Object, error) {
	k, err := knownKind(kind)
	if err != nil {
		return nil, err
	}
	obj := k.new()
	setTypeMeta(obj, k)
	return obj, nil
}

// Namespaced reports whether objects of kind live in a namespace. Unknown
// kinds count as namespaced, as in package workloads.
func Namespaced(kind string) bool {
	if k := lookupKind(kind); k != nil {
		return k.namespaced
	}
	return true
}

// Kinds lists the kinds the store holds, in a fixed order.
func Kinds() []string {
	out := make([]string, len(kindTable))
	for i := range kindTable {
		out[i] = kindTable[i].gvk.Kind
	}
	return out
}

// NewScheme returns a scheme that knows exactly the kinds the store holds,
// for code that needs apimachinery's machinery (serializers, ObjectKinds).
// Each call builds a new one; the store itself needs none.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for i := range kindTable {
		s.AddKnownTypeWithName(kindTable[i].gvk, kindTable[i].new())
	}
	return s
}

// setTypeMeta sets obj's apiVersion and kind from k without allocating.
func setTypeMeta(obj Object, k *kindInfo) {
	if tm, ok := obj.GetObjectKind().(*metav1.TypeMeta); ok {
		tm.APIVersion = k.apiVersion
		tm.Kind = k.gvk.Kind
		return
	}
	obj.GetObjectKind().SetGroupVersionKind(k.gvk)
}
