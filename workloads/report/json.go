package report

import (
	"encoding/json"

	"github.com/berth-io/berth/workloads"
)

// jsonReport is the JSON output. Key names are part of the contract: keep
// them stable, lowerCamelCase.
type jsonReport struct {
	Valid  bool `json:"valid"`
	Strict bool `json:"strict,omitempty"`
	// Summary is always present, with every count (zero included).
	Summary   jsonSummary    `json:"summary"`
	Documents []jsonDocument `json:"documents"`
	// Diagnostics are the findings tied to no document.
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
}

type jsonSummary struct {
	Files     int `json:"files"`
	Documents int `json:"documents"`
	Valid     int `json:"valid"`
	Invalid   int `json:"invalid"`
	Ignored   int `json:"ignored"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
}

type jsonDocument struct {
	File        string           `json:"file"`
	Doc         int              `json:"doc"` // 0-based index in the file
	Line        int              `json:"line,omitempty"`
	APIVersion  string           `json:"apiVersion,omitempty"`
	Kind        string           `json:"kind,omitempty"`
	Namespace   string           `json:"namespace,omitempty"`
	Name        string           `json:"name,omitempty"`
	Valid       bool             `json:"valid"`
	Ignored     bool             `json:"ignored,omitempty"`
	Diagnostics []jsonDiagnostic `json:"diagnostics,omitempty"`
}

type jsonDiagnostic struct {
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Field    string `json:"field,omitempty"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	// Object is set on global findings only; a document names its object.
	Object string `json:"object,omitempty"`
}

func (w *Writer) closeJSON(s workloads.Summary) error {
	rep := jsonReport{
		Valid:  w.valid(s),
		Strict: w.opts.Strict,
		Summary: jsonSummary{
			Files: s.Files, Documents: s.Documents, Valid: s.Valid, Invalid: s.Invalid,
			Ignored: s.Ignored, Errors: s.Errors, Warnings: s.Warnings,
		},
		Documents:   make([]jsonDocument, 0, len(w.docs)),
		Diagnostics: make([]jsonDiagnostic, 0, len(w.globals)),
	}
	for _, r := range w.docs {
		doc := jsonDocument{
			File: r.File, Doc: r.Doc, Line: r.Line,
			APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name,
			Valid: r.Valid(w.opts.Strict), Ignored: r.Ignored,
		}
		for _, d := range r.Diagnostics {
			jd := w.jsonDiagnostic(d)
			jd.Object = ""
			doc.Diagnostics = append(doc.Diagnostics, jd)
		}
		rep.Documents = append(rep.Documents, doc)
	}
	for _, g := range w.globals {
		rep.Diagnostics = append(rep.Diagnostics, w.jsonDiagnostic(g.d))
	}
	enc := json.NewEncoder(w.out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func (w *Writer) jsonDiagnostic(d workloads.Diagnostic) jsonDiagnostic {
	return jsonDiagnostic{
		Severity: w.severity(d).String(),
		File:     d.Pos.File,
		Line:     d.Pos.Line,
		Column:   d.Pos.Col,
		Field:    d.Field,
		Rule:     d.Rule,
		Message:  d.Message,
		Object:   d.Object,
	}
}
