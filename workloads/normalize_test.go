package workloads

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestNormalizeSecret(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"a": []byte("1"), "b": []byte("old")}, StringData: map[string]string{"b": "new", "c": "3"}}
	Normalize(s)
	if s.StringData != nil || string(s.Data["a"]) != "1" || string(s.Data["b"]) != "new" || string(s.Data["c"]) != "3" {
		t.Errorf("Normalize = data %q, stringData %q; want a=1 b=new c=3 in data and no stringData", s.Data, s.StringData)
	}
	only := &corev1.Secret{StringData: map[string]string{"k": "v"}}
	Normalize(only)
	if string(only.Data["k"]) != "v" {
		t.Errorf("stringData alone: data %q", only.Data)
	}
}
