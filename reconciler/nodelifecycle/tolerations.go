package nodelifecycle

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readinessTaints are the taints the lifecycle controller owns.
var readinessTaints = []corev1.Taint{
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
}

// setReadinessTaints makes node's not-ready/unreachable taints (NoSchedule
// and NoExecute) follow its Ready condition, as upstream's
// doNoScheduleTaintingPass and doNoExecuteTaintingPass: Ready=False gets
// not-ready, Unknown gets unreachable, True neither. A node with no Ready
// condition is left alone until it is marked Unknown. NoExecute taints
// get timeAdded = now, from which tolerationSeconds count. It reports
// whether anything changed.
func setReadinessTaints(node *corev1.Node, now time.Time) bool {
	cond := readyCondition(&node.Status)
	if cond == nil {
		return false
	}
	var want string
	switch cond.Status {
	case corev1.ConditionFalse:
		want = corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		want = corev1.TaintNodeUnreachable
	}
	changed := false
	kept := node.Spec.Taints[:0:0]
	has := map[corev1.TaintEffect]bool{}
	for _, t := range node.Spec.Taints {
		if isReadinessTaint(t) && t.Key != want {
			changed = true
			continue
		}
		if t.Key == want && want != "" {
			has[t.Effect] = true
		}
		kept = append(kept, t)
	}
	if want != "" {
		added := metav1.NewTime(now.Truncate(time.Second))
		for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
			if has[effect] {
				continue
			}
			t := corev1.Taint{Key: want, Effect: effect}
			if effect == corev1.TaintEffectNoExecute {
				t.TimeAdded = &added
			}
			kept = append(kept, t)
			changed = true
		}
	}
	if changed {
		node.Spec.Taints = kept
	}
	return changed
}

func isReadinessTaint(t corev1.Taint) bool {
	return slices.ContainsFunc(readinessTaints, func(r corev1.Taint) bool { return r.Key == t.Key && r.Effect == t.Effect })
}

// Tolerates reports whether tol tolerates taint (upstream's
// Toleration.ToleratesTaint without the alpha comparison operators): the
// effect empty or equal, the key empty (with Exists: every taint) or
// equal, and Exists or an equal value.
func Tolerates(tol *corev1.Toleration, taint *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != taint.Key {
		return false
	}
	switch tol.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return tol.Value == taint.Value
	}
	return false
}

// evictionDelay returns how long a pod with tols may stay on a node with
// taints (NoExecute ones count): evict is false when it may stay for
// good; otherwise after delay (0: at once). Upstream's taint manager: an
// untolerated taint evicts at once, otherwise the smallest
// tolerationSeconds of the matching tolerations (none: forever; zero or
// negative: at once).
func evictionDelay(taints []corev1.Taint, tols []corev1.Toleration) (delay time.Duration, evict bool) {
	minSeconds := int64(-1)
	for i := range taints {
		taint := &taints[i]
		if taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		tolerated := false
		for j := range tols {
			tol := &tols[j]
			if !Tolerates(tol, taint) {
				continue
			}
			tolerated = true
			if tol.TolerationSeconds != nil {
				s := max(*tol.TolerationSeconds, 0)
				if minSeconds < 0 || s < minSeconds {
					minSeconds = s
				}
			}
		}
		if !tolerated {
			return 0, true
		}
	}
	if minSeconds < 0 {
		return 0, false
	}
	return time.Duration(minSeconds) * time.Second, true
}
