package deployment

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Ports of upstream's TestAddReplicaSet, TestAddReplicaSetOrphan,
// TestUpdateReplicaSet*, TestDeleteReplicaSet* and
// TestPodDeletionEnqueuesRecreateDeployment, on the handlers directly.
func TestHandlers(t *testing.T) {
	f := newFixture(t)
	d1 := f.create(newDeployment("foo", 1, "app:v1")).(*appsv1.Deployment)
	d2 := f.create(newDeployment("bar", 1, "app:v1", recreate())).(*appsv1.Deployment)
	// A third Deployment selecting the same labels as foo.
	d3 := newDeployment("baz", 1, "app:v1")
	d3.Spec.Selector.MatchLabels = map[string]string{"app": "foo"}
	d3.Spec.Template.Labels = map[string]string{"app": "foo"}
	f.create(d3)
	rs1 := f.addRS(d1, rsState{image: "app:v1", replicas: 1, owned: true})
	rs2 := f.addRS(d2, rsState{image: "app:v1", replicas: 1, owned: true})
	orphan := f.addRS(d1, rsState{image: "app:v0", replicas: 0, owned: false})
	f.drain()

	check := func(name string, want ...string) {
		t.Helper()
		if !slices.Equal(f.queue.added, want) {
			t.Errorf("%s: queued %v, want %v", name, f.queue.added, want)
		}
		f.queue.reset()
	}
	f.queue.reset()

	f.dc.addReplicaSet(f.queue, rs1)
	check("add owned", "default/foo")
	f.dc.addReplicaSet(f.queue, orphan)
	check("add orphan", "default/baz", "default/foo")

	moved := rs1.DeepCopy()
	moved.ResourceVersion = "999"
	moved.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(d2, deploymentKind)}
	f.dc.changedReplicaSet(f.queue, rs1, moved)
	check("controller changed", "default/foo", "default/bar")

	f.dc.changedReplicaSet(f.queue, rs1, rs1)
	check("resync")

	relabelled := orphan.DeepCopy()
	relabelled.ResourceVersion = "999"
	relabelled.Labels = map[string]string{"app": "bar"}
	f.dc.changedReplicaSet(f.queue, orphan, relabelled)
	check("orphan relabelled", "default/bar")

	released := rs1.DeepCopy()
	released.ResourceVersion = "999"
	released.OwnerReferences = nil
	f.dc.changedReplicaSet(f.queue, rs1, released)
	check("released", "default/foo", "default/baz", "default/foo")

	f.dc.deletedReplicaSet(f.queue, rs2)
	check("delete owned", "default/bar")
	f.dc.deletedReplicaSet(f.queue, orphan)
	check("delete orphan")

	pod := func(rs *appsv1.ReplicaSet) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default",
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}}}
	}
	f.dc.deletedPod(f.queue, pod(rs1))
	check("pod of a RollingUpdate deployment")
	f.dc.deletedPod(f.queue, pod(rs2))
	check("pod of a Recreate deployment", "default/bar")
}
