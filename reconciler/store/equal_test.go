package store

import (
	"math/rand"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill"
)

// smallFiller fills objects from tiny value sets, so that two fills, or a
// fill and a copy with one field refilled, are often semantically equal
// while differing in form (nil vs empty, "1" vs "1000m", time zones).
func smallFiller(seed int64) *randfill.Filler {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3600)}
	return randfill.NewWithSeed(seed).NilChance(0.4).NumElements(0, 2).MaxDepth(12).Funcs(
		func(s *string, c randfill.Continue) { *s = []string{"", "a", "b"}[c.Intn(3)] },
		func(i *int32, c randfill.Continue) { *i = int32(c.Intn(2)) },
		func(i *int64, c randfill.Continue) { *i = int64(c.Intn(2)) },
		func(i *int, c randfill.Continue) { *i = c.Intn(2) },
		func(b *[]byte, c randfill.Continue) {
			*b = [][]byte{nil, {}, []byte("x")}[c.Intn(3)]
		},
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.NewTime(t0.Add(time.Duration(c.Intn(2)) * time.Second).In(zones[c.Intn(2)]))
			if c.Intn(4) == 0 {
				*t = metav1.Time{}
			}
		},
		func(t *metav1.MicroTime, c randfill.Continue) {
			*t = metav1.NewMicroTime(t0.Add(time.Duration(c.Intn(2)) * time.Microsecond).In(zones[c.Intn(2)]))
		},
		func(q *resource.Quantity, c randfill.Continue) {
			*q = resource.MustParse([]string{"0", "1", "1000m", "2", "500m", "0.5"}[c.Intn(6)])
		},
		func(r *runtime.RawExtension, c randfill.Continue) {
			r.Raw = [][]byte{nil, []byte("{}"), []byte(`{"a":1}`)}[c.Intn(3)]
		},
	)
}

// filledWhole are the types smallFiller fills with a custom function.
var filledWhole = map[reflect.Type]bool{
	reflect.TypeFor[metav1.Time]():          true,
	reflect.TypeFor[metav1.MicroTime]():     true,
	reflect.TypeFor[resource.Quantity]():    true,
	reflect.TypeFor[runtime.RawExtension](): true,
}

// mutate refills one randomly chosen part of v (a settable value).
func mutate(v reflect.Value, f *randfill.Filler, r *rand.Rand) {
	for depth := 0; ; depth++ {
		stop := r.Intn(4) == 0 || depth > 15
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() && !stop {
				v = v.Elem()
				continue
			}
		case reflect.Struct:
			if v.NumField() > 0 && !stop && !filledWhole[v.Type()] {
				if fv := v.Field(r.Intn(v.NumField())); fv.CanSet() {
					v = fv
					continue
				}
			}
		case reflect.Slice:
			if v.Len() > 0 && !stop {
				v = v.Index(r.Intn(v.Len()))
				continue
			}
		}
		if v.CanAddr() && v.Kind() != reflect.Interface {
			f.Fill(v.Addr().Interface())
		}
		return
	}
}

// TestSemanticEqual checks semanticEqual against apimachinery's Semantic
// on random objects of every kind.
func TestSemanticEqual(t *testing.T) {
	for _, k := range kindTable {
		t.Run(k.gvk.Kind, func(t *testing.T) {
			f := smallFiller(int64(len(k.gvk.Kind)))
			r := rand.New(rand.NewSource(1))
			equal := 0
			for i := range 400 {
				a := k.new()
				f.Fill(a)
				var b Object
				switch i % 3 {
				case 0:
					b = k.new()
					f.Fill(b)
				default:
					b = a.DeepCopyObject()
					mutate(reflect.ValueOf(b).Elem(), f, r)
				}
				want := equality.Semantic.DeepEqual(a, b)
				if got := semanticEqual(reflect.ValueOf(a), reflect.ValueOf(b)); got != want {
					t.Fatalf("case %d: semanticEqual %v, Semantic %v\na: %#v\nb: %#v", i, got, want, a, b)
				}
				if !semanticEqual(reflect.ValueOf(a), reflect.ValueOf(a.DeepCopyObject())) {
					t.Fatalf("case %d: an object differs from its copy", i)
				}
				if want {
					equal++
				}
			}
			if equal == 0 || equal == 400 {
				t.Fatalf("%d of 400 pairs equal: the test does not exercise both answers", equal)
			}
			t.Logf("%d of 400 pairs semantically equal", equal)
		})
	}
}

func TestSemanticEqualCases(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"nil and empty map", map[string]string(nil), map[string]string{}, true},
		{"nil and empty slice", []string(nil), []string{}, true},
		{"maps differ", map[string]string{"a": "1"}, map[string]string{"a": "2"}, false},
		{"quantities by value", resource.MustParse("1"), resource.MustParse("1000m"), true},
		{"quantities differ", resource.MustParse("1"), resource.MustParse("1001m"), false},
		{"times as instants", metav1.NewTime(t0), metav1.NewTime(t0.In(time.FixedZone("x", 7200))), true},
		{"times differ", metav1.NewTime(t0), metav1.NewTime(t0.Add(time.Nanosecond)), false},
		{"nil and zero pointer", (*int32)(nil), new(int32), false},
		{"resource lists", map[string]resource.Quantity{"cpu": resource.MustParse("1")}, map[string]resource.Quantity{"cpu": resource.MustParse("1000m")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := reflect.ValueOf(&tt.a).Elem().Elem(), reflect.ValueOf(&tt.b).Elem().Elem()
			if got := semanticEqual(a, b); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if sem := equality.Semantic.DeepEqual(tt.a, tt.b); sem != tt.want {
				t.Fatalf("Semantic says %v: the case is wrong", sem)
			}
		})
	}
}
