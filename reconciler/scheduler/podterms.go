package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podTerm is a parsed pod (anti-)affinity term, upstream's
// framework.AffinityTerm: which pods it selects (labelSelector within
// namespaces) and the topology key whose domains it is about.
type podTerm struct {
	topologyKey string
	selector    labels.Selector
	// namespaces the term selects; allNamespaces when its
	// namespaceSelector is empty ({} selects every namespace).
	namespaces    []string
	allNamespaces bool
	weight        int64 // for preferred terms
}

// parsePodTerm parses term of a pod in namespace ns. As upstream, a term
// without namespaces and namespaceSelector selects the pod's own
// namespace; a nil labelSelector selects nothing; an invalid one selects
// nothing (upstream rejects the pod in PreFilter). berth's scheduler does
// not watch Namespaces, so a non-empty namespaceSelector adds no
// namespaces to the listed ones.
func parsePodTerm(term *corev1.PodAffinityTerm, ns string, weight int32) podTerm {
	t := podTerm{topologyKey: term.TopologyKey, namespaces: term.Namespaces, weight: int64(weight)}
	if len(t.namespaces) == 0 && term.NamespaceSelector == nil {
		t.namespaces = []string{ns}
	}
	if s := term.NamespaceSelector; s != nil && len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		t.allNamespaces = true
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		sel = labels.Nothing()
	}
	t.selector = sel
	return t
}

// matches reports whether a pod in namespace ns with labels lbls is one
// the term selects.
func (t *podTerm) matches(ns string, lbls labels.Set) bool {
	if !t.allNamespaces {
		found := false
		for _, n := range t.namespaces {
			if n == ns {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return t.selector.Matches(lbls)
}

// podTerms are a pod's parsed inter-pod affinity rules.
type podTerms struct {
	requiredAffinity, requiredAnti   []podTerm
	preferredAffinity, preferredAnti []podTerm
}

// empty reports whether the pod has no inter-pod affinity at all.
func (p *podTerms) empty() bool {
	return len(p.requiredAffinity) == 0 && len(p.requiredAnti) == 0 &&
		len(p.preferredAffinity) == 0 && len(p.preferredAnti) == 0
}

// parsePodTerms parses pod's podAffinity and podAntiAffinity. Preferred
// terms of weight 0 are dropped, as upstream.
func parsePodTerms(pod *corev1.Pod) podTerms {
	var out podTerms
	a := pod.Spec.Affinity
	if a == nil {
		return out
	}
	ns := pod.Namespace
	required := func(terms []corev1.PodAffinityTerm) []podTerm {
		var ts []podTerm
		for i := range terms {
			ts = append(ts, parsePodTerm(&terms[i], ns, 1))
		}
		return ts
	}
	preferred := func(terms []corev1.WeightedPodAffinityTerm) []podTerm {
		var ts []podTerm
		for i := range terms {
			if terms[i].Weight != 0 {
				ts = append(ts, parsePodTerm(&terms[i].PodAffinityTerm, ns, terms[i].Weight))
			}
		}
		return ts
	}
	if pa := a.PodAffinity; pa != nil {
		out.requiredAffinity = required(pa.RequiredDuringSchedulingIgnoredDuringExecution)
		out.preferredAffinity = preferred(pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		out.requiredAnti = required(pa.RequiredDuringSchedulingIgnoredDuringExecution)
		out.preferredAnti = preferred(pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return out
}
