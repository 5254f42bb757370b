package workloads

import "fmt"

// Severity says whether a diagnostic makes its document invalid.
type Severity int

const (
	// SeverityError makes the document invalid: nothing from a revision
	// holding it is applied, and `berth validate` exits 1.
	SeverityError Severity = iota
	// SeverityWarning is reported but accepted (an error under --strict).
	SeverityWarning
)

// String returns "error" or "warning", as printed by `berth validate`.
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Position is a place in a source file. Line and Col are 1-based; 0 means
// unknown.
type Position struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"column,omitempty"`
}

// String formats the position as FILE:LINE:COL, or FILE alone when the line
// is unknown (an unreadable file).
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, max(p.Col, 1))
}

// Diagnostic is one finding about the input: an error or a warning, where it
// sits, the field it is about and the rule that found it.
type Diagnostic struct {
	Severity Severity `json:"-"`
	Pos      Position `json:"position"`
	// Field is the Kubernetes field path the finding is about
	// ("spec.template.spec.containers[0].image"); empty for whole-document
	// findings such as YAML syntax errors.
	Field string `json:"field,omitempty"`
	// Rule is the stable id of the check ("dns1123-name"); see Rules.
	Rule    string `json:"rule"`
	Message string `json:"message"`
	// Object names the object the finding is about ("Deployment default/web"),
	// empty when the document did not decode that far.
	Object string `json:"object,omitempty"`
}

// String formats the diagnostic as SPEC.md's text line:
// FILE:LINE:COL: error|warning: MESSAGE (FIELD.PATH) [RULE]
func (d Diagnostic) String() string {
	s := fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message)
	if d.Field != "" {
		s += " (" + d.Field + ")"
	}
	return s + " [" + d.Rule + "]"
}
