package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
	"github.com/berth-io/berth/reconciler/store"
)

func listEvents(t *testing.T, st store.Store) []*corev1.Event {
	t.Helper()
	objs, _, err := st.List(context.Background(), "Event", store.ListOptions{})
	must(t, err)
	out := make([]*corev1.Event, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Event)
	}
	return out
}

// TestRecorder records a script of events about a few objects and checks
// the Events the store holds: one per distinct (object, type, reason,
// message), counted, at most max per object, oldest dropped.
func TestRecorder(t *testing.T) {
	type rec struct {
		obj              string // "rs", "pod", "node"
		typ, reason, msg string
		advance          time.Duration
	}
	type want struct {
		obj, typ, reason, msg string
		count                 int32
		first, last           time.Duration
	}
	tests := []struct {
		name string
		max  int
		recs []rec
		want []want // in store (name) order
	}{
		{
			name: "repeat counts",
			recs: []rec{
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 0},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", time.Second},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", time.Second},
			},
			want: []want{{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 3, 0, 2 * time.Second}},
		},
		{
			name: "type, reason, message and object each make a new event",
			recs: []rec{
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 0},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p2", 0},
				{"rs", "Warning", "SuccessfulCreate", "Created pod: p1", 0},
				{"rs", "Normal", "SuccessfulDelete", "Created pod: p1", 0},
				{"pod", "Normal", "SuccessfulCreate", "Created pod: p1", 0},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p2", time.Second},
			},
			want: []want{
				{"pod", "Normal", "SuccessfulCreate", "Created pod: p1", 1, 0, 0},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 1, 0, 0},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p2", 2, 0, time.Second},
				{"rs", "Warning", "SuccessfulCreate", "Created pod: p1", 1, 0, 0},
				{"rs", "Normal", "SuccessfulDelete", "Created pod: p1", 1, 0, 0},
			},
		},
		{
			name: "at most max per object, oldest dropped",
			max:  2,
			recs: []rec{
				{"pod", "Warning", "BackOff", "restart 1", 0},
				{"pod", "Warning", "BackOff", "restart 2", time.Second},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 0},
				{"pod", "Warning", "BackOff", "restart 3", time.Second},
				{"pod", "Warning", "BackOff", "restart 4", time.Second},
				{"pod", "Warning", "BackOff", "restart 4", time.Second},
			},
			want: []want{
				{"pod", "Warning", "BackOff", "restart 3", 1, 2 * time.Second, 2 * time.Second},
				{"pod", "Warning", "BackOff", "restart 4", 2, 3 * time.Second, 4 * time.Second},
				{"rs", "Normal", "SuccessfulCreate", "Created pod: p1", 1, time.Second, time.Second},
			},
		},
		{
			name: "cluster-scoped objects' events go to default",
			recs: []rec{{"node", "Normal", "NodeReady", "Node n1 status is now: NodeReady", 0}},
			want: []want{{"node", "Normal", "NodeReady", "Node n1 status is now: NodeReady", 1, 0, 0}},
		},
		{
			name: "unknown types are dropped",
			recs: []rec{{"rs", "Info", "Whatever", "x", 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			st := store.NewMemory(clk)
			objs := map[string]store.Object{
				"rs":   create(t, st, newRS("ns", "web-abc")),
				"pod":  create(t, st, newPod("ns", "web-abc-x1", nil)),
				"node": create(t, st, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}),
			}
			r := controller.NewRecorder(st, clk, "test-controller")
			if tt.max > 0 {
				r.SetMaxPerObject(tt.max)
			}
			for _, e := range tt.recs {
				clk.Step(e.advance)
				r.Eventf(objs[e.obj], e.typ, e.reason, "%s", e.msg)
			}
			evs := listEvents(t, st)
			var got []want
			for _, ev := range evs {
				var which string
				for k, o := range objs {
					if mustMeta(o).GetUID() == ev.InvolvedObject.UID {
						which = k
					}
				}
				got = append(got, want{which, ev.Type, ev.Reason, ev.Message, ev.Count,
					ev.FirstTimestamp.Sub(t0), ev.LastTimestamp.Sub(t0)})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("events\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// TestRecorderFields checks one event as Kubernetes writes it.
func TestRecorderFields(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	rs := create(t, st, newRS("ns", "web-abc"))
	node := create(t, st, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	r := controller.NewRecorder(st, clk, "replicaset-controller")
	r.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", "web-abc-x1")
	r.Eventf(rs, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", "web-abc-x2") // same nanosecond
	r.Eventf(node, corev1.EventTypeNormal, "NodeReady", "ready")
	r.Eventf(rs, corev1.EventTypeWarning, "Long", "%s", strings.Repeat("é", 1000))

	evs := listEvents(t, st)
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	byMsg := map[string]*corev1.Event{}
	for _, e := range evs {
		byMsg[e.Message] = e
	}
	e := byMsg["Created pod: web-abc-x1"]
	if e == nil {
		t.Fatal("event missing")
	}
	wantRef := corev1.ObjectReference{Kind: "ReplicaSet", APIVersion: "apps/v1", Namespace: "ns", Name: "web-abc",
		UID: rs.UID, ResourceVersion: rs.ResourceVersion}
	if e.InvolvedObject != wantRef {
		t.Errorf("involvedObject %+v, want %+v", e.InvolvedObject, wantRef)
	}
	if e.Namespace != "ns" || e.Source.Component != "replicaset-controller" || e.ReportingController != "replicaset-controller" ||
		e.Count != 1 || !e.FirstTimestamp.Time.Equal(t0) || !e.LastTimestamp.Time.Equal(t0) || e.Type != "Normal" {
		t.Errorf("event %+v", e)
	}
	if want := fmt.Sprintf("web-abc.%x", t0.UnixNano()); e.Name != want {
		t.Errorf("name %q, want %q", e.Name, want)
	}
	if e2 := byMsg["Created pod: web-abc-x2"]; e2 == nil || e2.Name == e.Name {
		t.Errorf("second event in the same nanosecond: %v", e2)
	}
	if n := byMsg["ready"]; n == nil || n.Namespace != "default" || n.InvolvedObject.Kind != "Node" || n.InvolvedObject.APIVersion != "v1" {
		t.Errorf("node event %+v", n)
	}
	for _, e := range evs {
		if e.Reason == "Long" && (len(e.Message) > 1024 || !strings.HasPrefix(strings.Repeat("é", 1000), e.Message)) {
			t.Errorf("long message kept as %d bytes", len(e.Message))
		}
	}
}

// TestRecorderNeverFails: a closed store is logged, not returned.
func TestRecorderNeverFails(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	st := store.NewMemory(clk)
	rs := create(t, st, newRS("ns", "web"))
	must(t, st.Close())
	controller.NewRecorder(st, clk, "c").Eventf(rs, corev1.EventTypeNormal, "X", "y")
}

func TestFakeRecorder(t *testing.T) {
	r := controller.NewFakeRecorder()
	r.Eventf(nil, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s to %d", "web-abc", 3)
	r.Eventf(nil, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", "boom")
	want := []string{"Normal ScalingReplicaSet Scaled up replica set web-abc to 3", "Warning FailedCreate Error creating: boom"}
	if got := r.Events(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	r.Reset()
	if len(r.Events()) != 0 {
		t.Fatal("Reset kept events")
	}
}
