package workloads

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// affinity checks spec.affinity: node affinity terms, pod (anti-)affinity
// terms.
func (c *checks) affinity(a *corev1.Affinity, path *field.Path) {
	if a == nil {
		return
	}
	if na := a.NodeAffinity; na != nil {
		c.nodeAffinity(na, path.Child("nodeAffinity"))
	}
	if pa := a.PodAffinity; pa != nil {
		p := path.Child("podAffinity")
		c.podAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, p.Child("requiredDuringSchedulingIgnoredDuringExecution"))
		c.weightedPodAffinityTerms(pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("preferredDuringSchedulingIgnoredDuringExecution"))
	}
	if pa := a.PodAntiAffinity; pa != nil {
		p := path.Child("podAntiAffinity")
		c.podAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, p.Child("requiredDuringSchedulingIgnoredDuringExecution"))
		c.weightedPodAffinityTerms(pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("preferredDuringSchedulingIgnoredDuringExecution"))
	}
}

// nodeAffinity checks required and preferred node selector terms.
func (c *checks) nodeAffinity(na *corev1.NodeAffinity, path *field.Path) {
	if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
		terms := path.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		if len(req.NodeSelectorTerms) == 0 {
			c.required(terms, RuleRequired, "must have at least one node selector term")
		}
		for i, t := range req.NodeSelectorTerms {
			c.nodeSelectorTerm(t, terms.Index(i))
		}
	}
	preferred := path.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		c.weight(t.Weight, preferred.Index(i).Child("weight"))
		c.nodeSelectorTerm(t.Preference, preferred.Index(i).Child("preference"))
	}
}

// weight checks the weight of a preferred scheduling term.
func (c *checks) weight(w int32, path *field.Path) {
	if w < 1 || w > 100 {
		c.invalid(path, RuleInvalid, w, "must be in the range 1-100")
	}
}

// nodeSelectorTerm checks the requirements of one node selector term.
func (c *checks) nodeSelectorTerm(t corev1.NodeSelectorTerm, path *field.Path) {
	for i, req := range t.MatchExpressions {
		c.nodeSelectorRequirement(req, path.Child("matchExpressions").Index(i))
	}
	for i, req := range t.MatchFields {
		c.nodeFieldRequirement(req, path.Child("matchFields").Index(i))
	}
}

