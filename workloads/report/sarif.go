package report

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/berth-io/berth/workloads"
)

// SARIF 2.1.0, the subset GitHub code scanning reads.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	berthURI     = "https://github.com/berth-io/berth"
	// srcRoot is the base of relative paths: the folder berth ran in,
	// normally the repository's root.
	srcRoot = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations,omitempty"`
	Results     []sarifResult     `json:"results"`
	Properties  *sarifRunProps    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	ShortDescription     sarifMessage       `json:"shortDescription"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// sarifRegion: SARIF lines and columns start at 1. GitHub requires
// startLine, so an unknown line is reported as line 1; an unknown column is
// left out.
type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// sarifInvocation carries the findings tied to no file, which cannot be
// results: GitHub rejects a result without a location.
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Descriptor sarifDescriptorRef `json:"descriptor"`
	Level      string             `json:"level"`
	Message    sarifMessage       `json:"message"`
}

type sarifDescriptorRef struct {
	ID string `json:"id"`
}

type sarifRunProps struct {
	Summary jsonSummary `json:"summary"`
}

func (w *Writer) closeSARIF(s workloads.Summary) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "berth", InformationURI: berthURI, Version: w.opts.Version,
		}},
		Results: []sarifResult{},
		Properties: &sarifRunProps{Summary: jsonSummary{
			Files: s.Files, Documents: s.Documents, Valid: s.Valid, Invalid: s.Invalid,
			Ignored: s.Ignored, Errors: s.Errors, Warnings: s.Warnings,
		}},
	}
	// Every given rule is listed, in the given order, so a rule's ruleIndex
	// is the same in every run and GitHub knows each rule's description
	// before it first fires. A rule that fires but was not given is appended.
	index := map[string]int{}
	addRule := func(r workloads.Rule) {
		index[r.ID] = len(run.Tool.Driver.Rules)
		text := r.Summary
		if text == "" {
			text = r.ID // GitHub titles an alert with it: never leave it empty
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID:                   r.ID,
			ShortDescription:     sarifMessage{Text: text},
			DefaultConfiguration: sarifConfiguration{Level: w.level(r.Severity)},
		})
	}
	for _, r := range w.opts.Rules {
		if _, dup := index[r.ID]; !dup {
			addRule(r)
		}
	}
	var notes []sarifNotification
	result := func(d *workloads.Diagnostic) {
		if d.Pos.File == "" {
			notes = append(notes, sarifNotification{
				Descriptor: sarifDescriptorRef{ID: d.Rule},
				Level:      w.level(d.Severity),
				Message:    sarifMessage{Text: message(*d)},
			})
			return
		}
		i, ok := index[d.Rule]
		if !ok {
			addRule(workloads.Rule{ID: d.Rule, Severity: d.Severity})
			i = index[d.Rule]
		}
		uri, base := sarifURI(d.Pos.File)
		run.Results = append(run.Results, sarifResult{
			RuleID:    d.Rule,
			RuleIndex: i,
			Level:     w.level(d.Severity),
			Message:   sarifMessage{Text: message(*d)},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: uri, URIBaseID: base},
				Region:           sarifRegion{StartLine: max(d.Pos.Line, 1), StartColumn: max(d.Pos.Col, 0)},
			}}},
		})
	}
	w.walk(func(r *workloads.DocumentResult) {
		for i := range r.Diagnostics {
			result(&r.Diagnostics[i])
		}
	}, result)
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	if notes != nil {
		run.Invocations = []sarifInvocation{{
			ExecutionSuccessful:        true,
			ToolExecutionNotifications: notes,
		}}
	}
	enc := json.NewEncoder(w.out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// level is SARIF's name for a severity (under Strict, always "error").
func (w *Writer) level(s workloads.Severity) string {
	if w.opts.Strict {
		return "error"
	}
	return s.String()
}

// sarifURI turns a file name as given into a URI reference: a relative path
// is relative to %SRCROOT%, an absolute one becomes a file: URI.
func sarifURI(file string) (uri, base string) {
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) || strings.HasPrefix(p, "/") {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/x → /C:/x
		}
		return (&url.URL{Scheme: "file", Path: p}).String(), ""
	}
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return (&url.URL{Path: p}).String(), srcRoot
}
