package workloads

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Normalize does to obj what the Kubernetes API server does on a write
// besides defaulting: a Secret's stringData is merged into data (a key in
// both takes stringData's value) and cleared, as the API server's
// conversion does, so readers (the agent's env and volumes, `berth get`)
// find every value in data.
func Normalize(obj runtime.Object) {
	if s, ok := obj.(*corev1.Secret); ok && len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
}