// nodeSelectorRequirement is upstream's ValidateNodeSelectorRequirement,
// plus the check the scheduler makes later: Gt and Lt compare integers.
func (c *checks) nodeSelectorRequirement(req corev1.NodeSelectorRequirement, path *field.Path) {
	values := path.Child("values")
	switch req.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(req.Values) == 0 {
			c.required(values, RuleNodeSelectorOp, "must be specified when `operator` is 'In' or 'NotIn'")
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(req.Values) > 0 {
			c.forbidden(values, RuleNodeSelectorOp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(req.Values) != 1 {
			c.required(values, RuleNodeSelectorOp, "must be specified single value when `operator` is 'Lt' or 'Gt'")
		} else if _, err := strconv.ParseInt(req.Values[0], 10, 64); err != nil {
			c.invalid(values.Index(0), RuleNodeSelectorOp, req.Values[0], "must be an integer when `operator` is 'Lt' or 'Gt'")
		}
	default:
		c.invalid(path.Child("operator"), RuleNodeSelectorOp, req.Operator,
			"not a valid selector operator (In, NotIn, Exists, DoesNotExist, Gt or Lt)")
	}
	c.labelKey(req.Key, path.Child("key"), RuleSelector)
}

// nodeFieldRequirement checks a matchFields requirement: only
// metadata.name, with In or NotIn and one value.
func (c *checks) nodeFieldRequirement(req corev1.NodeSelectorRequirement, path *field.Path) {
	switch req.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(req.Values) != 1 {
			c.required(path.Child("values"), RuleNodeSelectorOp, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector")
		}
	default:
		c.invalid(path.Child("operator"), RuleNodeSelectorOp, req.Operator, "not a valid selector operator (In or NotIn)")
	}
	if req.Key != metav1.ObjectNameField {
		c.invalid(path.Child("key"), RuleInvalid, req.Key, "not a valid field selector key (metadata.name)")
		return
	}
	for i, v := range req.Values {
		c.dnsSubdomain(v, path.Child("values").Index(i), RuleName)
	}
}

func (c *checks) podAffinityTerms(terms []corev1.PodAffinityTerm, path *field.Path) {
	for i, t := range terms {
		c.podAffinityTerm(t, path.Index(i))
	}
}

func (c *checks) weightedPodAffinityTerms(terms []corev1.WeightedPodAffinityTerm, path *field.Path) {
	for i, t := range terms {
		c.weight(t.Weight, path.Index(i).Child("weight"))
		c.podAffinityTerm(t.PodAffinityTerm, path.Index(i).Child("podAffinityTerm"))
	}
}

// podAffinityTerm checks one pod (anti-)affinity term: its selectors, its
// namespaces, and the topology key that defines "together".
func (c *checks) podAffinityTerm(t corev1.PodAffinityTerm, path *field.Path) {
	c.labelSelector(t.LabelSelector, path.Child("labelSelector"))
	c.labelSelector(t.NamespaceSelector, path.Child("namespaceSelector"))
	for i, ns := range t.Namespaces {
		c.dnsLabel(ns, path.Child("namespaces").Index(i), RuleName)
	}
	if t.TopologyKey == "" {
		c.required(path.Child("topologyKey"), RuleInvalid, "can not be empty")
	} else {
		c.labelKey(t.TopologyKey, path.Child("topologyKey"), RuleInvalid)
	}
}

// tolerations is upstream's ValidateTolerations.
func (c *checks) tolerations(list []corev1.Toleration, path *field.Path) {
	for i, t := range list {
		p := path.Index(i)
		if t.Key != "" {
			c.labelKey(t.Key, p.Child("key"), RuleLabels)
		} else if t.Operator != corev1.TolerationOpExists {
			c.invalid(p.Child("operator"), RuleEnum, t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			c.invalid(p.Child("effect"), RuleEnum, t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
		}
		switch t.Operator {
		case corev1.TolerationOpEqual, "":
			c.invalidAll(p.Child("value"), RuleLabels, t.Value, validation.IsValidLabelValue(t.Value))
		case corev1.TolerationOpExists:
			if t.Value != "" {
				c.invalid(p.Child("operator"), RuleEnum, t.Operator, "value must be empty when `operator` is 'Exists'")
			}
		default:
			unsupportedValue(c, p.Child("operator"), RuleEnum, t.Operator, corev1.TolerationOpEqual, corev1.TolerationOpExists)
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			unsupportedValue(c, p.Child("effect"), RuleEnum, t.Effect,
				corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)
		}
	}
}

// topologySpread checks spec.topologySpreadConstraints.
func (c *checks) topologySpread(list []corev1.TopologySpreadConstraint, path *field.Path) {
	type pair struct {
		key  string
		when corev1.UnsatisfiableConstraintAction
	}
	seen := map[pair]bool{}
	for i, t := range list {
		p := path.Index(i)
		if t.MaxSkew <= 0 {
			c.invalid(p.Child("maxSkew"), RuleInvalid, t.MaxSkew, "must be greater than zero")
		}
		if t.TopologyKey == "" {
			c.required(p.Child("topologyKey"), RuleRequired, "can not be empty")
		} else {
			c.labelKey(t.TopologyKey, p.Child("topologyKey"), RuleInvalid)
		}
		switch t.WhenUnsatisfiable {
		case corev1.DoNotSchedule, corev1.ScheduleAnyway:
		case "":
			c.required(p.Child("whenUnsatisfiable"), RuleRequired, "")
		default:
			unsupportedValue(c, p.Child("whenUnsatisfiable"), RuleEnum, t.WhenUnsatisfiable, corev1.DoNotSchedule, corev1.ScheduleAnyway)
		}
		if k := (pair{t.TopologyKey, t.WhenUnsatisfiable}); seen[k] {
			c.duplicate(p, RuleUniqueName, "{"+t.TopologyKey+", "+string(t.WhenUnsatisfiable)+"}")
		} else {
			seen[k] = true
		}
		c.labelSelector(t.LabelSelector, p.Child("labelSelector"))
	}
}
