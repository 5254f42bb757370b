package workloads

// Rule describes one check: its stable id (printed in brackets by `berth
// validate`, used by SARIF and JUnit output), its usual severity and what it
// checks. Every rule has a fixture under testdata/rules/<id>.yaml that fails it.
type Rule struct {
	ID       string
	Severity Severity
	Summary  string
}

// Rule ids. Decoding rules come first, then validation, then berth's own.
const (
	RuleIOError         = "io-error"
	RuleBinary          = "not-text"
	RuleTooLarge        = "too-large"
	RuleYAMLSyntax      = "yaml-syntax"
	RuleDuplicateKey    = "duplicate-key"
	RuleYAMLBomb        = "yaml-alias-bomb"
	RuleTooDeep         = "too-deep"
	RuleNotAnObject     = "not-an-object"
	RuleUnknownField    = "unknown-field"
	RuleWrongType       = "wrong-type"
	RuleUnknownKind     = "unknown-kind"
	RuleRemovedAPI      = "removed-api"
	RuleUnservedKind    = "unserved-kind"
	RuleNoDocuments     = "no-documents"
	RuleRequired        = "required"
	RuleName            = "dns1123-name"
	RuleLabels          = "label-syntax"
	RuleSelector        = "selector-syntax"
	RuleSelectorMissing = "selector-missing"
	RuleSelectorMatch   = "selector-mismatch"
	RuleSurgeUnavail    = "surge-unavailable-zero"
	RuleIntOrPercent    = "int-or-percent"
	RuleNonNegative     = "non-negative"
	RuleCronSchedule    = "cron-schedule"
	RuleCronTimeZone    = "cron-timezone"
	RuleEnum            = "enum"
	RuleNodeSelectorOp  = "node-selector-operator"
	RulePort            = "port-range"
	RulePortName        = "port-name"
	RuleQuantity        = "quantity"
	RuleRequestsLimits  = "requests-exceed-limits"
	RuleVolumeMount     = "volume-mount"
	RuleUniqueName      = "unique-name"
	RuleProbeHandler    = "probe-handler"
	RuleDuplicateObject = "duplicate-object"
	RuleMissingRef      = "missing-reference"
	RuleNotHonoured     = "not-honoured"
	RuleInvalid         = "invalid-value"
)

// Rules lists every rule, in the order above. Output formats that describe
// rules (SARIF) and the fixture test read it.
func Rules() []Rule {
	e, w := SeverityError, SeverityWarning
	return []Rule{
		{RuleIOError, e, "a file or folder could not be read"},
		{RuleBinary, e, "the input is not text"},
		{RuleTooLarge, e, "a document is larger than berth accepts"},
		{RuleYAMLSyntax, e, "the document is not valid YAML (or UTF-8)"},
		{RuleDuplicateKey, e, "a mapping sets the same key twice"},
		{RuleYAMLBomb, e, "YAML aliases expand beyond any real manifest"},
		{RuleTooDeep, e, "the document nests deeper than any real manifest"},
		{RuleNotAnObject, e, "the document is not a Kubernetes object"},
		{RuleUnknownField, e, "a field the kind does not have (often a typo)"},
		{RuleWrongType, e, "a value of the wrong type (a number where a string belongs, ...)"},
		{RuleUnknownKind, e, "an apiVersion/kind berth does not know"},
		{RuleRemovedAPI, e, "an API version Kubernetes has removed"},
		{RuleUnservedKind, w, "a Kubernetes kind berth does not run; ignored"},
		{RuleNoDocuments, e, "the input holds no manifests"},
		{RuleRequired, e, "a required field is missing"},
		{RuleName, e, "a name is not a valid DNS-1123 name"},
		{RuleLabels, e, "a label or annotation key or value is malformed"},
		{RuleSelector, e, "a label selector is malformed"},
		{RuleSelectorMissing, e, "a workload has no selector"},
		{RuleSelectorMatch, e, "a selector does not match the pod template's labels"},
		{RuleSurgeUnavail, e, "maxSurge and maxUnavailable are both 0"},
		{RuleIntOrPercent, e, "an int-or-percent value is malformed or out of range"},
		{RuleNonNegative, e, "a count or duration is negative"},
		{RuleCronSchedule, e, "a CronJob schedule does not parse"},
		{RuleCronTimeZone, e, "a CronJob time zone is invalid"},
		{RuleEnum, e, "a value is not one of those allowed"},
		{RuleNodeSelectorOp, e, "a node selector requirement's operator and values disagree"},
		{RulePort, e, "a port number is outside 1-65535"},
		{RulePortName, e, "a port name is malformed or not unique"},
		{RuleQuantity, e, "a resource quantity is invalid"},
		{RuleRequestsLimits, e, "a resource request exceeds its limit"},
		{RuleVolumeMount, e, "a volume mount names no declared volume, or is malformed"},
		{RuleUniqueName, e, "two containers, volumes or other named items share a name"},
		{RuleProbeHandler, e, "a probe or hook does not have exactly one handler"},
		{RuleDuplicateObject, e, "the same object (kind, namespace, name) is defined twice"},
		{RuleMissingRef, w, "a ConfigMap or Secret referred to is not in the input"},
		{RuleNotHonoured, w, "a field berth does not honour (an error under --strict)"},
		{RuleInvalid, e, "a value Kubernetes would refuse"},
	}
}
