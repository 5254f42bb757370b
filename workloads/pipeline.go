package workloads

import (
	"io"
	"strings"
)

// Sink receives the results of a validation run in input order.
type Sink interface {
	// Document receives one document's result.
	Document(DocumentResult)
	// Diagnostic receives a finding tied to no single document: an
	// unreadable file, an input with no documents, a missing reference.
	Diagnostic(Diagnostic)
}

// ValidateOptions tune a validation run.
type ValidateOptions struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Strict counts warnings as errors in the summary.
	Strict bool
}

// Validate decodes, defaults and validates every manifest under paths, the
// way a Git revision is checked before it is applied, streaming results to
// sink: one document is in memory at a time.
func Validate(paths []string, opts ValidateOptions, sink Sink) Summary {
	return run(paths, opts, sink, nil)
}

// Load decodes, defaults and validates every manifest under paths, as
// Validate does, and returns the objects and every finding. The objects
// are only good to apply when no finding is an error: a revision applies
// whole or not at all.
func Load(paths []string) ([]*Object, []Diagnostic, Summary) {
	var (
		objs  []*Object
		diags diagnosticList
	)
	sum := run(paths, ValidateOptions{}, &diags, func(o *Object) { objs = append(objs, o) })
	return objs, diags, sum
}

// diagnosticList is a Sink keeping every finding.
type diagnosticList []Diagnostic

func (l *diagnosticList) Document(r DocumentResult) { *l = append(*l, r.Diagnostics...) }
func (l *diagnosticList) Diagnostic(d Diagnostic)   { *l = append(*l, d) }

// run is Validate, also handing each decoded object to keep (when not nil).
func run(paths []string, opts ValidateOptions, sink Sink, keep func(*Object)) Summary {
	var sum Summary
	dec, chk := NewDecoder(), NewChecker()
	report := func(r DocumentResult) {
		sum.Documents++
		switch {
		case r.Ignored && r.Valid(false):
			sum.Ignored++
		case r.Valid(opts.Strict):
			sum.Valid++
		default:
			sum.Invalid++
		}
		for _, d := range r.Diagnostics {
			sum.count(d)
		}
		sink.Document(r)
	}
	global := func(d Diagnostic) {
		sum.count(d)
		sink.Diagnostic(d)
	}
	walkInputs(paths, opts.Stdin, func(name string, r io.Reader, err error) {
		if err == nil {
			sum.Files++
			err = dec.DecodeFile(name, r, func(d Decoded) {
				if d.Object != nil {
					d.Result.Diagnostics = append(d.Result.Diagnostics, chk.Check(d.Object)...)
					d.Result.Namespace = strings.Clone(d.Object.Meta().GetNamespace()) // as defaulted
					if keep != nil {
						keep(d.Object)
					}
				}
				report(d.Result)
			})
		}
		if err != nil {
			sum.Unreadable++
			global(Diagnostic{Severity: SeverityError, Pos: Position{File: name}, Rule: RuleIOError, Message: ioMessage(name, err)})
		}
	})
	for _, d := range chk.Finish() {
		global(d)
	}
	if sum.Documents == 0 && sum.Unreadable == 0 {
		global(Diagnostic{
			Severity: SeverityError, Pos: Position{File: strings.Join(paths, " ")}, Rule: RuleNoDocuments,
			Message: "no Kubernetes manifests found (berth reads *.yaml, *.yml and *.json); a check that validates nothing must not pass",
		})
	}
	return sum
}

func (s *Summary) count(d Diagnostic) {
	if d.Severity == SeverityError {
		s.Errors++
	} else {
		s.Warnings++
	}
}

// ioMessage turns an I/O error into a message naming the path once.
func ioMessage(name string, err error) string {
	msg := err.Error()
	if strings.Contains(msg, name) {
		return "cannot read: " + msg
	}
	return "cannot read " + name + ": " + msg
}
