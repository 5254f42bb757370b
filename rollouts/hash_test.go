package rollouts

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// catsTemplate is upstream hash_test.go's podSpec, @@VERSION@@ in the image.
const catsTemplate = `{
  "metadata": {"labels": {"app": "cats"}},
  "spec": {
    "containers": [{
      "name": "cats",
      "image": "registry/test/cats:v0.@@VERSION@@.0",
      "ports": [{"name": "http", "containerPort": 9077, "protocol": "TCP"}],
      "env": [
        {"name": "DEPLOYMENT_ENVIRONMENT", "value": "cats-stubbed-functional"},
        {"name": "APP_NAME", "value": "cats"}
      ],
      "resources": {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "1", "memory": "1Gi"}
      },
      "livenessProbe": {
        "httpGet": {"path": "/private/status", "port": 9077, "scheme": "HTTP"},
        "initialDelaySeconds": 30, "timeoutSeconds": 1, "periodSeconds": 10,
        "successThreshold": 1, "failureThreshold": 3
      },
      "readinessProbe": {
        "httpGet": {"path": "/private/status", "port": 9077, "scheme": "HTTP"},
        "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 10,
        "successThreshold": 1, "failureThreshold": 3
      },
      "terminationMessagePath": "/dev/termination-log",
      "imagePullPolicy": "IfNotPresent"
    }],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "securityContext": {}
  }
}`

func catsVersion(t testing.TB, v int) *corev1.PodTemplateSpec {
	t.Helper()
	var tpl corev1.PodTemplateSpec
	if err := json.Unmarshal([]byte(strings.Replace(catsTemplate, "@@VERSION@@", strconv.Itoa(v), 1)), &tpl); err != nil {
		t.Fatal(err)
	}
	return &tpl
}

// The golden values pin berth's hash: a change here renames every
// ReplicaSet berth creates after an upgrade, so it must never happen
// silently.
func TestComputeHashGolden(t *testing.T) {
	tests := []struct {
		name      string
		template  *corev1.PodTemplateSpec
		collision *int32
		want      string
	}{
		{"empty template", &corev1.PodTemplateSpec{}, nil, "658c46c486"},
		{"empty template, collisionCount 1", &corev1.PodTemplateSpec{}, new(int32(1)), "6746d5bbc"},
		{"cats v0.0.0", catsVersion(t, 0), nil, "865f44b77f"},
		{"cats v0.0.0, collisionCount 2", catsVersion(t, 0), new(int32(2)), "b74dd5885"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ComputeHash(tt.template, tt.collision); got != tt.want {
				t.Errorf("ComputeHash = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestComputeHashMapOrder(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	build := func(order []string) *corev1.PodTemplateSpec {
		labels, annotations := map[string]string{}, map[string]string{}
		for _, k := range order {
			labels[k] = "v" + k
			annotations["x/"+k] = k
		}
		return &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
			Spec:       corev1.PodSpec{NodeSelector: labels, Containers: []corev1.Container{{Name: "c", Image: "i"}}},
		}
	}
	want := ComputeHash(build(keys), nil)
	reversed := make([]string, len(keys))
	for i, k := range keys {
		reversed[len(keys)-1-i] = k
	}
	for i := 0; i < 50; i++ {
		order := keys
		if i%2 == 1 {
			order = reversed
		}
		if got := ComputeHash(build(order), nil); got != want {
			t.Fatalf("hash depends on map order: %q != %q", got, want)
		}
	}
}

func TestComputeHashChanges(t *testing.T) {
	base := catsVersion(t, 1)
	h := ComputeHash(base, nil)
	mutations := map[string]func(*corev1.PodTemplateSpec){
		"image":      func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "x" },
		"label":      func(p *corev1.PodTemplateSpec) { p.Labels["tier"] = "web" },
		"annotation": func(p *corev1.PodTemplateSpec) { p.Annotations = map[string]string{"a": "b"} },
		"env order": func(p *corev1.PodTemplateSpec) {
			e := p.Spec.Containers[0].Env
			e[0], e[1] = e[1], e[0]
		},
		"restartedAt": func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
		},
	}
	for name, mutate := range mutations {
		c := base.DeepCopy()
		mutate(c)
		if ComputeHash(c, nil) == h {
			t.Errorf("%s: hash did not change", name)
		}
	}
	if ComputeHash(base.DeepCopy(), nil) != h {
		t.Errorf("a deep copy hashes differently")
	}
}

// upstream TestComputeHash: collision counts separate hashes
func TestComputeHashCollisionCount(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{}
	pairs := [][2]*int32{
		{new(int32(1)), new(int32(2))},
		{nil, new(int32(math.MaxInt32))},
		{nil, new(int32(0))},
	}
	for _, p := range pairs {
		if ComputeHash(tpl, p[0]) == ComputeHash(tpl, p[1]) {
			t.Errorf("collision counts %v and %v hash the same", p[0], p[1])
		}
	}
}

// upstream TestPodTemplateSpecHash: 1000 image versions, no collision; and
// every hash is a label-safe word of the SafeEncodeString alphabet.
func TestComputeHashNoCollisionsAndAlphabet(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < 1000; i++ {
		h := ComputeHash(catsVersion(t, i), nil)
		if j, ok := seen[h]; ok {
			t.Fatalf("hash collision between versions %d and %d", j, i)
		}
		seen[h] = i
		if len(h) == 0 || len(h) > 10 || strings.Trim(h, "bcdfghjklmnpqrstvwxz2456789") != "" {
			t.Fatalf("hash %q is not a label-safe word of the alphabet", h)
		}
	}
}
