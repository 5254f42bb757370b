package agent_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestImagePullBackOff: ErrImagePull, then ImagePullBackOff with the
// runtime's message until the back-off window (10s, then 20s) has passed;
// the other pod runs.
func TestImagePullBackOff(t *testing.T) {
	e := newAgentEnv(t, agentEnv{})
	e.create(boundPod("web", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "missing:1" }))
	e.create(boundPod("other"))
	const msg = `pull "missing:1": ErrImagePull: missing:1: not found`
	for _, c := range []struct {
		at          time.Duration
		reason, msg string
	}{
		{0, "ErrImagePull", msg},
		{time.Second, "ImagePullBackOff", `Back-off pulling image "missing:1": ErrImagePull: ` + msg},
		{9 * time.Second, "ImagePullBackOff", ""},
		{10 * time.Second, "ErrImagePull", msg},
		{11 * time.Second, "ImagePullBackOff", ""},
		{29 * time.Second, "ImagePullBackOff", ""},
		{30 * time.Second, "ErrImagePull", msg},
	} {
		e.advanceTo(epoch.Add(c.at))
		w := e.app("web").State.Waiting
		if w == nil || w.Reason != c.reason || (c.msg != "" && w.Message != c.msg) {
			t.Fatalf("at %v: waiting %+v, want %s %q", c.at, w, c.reason, c.msg)
		}
	}
	if got := containerState(e.app("other")); got != "running" {
		t.Errorf("other pod: %s", got)
	}
}

// TestPullSecrets: the credential for the image's registry comes from
// the pod's imagePullSecrets (dockerconfigjson, "auth" decoded).
func TestPullSecrets(t *testing.T) {
	e := newAgentEnv(t, agentEnv{})
	sec := secret("regcred", map[string]string{corev1.DockerConfigJsonKey: `{"auths":{
		"other.example:5000":{"username":"x","password":"y"},
		"http://localhost:5000":{"auth":"YWxpY2U6c2VzYW1l"}}}`})
	sec.Type = corev1.SecretTypeDockerConfigJson
	e.create(sec)
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "absent"}, {Name: "regcred"}}
		p.Spec.Containers[0].Image = "localhost:5000/hello:1"
	}))
	e.advanceTo(epoch)
	want := "pull localhost:5000/hello:1 as alice:sesame@http://localhost:5000"
	if !slices.Contains(e.rec.Log(), want) {
		t.Errorf("log %q lacks %q", e.rec.Log(), want)
	}
}
