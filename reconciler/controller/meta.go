package controller

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// metaOf returns an object's metadata; every store.Object has some.
func metaOf(obj store.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic("controller: object without metadata: " + err.Error())
	}
	return m
}

// kindOf returns an object's kind: from its TypeMeta when set, else from
// its Go type; "" for a type the store does not hold.
func kindOf(obj store.Object) string {
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	k, _ := store.KindOf(obj)
	return k
}

// objKey names an object within its kind.
type objKey struct{ namespace, name string }

// keyOfMeta returns an object's objKey.
func keyOfMeta(m metav1.Object) objKey { return objKey{m.GetNamespace(), m.GetName()} }

// compareKeys orders keys by namespace, then name: the store's key order.
func compareKeys(a, b objKey) int {
	if a.namespace != b.namespace {
		return strings.Compare(a.namespace, b.namespace)
	}
	return strings.Compare(a.name, b.name)
}
