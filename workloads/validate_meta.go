package workloads

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nameFunc checks a metadata.name (prefix: a generateName, which may end
// in '-'). It returns upstream's messages.
type nameFunc func(name string, prefix bool) []string

// The name rules of the served kinds, as upstream assigns them: most kinds
// take a DNS-1123 subdomain; Namespace and StatefulSet a DNS-1123 label
// (their names end up in host names); Service a DNS-1035 label (it must
// start with a letter, as it becomes a DNS name and environment variables).
var (
	subdomainName nameFunc = apivalidation.NameIsDNSSubdomain
	labelName     nameFunc = apivalidation.NameIsDNSLabel
	dns1035Name   nameFunc = apivalidation.NameIsDNS1035Label
)

// maxAnnotationsBytes is upstream's limit on the total size of an object's
// annotations, keys and values.
const maxAnnotationsBytes = apivalidation.TotalAnnotationSizeLimitB

var metadataPath = field.NewPath("metadata")

// objectMeta checks an object's metadata: name (or generateName),
// namespace, labels and annotations.
func (c *checks) objectMeta(m *metav1.ObjectMeta, validName nameFunc) {
	if m.GenerateName != "" {
		c.invalidAll(metadataPath.Child("generateName"), RuleName, m.GenerateName, validName(m.GenerateName, true))
	}
	switch {
	case m.Name != "":
		c.invalidAll(metadataPath.Child("name"), RuleName, m.Name, validName(m.Name, false))
	case m.GenerateName == "":
		c.required(metadataPath.Child("name"), RuleRequired, "name or generateName is required")
	}
	if m.Namespace != "" {
		c.invalidAll(metadataPath.Child("namespace"), RuleName, m.Namespace, labelName(m.Namespace, false))
	}
	c.labelMap(m.Labels, metadataPath.Child("labels"), RuleLabels)
	c.annotations(m.Annotations, metadataPath.Child("annotations"))
}

// templateMeta checks the metadata of a pod template: only its labels and
// annotations mean anything.
func (c *checks) templateMeta(m *metav1.ObjectMeta, path *field.Path) {
	c.labelMap(m.Labels, path.Child("labels"), RuleLabels)
	c.annotations(m.Annotations, path.Child("annotations"))
}

// labelMap checks a map of labels (metadata.labels, a matchLabels, a
// nodeSelector): keys are qualified names ([prefix/]name), values label
// values. Findings sit on the key: metadata.labels[app].
func (c *checks) labelMap(m map[string]string, path *field.Path, rule string) {
	for _, k := range keysInOrder(m) {
		c.labelKey(k, path.Key(k), rule)
		c.invalidAll(path.Key(k), rule, m[k], validation.IsValidLabelValue(m[k]))
	}
}

// labelKey checks one label key (also a selector key, a topology key...).
func (c *checks) labelKey(key string, path *field.Path, rule string) {
	c.invalidAll(path, rule, key, validation.IsQualifiedName(key))
}

// annotations checks annotation keys (qualified names, case-insensitive)
// and the total size.
func (c *checks) annotations(m map[string]string, path *field.Path) {
	size := 0
	for _, k := range keysInOrder(m) {
		c.invalidAll(path.Key(k), RuleLabels, k, validation.IsQualifiedName(strings.ToLower(k)))
		size += len(k) + len(m[k])
	}
	if size > maxAnnotationsBytes {
		c.add(path, RuleLabels, field.TooLong(path, "", maxAnnotationsBytes))
	}
}

// labelSelector checks the syntax of a label selector (workload selectors,
// pod affinity terms, topology spread constraints).
func (c *checks) labelSelector(s *metav1.LabelSelector, path *field.Path) {
	if s == nil {
		return
	}
	c.labelMap(s.MatchLabels, path.Child("matchLabels"), RuleSelector)
	for i, req := range s.MatchExpressions {
		c.selectorRequirement(req, path.Child("matchExpressions").Index(i))
	}
}

// selectorRequirement is upstream's ValidateLabelSelectorRequirement.
func (c *checks) selectorRequirement(req metav1.LabelSelectorRequirement, path *field.Path) {
	switch req.Operator {
	case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
		if len(req.Values) == 0 {
			c.required(path.Child("values"), RuleSelector, "must be specified when `operator` is 'In' or 'NotIn'")
		}
	case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
		if len(req.Values) > 0 {
			c.forbidden(path.Child("values"), RuleSelector, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
		}
	default:
		c.invalid(path.Child("operator"), RuleSelector, req.Operator, "not a valid selector operator (In, NotIn, Exists or DoesNotExist)")
	}
	c.labelKey(req.Key, path.Child("key"), RuleSelector)
	for i, v := range req.Values {
		c.invalidAll(path.Child("values").Index(i), RuleSelector, v, validation.IsValidLabelValue(v))
	}
}

// workloadSelector checks spec.selector of a controller (Deployment,
// ReplicaSet, DaemonSet, StatefulSet): it must be set, valid, not empty,
// and select the pods of spec.template. kind names the controller in
// upstream's message ("empty selector is invalid for deployment").
func (c *checks) workloadSelector(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, spec *field.Path, kind string) {
	path := spec.Child("selector")
	if sel == nil {
		c.required(path, RuleSelectorMissing, "apps/v1 "+kind+"s need a selector; set it to match spec.template.metadata.labels")
		return
	}
	c.labelSelector(sel, path)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		c.invalid(path, RuleSelectorMatch, sel, "empty selector is invalid for "+strings.ToLower(kind))
		return
	}
	c.selectorMatchesTemplate(sel, tmpl, spec)
}

// selectorMatchesTemplate reports a selector that does not select the pods
// its controller creates (they would be created forever).
func (c *checks) selectorMatchesTemplate(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, spec *field.Path) {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return // a syntax error, reported by labelSelector
	}
	if !selector.Matches(labels.Set(tmpl.Labels)) {
		path := spec.Child("template", "metadata", "labels")
		c.invalid(path, RuleSelectorMatch, templateLabels(tmpl), "`selector` does not match template `labels`")
	}
}

// templateLabels gives the labels for a message; an absent map prints as {}.
func templateLabels(tmpl *corev1.PodTemplateSpec) map[string]string {
	if tmpl.Labels == nil {
		return map[string]string{}
	}
	return tmpl.Labels
}

// uniqueName checks the name of a container or volume: set, a DNS label,
// and not among seen, to which it is added.
func (c *checks) uniqueName(name string, path *field.Path, seen map[string]bool) {
	switch {
	case name == "":
		c.required(path, RuleRequired, "")
	case seen[name]:
		c.duplicate(path, RuleUniqueName, name)
	default:
		c.dnsLabel(name, path, RuleName)
		seen[name] = true
	}
}

// dnsLabel checks a field that must be a DNS-1123 label (container, port
// and volume names, hostname...).
func (c *checks) dnsLabel(value string, path *field.Path, rule string) {
	c.invalidAll(path, rule, value, validation.IsDNS1123Label(value))
}

// dnsSubdomain checks a field that must be a DNS-1123 subdomain (names of
// referenced objects, node names...).
func (c *checks) dnsSubdomain(value string, path *field.Path, rule string) {
	c.invalidAll(path, rule, value, validation.IsDNS1123Subdomain(value))
}

// maxLength reports a string longer than n characters, in upstream's words.
func (c *checks) maxLength(value string, n int, path *field.Path, rule string) {
	if len(value) > n {
		c.invalid(path, rule, value, fmt.Sprintf("must be no more than %d characters", n))
	}
}
