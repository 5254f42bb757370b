package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/berth-io/berth/nodes"
)

func mode(m int32) *int32 { return &m }

func TestVolumes(t *testing.T) {
	dir := t.TempDir()
	host := t.TempDir()
	e := newAgentEnv(t, agentEnv{dataDir: dir})
	e.create(configMap("cfg", map[string]string{"app.conf": "port=80\n", "other": "o"}))
	e.create(secret("creds", map[string]string{"password": "s3cret"}))
	dirType := corev1.HostPathDirectory
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
				Items:                []corev1.KeyToPath{{Key: "app.conf", Path: "etc/app.conf", Mode: mode(0o600)}},
			}}},
			{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: mode(0o400)}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host, Type: &dirType}}},
		}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
			{Name: "scratch", MountPath: "/tmp"},
			{Name: "conf", MountPath: "/etc/app"},
			{Name: "creds", MountPath: "/run/creds/password", SubPath: "password"},
			{Name: "host", MountPath: "/data", SubPath: "sub/dir", ReadOnly: true},
		}
	}))
	e.advanceTo(epoch)
	p := e.pod("web")
	if cs := p.Status.ContainerStatuses[0]; containerState(cs) != "running" {
		t.Fatalf("state %s %+v", containerState(cs), cs.State.Waiting)
	}
	vols := filepath.Join(dir, "pods", string(p.UID), "volumes")
	confDir := filepath.Join(vols, "kubernetes.io~configmap", "conf")
	credDir := filepath.Join(vols, "kubernetes.io~secret", "creds")
	realCred, _ := filepath.EvalSymlinks(filepath.Join(credDir, "password"))
	want := []nodes.Mount{
		{ContainerPath: "/tmp", HostPath: filepath.Join(vols, "kubernetes.io~empty-dir", "scratch")},
		{ContainerPath: "/etc/app", HostPath: confDir, ReadOnly: true},
		{ContainerPath: "/run/creds/password", HostPath: realCred, ReadOnly: true},
		{ContainerPath: "/data", HostPath: filepath.Join(host, "sub", "dir"), ReadOnly: true},
	}
	got := e.rec.Config("app").Mounts
	if len(got) != len(want) {
		t.Fatalf("mounts %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, f := range []struct {
		path, content string
		mode          os.FileMode
	}{
		{filepath.Join(confDir, "etc", "app.conf"), "port=80\n", 0o600},
		{filepath.Join(credDir, "password"), "s3cret", 0o400},
	} {
		b, err := os.ReadFile(f.path)
		fi, err2 := os.Stat(f.path)
		if err != nil || err2 != nil || string(b) != f.content || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: %q %v, want %q %v (%v %v)", f.path, b, fi.Mode().Perm(), f.content, f.mode, err, err2)
		}
	}
	if _, err := os.Stat(filepath.Join(confDir, "other")); !os.IsNotExist(err) {
		t.Error("a key not among the items was written")
	}
	if fi, err := os.Stat(filepath.Join(host, "sub", "dir")); err != nil || !fi.IsDir() {
		t.Error("subPath directory not created in the hostPath")
	}

	e.deletePod("web", nil)
	e.advanceTo(epoch.Add(time.Second))
	if _, err := os.Stat(filepath.Join(dir, "pods", string(p.UID))); !os.IsNotExist(err) {
		t.Errorf("pod directory left behind: %v", err)
	}
}

func TestVolumeErrors(t *testing.T) {
	dirType := corev1.HostPathDirectory
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name   string
		vols   []corev1.Volume
		mounts []corev1.VolumeMount
		reason string
		msg    string
	}{
		{"undeclared volume", nil, []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			"CreateContainerConfigError", `cannot find volume "data" to mount into container "app"`},
		{"missing hostPath directory", []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: missing, Type: &dirType}}}}, nil,
			"ContainerCreating", `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ` + missing + ` is not a directory`},
		{"missing configmap", []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}, nil,
			"ContainerCreating", `MountVolume.SetUp failed for volume "c" : configmap "x" not found`},
		{"subPath with ..", []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			[]corev1.VolumeMount{{Name: "s", MountPath: "/x", SubPath: "../../etc"}},
			"CreateContainerConfigError", "unable to provision SubPath `../../etc` of volume \"s\": must not contain '..'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAgentEnv(t, agentEnv{dataDir: t.TempDir()})
			e.create(boundPod("web", func(p *corev1.Pod) { p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts = tt.vols, tt.mounts }))
			e.create(boundPod("other"))
			e.advanceTo(epoch)
			cs := e.app("web")
			if w := cs.State.Waiting; w == nil || w.Reason != tt.reason || w.Message != tt.msg {
				t.Fatalf("waiting %+v, want %s %q", w, tt.reason, tt.msg)
			}
			if containerState(e.app("other")) != "running" {
				t.Error("another pod was touched")
			}
		})
	}
}

// TestSubPathSymlinkEscapeRefused: a subPath that is a symlink out of the
// volume is refused.
func TestSubPathSymlinkEscapeRefused(t *testing.T) {
	host := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(host, "evil")); err != nil {
		t.Fatal(err)
	}
	e := newAgentEnv(t, agentEnv{dataDir: t.TempDir()})
	e.create(boundPod("web", func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}}}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "h", MountPath: "/x", SubPath: "evil"}}
	}))
	e.advanceTo(epoch)
	w := e.app("web").State.Waiting
	if w == nil || w.Reason != "CreateContainerConfigError" || !strings.Contains(w.Message, "outside of its volume") {
		t.Fatalf("waiting %+v", w)
	}
}
