package routes

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name, cidr, ip string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestDesired(t *testing.T) {
	nodes := []*corev1.Node{
		node("self", "10.42.0.0/24", "192.168.1.1"),
		node("b", "10.42.2.0/24", "192.168.1.3"),
		node("a", "10.42.1.0/24", "192.168.1.2"),
		node("same-machine", "10.42.3.0/24", "192.168.1.1"), // a second agent here: connected route
		node("no-cidr", "", "192.168.1.4"),
		node("no-ip", "10.42.5.0/24", ""),
		node("bad-cidr", "10.42.6.0", "192.168.1.6"),
		node("default-route", "0.0.0.0/0", "203.0.113.9"),  // would take this machine's traffic
		node("too-wide", "10.0.0.0/8", "192.168.1.7"),      // wider than a /16
		node("over-self", "10.42.0.0/25", "192.168.1.8"),   // inside this node's subnet
		node("z-duplicate", "10.42.1.0/24", "192.168.1.9"), // another node's subnet
	}
	want := []Route{{"10.42.1.0/24", "192.168.1.2"}, {"10.42.2.0/24", "192.168.1.3"}}
	if got := Desired(nodes, "self", "192.168.1.1"); !reflect.DeepEqual(got, want) {
		t.Errorf("Desired = %v, want %v", got, want)
	}
}

func TestDiff(t *testing.T) {
	present := []Route{{"10.42.1.0/24", "192.168.1.2"}, {"10.42.2.0/24", "192.168.1.9"}, {"10.42.7.0/24", "192.168.1.7"}}
	desired := []Route{{"10.42.1.0/24", "192.168.1.2"}, {"10.42.2.0/24", "192.168.1.3"}, {"10.42.3.0/24", "192.168.1.4"}}
	replace, remove := Diff(present, desired)
	if want := []Route{{"10.42.2.0/24", "192.168.1.3"}, {"10.42.3.0/24", "192.168.1.4"}}; !reflect.DeepEqual(replace, want) {
		t.Errorf("replace = %v, want %v", replace, want)
	}
	if want := []Route{{"10.42.7.0/24", "192.168.1.7"}}; !reflect.DeepEqual(remove, want) {
		t.Errorf("remove = %v, want %v", remove, want)
	}
}

func TestParse(t *testing.T) {
	out := "10.42.1.0/24 via 192.168.1.2 dev eth0 proto 187 \n10.42.2.0/24 via 192.168.1.3 dev eth0 proto 187 \n"
	if got, want := parse(out), []Route{{"10.42.1.0/24", "192.168.1.2"}, {"10.42.2.0/24", "192.168.1.3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("parse = %v, want %v", got, want)
	}
}
