package rollouts

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolveFenceposts(t *testing.T) {
	str := func(s string) *intstr.IntOrString { return new(intstr.FromString(s)) }
	tests := []struct {
		maxSurge, maxUnavailable *intstr.IntOrString
		desired                  int32
		wantSurge, wantUnavail   int32
		wantErr                  bool
	}{
		// upstream deployment_util_test.go TestResolveFenceposts
		{str("0%"), str("0%"), 0, 0, 1, false},
		{str("39%"), str("39%"), 10, 4, 3, false},
		{str("oops"), str("39%"), 10, 0, 0, true},
		{str("55%"), str("urg"), 10, 0, 0, true},
		{nil, str("39%"), 10, 0, 3, false},
		{str("39%"), nil, 10, 4, 0, false},
		{nil, nil, 10, 0, 1, false},
		// the defaults, 25%/25%, at the sizes of k8s-semantics.md 1.3
		{str("25%"), str("25%"), 1, 1, 0, false},
		{str("25%"), str("25%"), 3, 1, 0, false},
		{str("25%"), str("25%"), 4, 1, 1, false},
		{str("25%"), str("25%"), 10, 3, 2, false},
		// absolute values pass through; both zero bumps unavailable
		{new(intstr.FromInt32(3)), new(intstr.FromInt32(2)), 10, 3, 2, false},
		{new(intstr.FromInt32(0)), new(intstr.FromInt32(0)), 10, 0, 1, false},
		// rounding: surge up, unavailable down
		{str("1%"), str("1%"), 2, 1, 0, false},
		{str("0%"), str("1%"), 2, 0, 1, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			surge, unavail, err := ResolveFenceposts(tt.maxSurge, tt.maxUnavailable, tt.desired)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if surge != tt.wantSurge || unavail != tt.wantUnavail {
				t.Errorf("got %d:%d, want %d:%d", surge, unavail, tt.wantSurge, tt.wantUnavail)
			}
		})
	}
}

// upstream TestMaxUnavailable (maxSurge 1)
func TestMaxUnavailable(t *testing.T) {
	d := func(replicas int32, mu intstr.IntOrString) *appsv1.Deployment {
		return newDeployment("foo", replicas, nil, new(intstr.FromInt32(1)), &mu, nil)
	}
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want int32
	}{
		{"maxUnavailable less than replicas", d(10, intstr.FromInt32(5)), 5},
		{"maxUnavailable equal replicas", d(10, intstr.FromInt32(10)), 10},
		{"maxUnavailable greater than replicas", d(5, intstr.FromInt32(10)), 5},
		{"maxUnavailable with replicas is 0", d(0, intstr.FromInt32(10)), 0},
		{"maxUnavailable with Recreate deployment strategy", recreate, 0},
		{"maxUnavailable less than replicas with percents", d(10, intstr.FromString("50%")), 5},
		{"maxUnavailable equal replicas with percents", d(10, intstr.FromString("100%")), 10},
		{"maxUnavailable greater than replicas with percents", d(5, intstr.FromString("100%")), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxUnavailable(tt.d); got != tt.want {
				t.Errorf("MaxUnavailable = %d, want %d", got, tt.want)
			}
		})
	}
}

// upstream TestMinAvailable (maxSurge 1)
func TestMinAvailable(t *testing.T) {
	d := func(replicas int32, mu intstr.IntOrString) *appsv1.Deployment {
		return newDeployment("foo", replicas, nil, new(intstr.FromInt32(1)), &mu, nil)
	}
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{
		Replicas: new(int32(10)),
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
	}}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want int32
	}{
		{"replicas greater than maxUnavailable", d(10, intstr.FromInt32(5)), 5},
		{"replicas equal maxUnavailable", d(10, intstr.FromInt32(10)), 0},
		{"replicas less than maxUnavailable", d(5, intstr.FromInt32(10)), 0},
		{"replicas is 0", d(0, intstr.FromInt32(10)), 0},
		{"minAvailable with Recreate deployment strategy", recreate, 0},
		{"replicas greater than maxUnavailable with percents", d(10, intstr.FromString("60%")), 4},
		{"replicas equal maxUnavailable with percents", d(10, intstr.FromString("100%")), 0},
		{"replicas less than maxUnavailable with percents", d(5, intstr.FromString("100%")), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MinAvailable(tt.d); got != tt.want {
				t.Errorf("MinAvailable = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMaxSurge(t *testing.T) {
	recreate := newDeployment("foo", 10, nil, new(intstr.FromInt32(3)), nil, nil)
	recreate.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	undefaulted := newDeployment("foo", 10, nil, nil, nil, nil)
	undefaulted.Spec.Strategy.RollingUpdate = nil
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want int32
	}{
		{"absolute", newDeployment("foo", 10, nil, new(intstr.FromInt32(3)), nil, nil), 3},
		{"percent rounds up", newDeployment("foo", 10, nil, new(intstr.FromString("25%")), nil, nil), 3},
		{"recreate", recreate, 0},
		{"nil rollingUpdate is the 25% default", undefaulted, 3},
		{"invalid value resolves to 0", newDeployment("foo", 10, nil, new(intstr.FromString("oops")), nil, nil), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaxSurge(tt.d); got != tt.want {
				t.Errorf("MaxSurge = %d, want %d", got, tt.want)
			}
		})
	}
}
