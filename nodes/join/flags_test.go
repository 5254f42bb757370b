package join

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"tier=edge", map[string]string{"tier": "edge"}, ""},
		{"tier=edge, example.com/zone=a,empty=", map[string]string{"tier": "edge", "example.com/zone": "a", "empty": ""}, ""},
		{"tier", nil, `invalid label "tier": expected key=value`},
		{"-bad=x", nil, `invalid label key "-bad"`},
		{"tier=not ok", nil, `invalid label value "not ok" of tier`},
		{"a=1,a=2", nil, "a is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLabels(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestParseTaints(t *testing.T) {
	tests := []struct {
		in      string
		want    []corev1.Taint
		wantErr string
	}{
		{"", nil, ""},
		{"dedicated=edge:NoSchedule", []corev1.Taint{{Key: "dedicated", Value: "edge", Effect: corev1.TaintEffectNoSchedule}}, ""},
		{"gpu:NoExecute,example.com/x=y:PreferNoSchedule", []corev1.Taint{
			{Key: "gpu", Effect: corev1.TaintEffectNoExecute},
			{Key: "example.com/x", Value: "y", Effect: corev1.TaintEffectPreferNoSchedule}}, ""},
		{"dedicated=edge", nil, "invalid taint spec: dedicated=edge, expected key=value:Effect or key:Effect"},
		{"dedicated=edge:Sometimes", nil, "invalid taint effect: Sometimes, unsupported taint effect"},
		{"bad key=x:NoSchedule", nil, "invalid taint spec: bad key=x:NoSchedule, name part must consist of"},
		{"k=bad value:NoSchedule", nil, "invalid taint spec: k=bad value:NoSchedule, a valid label must"},
		{"k=a:NoSchedule,k=b:NoSchedule", nil, `duplicate taint key "k" with effect NoSchedule`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTaints(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestSkewMessage(t *testing.T) {
	tests := []struct {
		offset   time.Duration
		wantPart string
	}{
		{0, ""},
		{30 * time.Second, ""},
		{-29 * time.Second, ""},
		{31 * time.Second, "31s behind the server's"},
		{-5 * time.Minute, "5m0s ahead of the server's"},
	}
	for _, tt := range tests {
		got := skewMessage(tt.offset)
		if (tt.wantPart == "") != (got == "") || !strings.Contains(got, tt.wantPart) {
			t.Errorf("skewMessage(%s) = %q, want it to hold %q", tt.offset, got, tt.wantPart)
		}
	}
}
