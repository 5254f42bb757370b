package store

import (
	"bytes"
	"maps"
	"reflect"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// semanticEqual is apimachinery's equality.Semantic.DeepEqual for the API
// types the store holds, without its allocations (it is on the path of
// every update, where Semantic cost most of the time):
//   - nil and empty slices and maps are equal;
//   - metav1.Time and metav1.MicroTime compare as instants;
//   - resource.Quantity compares by value ("1000m" equals "1").
//
// equal_test.go checks it against Semantic on random objects.
func semanticEqual(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		return semanticEqual(a.Elem(), b.Elem())
	case reflect.Struct:
		switch a.Type() {
		case timeType:
			return valueOf[metav1.Time](a).UTC() == valueOf[metav1.Time](b).UTC()
		case microTimeType:
			return valueOf[metav1.MicroTime](a).UTC() == valueOf[metav1.MicroTime](b).UTC()
		case quantityType:
			qa, qb := valueOf[resource.Quantity](a), valueOf[resource.Quantity](b)
			return qa.Cmp(qb) == 0
		}
		for i := range a.NumField() {
			if !semanticEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !semanticEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		if a.Len() == 0 || a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		if a.Type() == stringMapType {
			return maps.Equal(a.Interface().(map[string]string), b.Interface().(map[string]string))
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !semanticEqual(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return semanticEqual(a.Elem(), b.Elem())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.Complex64, reflect.Complex128:
		return a.Complex() == b.Complex()
	default: // func, chan, unsafe pointer: not in API types
		return a.IsNil() && b.IsNil()
	}
}

var (
	timeType      = reflect.TypeFor[metav1.Time]()
	microTimeType = reflect.TypeFor[metav1.MicroTime]()
	quantityType  = reflect.TypeFor[resource.Quantity]()
	stringMapType = reflect.TypeFor[map[string]string]()
)

// valueOf returns v's value as a T; by pointer when v is addressable, so
// it does not allocate on the common path.
func valueOf[T any](v reflect.Value) T {
	if v.CanAddr() {
		return *v.Addr().Interface().(*T)
	}
	return v.Interface().(T)
}
