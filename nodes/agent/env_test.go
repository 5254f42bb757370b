package agent_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/nodes"
)

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Data: data}
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func yes() *bool { b := true; return &b }

func TestEnvResolution(t *testing.T) {
	e := newAgentEnv(t, agentEnv{})
	e.create(configMap("cfg", map[string]string{"color": "blue", "size": "L", "bad=key": "x"}))
	e.create(secret("creds", map[string]string{"password": "s3cret"}))
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.UID = "uid-1"
		p.Spec.ServiceAccountName = "sa"
		c := &p.Spec.Containers[0]
		c.EnvFrom = []corev1.EnvFromSource{
			{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: yes()}},
		}
		c.Env = []corev1.EnvVar{
			{Name: "GREETING", Value: "hello $(NAME) in $(CFG_color), $$(NAME) $(UNSET)"},
			{Name: "NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "LATE", Value: "$(NAME)"},
			{Name: "PASS", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
			{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "color"}}},
			{Name: "OPT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "absent", Optional: yes()}}},
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "HOST", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
			{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "SA", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
			{Name: "CFG_size", Value: "XL"},
		}
		c.Command = []string{"/app", "--name=$(NAME)"}
		c.Args = []string{"$(PASS)", "$$(PASS)", "$(NOPE"}
	}))
	e.advanceTo(epoch)
	p := e.pod("web")
	if cs := p.Status.ContainerStatuses[0]; containerState(cs) != "running" {
		t.Fatalf("state %s: %+v", containerState(cs), cs.State.Waiting)
	}
	cfg := e.rec.Config("app")
	uid := string(p.UID)
	want := []nodes.EnvVar{
		{Name: "CFG_color", Value: "blue"}, {Name: "CFG_size", Value: "XL"},
		{Name: "GREETING", Value: "hello $(NAME) in blue, $(NAME) $(UNSET)"},
		{Name: "NAME", Value: "web"}, {Name: "LATE", Value: "web"}, {Name: "PASS", Value: "s3cret"},
		{Name: "COLOR", Value: "blue"}, {Name: "NS", Value: "default"}, {Name: "UID", Value: uid},
		{Name: "IP", Value: p.Status.PodIP}, {Name: "HOST", Value: "172.16.0.1"}, {Name: "NODE", Value: "node-0000"},
		{Name: "SA", Value: "sa"},
	}
	if !slices.Equal(cfg.Env, want) {
		t.Errorf("env\n got %v\nwant %v", cfg.Env, want)
	}
	if !slices.Equal(cfg.Command, []string{"/app", "--name=web"}) || !slices.Equal(cfg.Args, []string{"s3cret", "$(PASS)", "$(NOPE"}) {
		t.Errorf("command %q args %q", cfg.Command, cfg.Args)
	}
	if !e.hasEvent("InvalidEnvironmentVariableNames Keys [CFG_bad=key]") {
		t.Errorf("events %q", e.events.Events())
	}
}

func TestEnvErrors(t *testing.T) {
	ref := func(name, key string, optional *bool) corev1.EnvVar {
		return corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: optional}}}
	}
	tests := []struct {
		name string
		env  []corev1.EnvVar
		from []corev1.EnvFromSource
		msg  string // "" = runs
	}{
		{"missing configmap", []corev1.EnvVar{ref("x", "k", nil)}, nil, `configmap "x" not found`},
		{"missing optional configmap", []corev1.EnvVar{ref("x", "k", yes())}, nil, ""},
		{"missing key", []corev1.EnvVar{ref("cfg", "k", nil)}, nil, "couldn't find key k in ConfigMap default/cfg"},
		{"missing secret", []corev1.EnvVar{{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}, nil, `secret "s" not found`},
		{"missing envFrom secret", nil, []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}}, `secret "s" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAgentEnv(t, agentEnv{})
			e.create(configMap("cfg", map[string]string{"a": "b"}))
			e.create(boundPod("web", func(p *corev1.Pod) { p.Spec.Containers[0].Env, p.Spec.Containers[0].EnvFrom = tt.env, tt.from }))
			e.create(boundPod("other"))
			e.advanceTo(epoch)
			cs := e.app("web")
			got := containerState(cs)
			if tt.msg == "" {
				if got != "running" {
					t.Fatalf("state %s %+v", got, cs.State.Waiting)
				}
				return
			}
			if got != "waiting:CreateContainerConfigError" || cs.State.Waiting.Message != tt.msg {
				t.Fatalf("state %s %+v, want CreateContainerConfigError %q", got, cs.State.Waiting, tt.msg)
			}
			if containerState(e.app("other")) != "running" {
				t.Error("another pod was touched")
			}
			// Fixed by creating what was missing: picked up on the retry.
			e.create(configMap("x", map[string]string{"k": "v"}))
			e.create(secret("s", map[string]string{"k": "v"}))
			cm := configMap("cfg", map[string]string{"a": "b", "k": "v"})
			cur, _ := e.store.Get(e.ctx, "ConfigMap", "default", "cfg")
			cm.ResourceVersion = cur.(*corev1.ConfigMap).ResourceVersion
			if _, err := e.store.Update(e.ctx, cm); err != nil {
				t.Fatal(err)
			}
			e.advanceTo(epoch.Add(10 * 1e9))
			if got := containerState(e.app("web")); got != "running" {
				t.Errorf("after the fix: %s", got)
			}
		})
	}
}
