package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-io/berth/workloads"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

const (
	webYAML    = "deploy/web.yaml"
	brokenYAML = "base/broken.yaml"
	configYAML = "./base/config.yaml"
	lockedYAML = "secrets/locked.yaml"
)

func errAt(file string, line, col int, field, rule, msg string) workloads.Diagnostic {
	return workloads.Diagnostic{Severity: workloads.SeverityError, Pos: workloads.Position{File: file, Line: line, Col: col}, Field: field, Rule: rule, Message: msg}
}

func warnAt(file string, line, col int, field, rule, msg string) workloads.Diagnostic {
	d := errAt(file, line, col, field, rule, msg)
	d.Severity = workloads.SeverityWarning
	return d
}

// input is a small run: a step is a document or, with global set, a
// finding tied to no document.
type step struct {
	doc    workloads.DocumentResult
	global *workloads.Diagnostic
}

func fixture() ([]step, workloads.Summary) {
	locked := errAt(lockedYAML, 0, 0, "", workloads.RuleIOError, "open secrets/locked.yaml: permission denied")
	empty := warnAt("", 0, 0, "", workloads.RuleNoDocuments, "no documents found")
	steps := []step{
		{doc: workloads.DocumentResult{
			Origin:     workloads.Origin{File: webYAML, Doc: 0, Line: 1},
			APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web",
			Diagnostics: []workloads.Diagnostic{
				errAt(webYAML, 9, 7, "spec.selector.matchLabels", workloads.RuleSelectorMatch, "selector does not match template labels"),
				warnAt(webYAML, 21, 11, "spec.template.spec.containers[0].securityContext.seLinuxOptions", workloads.RuleNotHonoured, "not honoured by berth: ignored"),
			},
		}},
		{doc: workloads.DocumentResult{
			Origin:     workloads.Origin{File: webYAML, Doc: 1, Line: 26},
			APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "web",
		}},
		{doc: workloads.DocumentResult{
			Origin:     workloads.Origin{File: webYAML, Doc: 2, Line: 40},
			APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Namespace: "default", Name: "web",
			Ignored: true,
		}},
		{global: &locked},
		{doc: workloads.DocumentResult{
			Origin: workloads.Origin{File: brokenYAML, Doc: 0, Line: 1},
			Diagnostics: []workloads.Diagnostic{
				errAt(brokenYAML, 3, 5, "", workloads.RuleYAMLSyntax, "mapping values are not allowed in this context"),
			},
		}},
		{doc: workloads.DocumentResult{
			Origin:     workloads.Origin{File: configYAML, Doc: 0, Line: 1},
			APIVersion: "v1", Kind: "ConfigMap", Namespace: "kube-system", Name: "settings",
			Diagnostics: []workloads.Diagnostic{
				warnAt(configYAML, 4, 1, "immutable", workloads.RuleNotHonoured, "not honoured by berth: ignored"),
			},
		}},
		{doc: workloads.DocumentResult{
			Origin:     workloads.Origin{File: configYAML, Doc: 1, Line: 12},
			APIVersion: "v1", Kind: "Namespace", Name: "Team&<Ops>",
			Diagnostics: []workloads.Diagnostic{
				errAt(configYAML, 15, 9, "metadata.name", workloads.RuleName, `Invalid value: "Team&<Ops>": a lowercase RFC 1123 label must consist of 'a-z', '0-9' and '-'`),
			},
		}},
		{global: &empty},
	}
	s := workloads.Summary{Files: 4, Documents: 6, Valid: 2, Invalid: 3, Ignored: 1, Errors: 4, Warnings: 3}
	return steps, s
}

// rules leaves io-error out on purpose: a rule that fires but was not given
// must still be listed in SARIF.
func rules() []workloads.Rule {
	return []workloads.Rule{
		{ID: workloads.RuleYAMLSyntax, Severity: workloads.SeverityError, Summary: "The file is valid YAML or JSON."},
		{ID: workloads.RuleNoDocuments, Severity: workloads.SeverityWarning, Summary: "The input holds at least one document."},
		{ID: workloads.RuleName, Severity: workloads.SeverityError, Summary: "Names are DNS-1123 names."},
		{ID: workloads.RuleSelectorMatch, Severity: workloads.SeverityError, Summary: "The selector matches the pod template's labels."},
		{ID: workloads.RuleCronSchedule, Severity: workloads.SeverityError, Summary: "A CronJob's schedule is a valid cron expression."},
		{ID: workloads.RuleNotHonoured, Severity: workloads.SeverityWarning, Summary: "The field is one berth honours."},
	}
}

func run(t *testing.T, f Format, opts Options) []byte {
	t.Helper()
	steps, s := fixture()
	var buf bytes.Buffer
	w := New(&buf, f, opts)
	for _, st := range steps {
		if st.global != nil {
			w.Diagnostic(*st.global)
		} else {
			w.Document(st.doc)
		}
	}
	if err := w.Close(s); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		got, err := ParseFormat(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	for _, bad := range []string{"", "xml", "JSON", "yaml"} {
		_, err := ParseFormat(bad)
		if err == nil {
			t.Errorf("ParseFormat(%q) succeeded", bad)
			continue
		}
		for _, f := range Formats() {
			if !strings.Contains(err.Error(), string(f)) {
				t.Errorf("ParseFormat(%q) error %q does not list %q", bad, err, f)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		opts   Options
	}{
		{"text.txt", Text, Options{}},
		{"text-summary.txt", Text, Options{Summary: true}},
		{"text-strict.txt", Text, Options{Strict: true, Summary: true}},
		{"report.json", JSON, Options{Summary: true}},
		{"report-strict.json", JSON, Options{Strict: true}},
		{"report.xml", JUnit, Options{}},
		{"report-strict.xml", JUnit, Options{Strict: true}},
		{"report.sarif", SARIF, Options{Version: "v0.3.0", Rules: rules()}},
		{"report-strict.sarif", SARIF, Options{Strict: true, Version: "v0.3.0", Rules: rules()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.format, tt.opts)
			path := filepath.Join("testdata", "golden", tt.name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func TestText(t *testing.T) {
	got := string(run(t, Text, Options{}))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	want := []string{
		"deploy/web.yaml:9:7: error: selector does not match template labels (spec.selector.matchLabels) [selector-mismatch]",
		"deploy/web.yaml:21:11: warning: not honoured by berth: ignored (spec.template.spec.containers[0].securityContext.seLinuxOptions) [not-honoured]",
		"secrets/locked.yaml: error: open secrets/locked.yaml: permission denied [io-error]",
		"base/broken.yaml:3:5: error: mapping values are not allowed in this context [yaml-syntax]",
		"./base/config.yaml:4:1: warning: not honoured by berth: ignored (immutable) [not-honoured]",
		`./base/config.yaml:15:9: error: Invalid value: "Team&<Ops>": a lowercase RFC 1123 label must consist of 'a-z', '0-9' and '-' (metadata.name) [dns1123-name]`,
		"warning: no documents found [no-documents]",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("text output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestTextStreams(t *testing.T) {
	steps, _ := fixture()
	var buf bytes.Buffer
	w := New(&buf, Text, Options{})
	w.Document(steps[1].doc) // valid: nothing printed
	if buf.Len() != 0 {
		t.Errorf("valid document printed %q", buf.String())
	}
	w.Document(steps[0].doc)
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("after Document: %d lines printed, want 2 before Close:\n%s", n, buf.String())
	}
	if w.docs != nil {
		t.Errorf("text Writer kept %d documents", len(w.docs))
	}
	if err := w.Close(workloads.Summary{}); err != nil {
		t.Fatal(err)
	}
}

func TestStrict(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			got := string(run(t, f, Options{Strict: true, Summary: true, Rules: rules()}))
			for _, warning := range []string{": warning:", `"severity": "warning"`, `"level": "warning"`, "<system-out>"} {
				if strings.Contains(got, warning) {
					t.Errorf("strict %s output has a warning (%s):\n%s", f, warning, got)
				}
			}
		})
	}
	got := string(run(t, Text, Options{Strict: true}))
	if !strings.Contains(got, "deploy/web.yaml:21:11: error: not honoured by berth") {
		t.Errorf("strict text does not print the warning as an error:\n%s", got)
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		s      workloads.Summary
		strict bool
		want   string
	}{
		{workloads.Summary{Files: 19, Documents: 76, Valid: 70, Invalid: 1, Ignored: 5, Errors: 1, Warnings: 12}, false,
			"Summary: 76 documents in 19 files: 70 valid, 1 invalid, 5 ignored (not served by berth); 1 error, 12 warnings"},
		{workloads.Summary{Files: 1, Documents: 1, Valid: 1, Warnings: 1}, false,
			"Summary: 1 document in 1 file: 1 valid, 0 invalid; 0 errors, 1 warning"},
		{workloads.Summary{Files: 2, Documents: 3, Valid: 1, Invalid: 1, Ignored: 1, Errors: 2}, false,
			"Summary: 3 documents in 2 files: 1 valid, 1 invalid, 1 ignored (not served by berth); 2 errors, 0 warnings"},
		{workloads.Summary{Files: 1, Errors: 1}, false,
			"Summary: 0 documents in 1 file; 1 error, 0 warnings"},
		{workloads.Summary{}, false,
			"Summary: 0 documents in 0 files; 0 errors, 0 warnings"},
		{workloads.Summary{Files: 19, Documents: 76, Valid: 60, Invalid: 11, Ignored: 5, Errors: 1, Warnings: 12}, true,
			"Summary: 76 documents in 19 files: 60 valid, 11 invalid, 5 ignored (not served by berth); 13 errors (strict: warnings count as errors)"},
		{workloads.Summary{Files: 1, Documents: 1, Invalid: 1, Warnings: 1}, true,
			"Summary: 1 document in 1 file: 0 valid, 1 invalid; 1 error (strict: warnings count as errors)"},
	}
	for _, tt := range tests {
		if got := summaryLine(tt.s, tt.strict); got != tt.want {
			t.Errorf("summaryLine(%+v, %v)\n got %q\nwant %q", tt.s, tt.strict, got, tt.want)
		}
	}
	// Close prints it last, with warnings folded into errors under strict.
	got := string(run(t, Text, Options{Strict: true, Summary: true}))
	want := "Summary: 6 documents in 4 files: 2 valid, 3 invalid, 1 ignored (not served by berth); 7 errors (strict: warnings count as errors)\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("strict text summary: got\n%s\nwant last line %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var rep struct {
			Valid     *bool          `json:"valid"`
			Strict    bool           `json:"strict"`
			Summary   map[string]int `json:"summary"`
			Documents []struct {
				File        string           `json:"file"`
				Doc         *int             `json:"doc"`
				Kind        string           `json:"kind"`
				Valid       *bool            `json:"valid"`
				Ignored     bool             `json:"ignored"`
				Diagnostics []map[string]any `json:"diagnostics"`
			} `json:"documents"`
			Diagnostics []map[string]any `json:"diagnostics"`
		}
		out := run(t, JSON, Options{Strict: strict})
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("strict=%v: output is not JSON: %v\n%s", strict, err, out)
		}
		if rep.Valid == nil || *rep.Valid || rep.Strict != strict {
			t.Errorf("strict=%v: valid=%v strict=%v, want valid=false", strict, rep.Valid, rep.Strict)
		}
		for _, k := range []string{"files", "documents", "valid", "invalid", "ignored", "errors", "warnings"} {
			if _, ok := rep.Summary[k]; !ok {
				t.Errorf("strict=%v: summary lacks %q", strict, k)
			}
		}
		if len(rep.Documents) != 6 || len(rep.Diagnostics) != 2 {
			t.Fatalf("strict=%v: %d documents, %d global diagnostics; want 6, 2", strict, len(rep.Documents), len(rep.Diagnostics))
		}
		wantValid := []bool{false, true, true, false, !strict, false}
		for i, d := range rep.Documents {
			if d.File == "" || d.Doc == nil || d.Valid == nil {
				t.Errorf("strict=%v: document %d lacks file, doc or valid", strict, i)
				continue
			}
			if *d.Valid != wantValid[i] {
				t.Errorf("strict=%v: document %d valid=%v, want %v", strict, i, *d.Valid, wantValid[i])
			}
			all := append(d.Diagnostics, rep.Diagnostics...)
			for _, diag := range all {
				for _, k := range []string{"severity", "rule", "message"} {
					if _, ok := diag[k]; !ok {
						t.Errorf("strict=%v: diagnostic %v lacks %q", strict, diag, k)
					}
				}
				if sev := diag["severity"]; sev != "error" && (strict || sev != "warning") {
					t.Errorf("strict=%v: severity %v", strict, sev)
				}
			}
		}
		if !rep.Documents[2].Ignored {
			t.Errorf("strict=%v: Ingress not marked ignored", strict)
		}
		if rep.Summary["warnings"] != map[bool]int{false: 3, true: 0}[strict] {
			t.Errorf("strict=%v: summary warnings = %d", strict, rep.Summary["warnings"])
		}
	}
}

func TestJSONValid(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, JSON, Options{})
	w.Document(workloads.DocumentResult{Origin: workloads.Origin{File: "a.yaml", Line: 1}, APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "a"})
	if err := w.Close(workloads.Summary{Files: 1, Documents: 1, Valid: 1}); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep["valid"] != true {
		t.Errorf("valid = %v, want true:\n%s", rep["valid"], buf.String())
	}
	if d, ok := rep["diagnostics"].([]any); !ok || len(d) != 0 {
		t.Errorf(`"diagnostics" = %v, want []`, rep["diagnostics"])
	}
}

// junitXML is read back with a shape of its own, so that a wrong tag in
// junit.go shows up as a missing element.
type junitXML struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	tests := []struct {
		strict                           bool
		tests, failures, errors, skipped int
	}{
		{false, 8, 3, 1, 1},
		{true, 8, 5, 1, 1},
	}
	for _, tt := range tests {
		out := run(t, JUnit, Options{Strict: tt.strict})
		var got junitXML
		if err := xml.Unmarshal(out, &got); err != nil {
			t.Fatalf("strict=%v: not XML: %v\n%s", tt.strict, err, out)
		}
		if got.Name != "berth validate" || got.Tests != tt.tests || got.Failures != tt.failures || got.Errors != tt.errors || got.Skipped != tt.skipped {
			t.Errorf("strict=%v: testsuites %q tests=%d failures=%d errors=%d skipped=%d, want %d %d %d %d",
				tt.strict, got.Name, got.Tests, got.Failures, got.Errors, got.Skipped, tt.tests, tt.failures, tt.errors, tt.skipped)
		}
		// Every count is what the elements say.
		var sum [4]int
		var suites []string
		for _, s := range got.Suites {
			suites = append(suites, s.Name)
			var c [4]int
			for _, tc := range s.Cases {
				c[0]++
				if tc.Failure != nil {
					c[1]++
				}
				if tc.Error != nil {
					c[2]++
				}
				if tc.Skipped != nil {
					c[3]++
				}
			}
			if c != [4]int{s.Tests, s.Failures, s.Errors, s.Skipped} {
				t.Errorf("strict=%v: suite %s counts %d/%d/%d/%d, elements say %v", tt.strict, s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, c)
			}
			for i := range sum {
				sum[i] += c[i]
			}
		}
		if sum != [4]int{got.Tests, got.Failures, got.Errors, got.Skipped} {
			t.Errorf("strict=%v: testsuites counts differ from the elements %v", tt.strict, sum)
		}
		wantSuites := "deploy/web.yaml secrets/locked.yaml base/broken.yaml ./base/config.yaml berth validate"
		if strings.Join(suites, " ") != wantSuites {
			t.Errorf("strict=%v: suites %q, want %q", tt.strict, suites, wantSuites)
		}
		web := got.Suites[0].Cases
		if web[0].Name != "Deployment default/web" || web[0].Classname != "apps/v1/Deployment" {
			t.Errorf("testcase %q %q", web[0].Name, web[0].Classname)
		}
		if f := web[0].Failure; f == nil || f.Type != workloads.RuleSelectorMatch || !strings.Contains(f.Text, "deploy/web.yaml:9:7: error:") {
			t.Errorf("strict=%v: Deployment failure %+v", tt.strict, f)
		}
		if tt.strict != strings.Contains(web[0].Failure.Text, "not-honoured") || tt.strict == strings.Contains(web[0].SystemOut, "not-honoured") {
			t.Errorf("strict=%v: the warning is in the wrong place: failure %q, system-out %q", tt.strict, web[0].Failure.Text, web[0].SystemOut)
		}
		if web[2].Skipped == nil || web[2].Skipped.Message != "not served by berth" {
			t.Errorf("Ingress not skipped: %+v", web[2])
		}
		if c := got.Suites[2].Cases[0]; c.Name != "document 1" {
			t.Errorf("undecoded document named %q, want %q", c.Name, "document 1")
		}
		if c := got.Suites[1].Cases[0]; c.Error == nil || c.Error.Type != workloads.RuleIOError {
			t.Errorf("unreadable file: %+v", c)
		}
		// Escaping survives the round trip.
		ns := got.Suites[3].Cases[1]
		if ns.Name != "Namespace Team&<Ops>" || ns.Failure == nil || !strings.Contains(ns.Failure.Message, `"Team&<Ops>"`) {
			t.Errorf("escaped testcase: %+v", ns)
		}
	}
}

func TestJUnitEscapes(t *testing.T) {
	msg := "bad \x00 byte\x1b & <tag> \"q\" 'a'\tb\r\nnext ]]> \xff end"
	var buf bytes.Buffer
	w := New(&buf, JUnit, Options{})
	w.Document(workloads.DocumentResult{
		Origin:      workloads.Origin{File: "a&b<c>.yaml", Line: 1},
		Diagnostics: []workloads.Diagnostic{errAt("a&b<c>.yaml", 1, 1, "", workloads.RuleBinary, msg)},
	})
	w.Document(workloads.DocumentResult{
		Origin:      workloads.Origin{File: "a&b<c>.yaml", Doc: 1, Line: 2},
		Diagnostics: []workloads.Diagnostic{warnAt("a&b<c>.yaml", 2, 1, "", workloads.RuleBinary, msg)},
	})
	if err := w.Close(workloads.Summary{}); err != nil {
		t.Fatal(err)
	}
	var got junitXML
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	// XML cannot hold NUL, ESC or a byte that is not UTF-8: they become U+FFFD.
	want := "bad \uFFFD byte\uFFFD & <tag> \"q\" 'a'\tb\r\nnext ]]> \uFFFD end"
	c := got.Suites[0].Cases
	if got.Suites[0].Name != "a&b<c>.yaml" || c[0].Failure == nil || c[0].Failure.Message != want ||
		!strings.Contains(c[0].Failure.Text, want) || !strings.Contains(c[1].SystemOut, want) {
		t.Errorf("escaping does not round-trip:\n%s\nparsed: %+v", buf.String(), got.Suites)
	}
}

func TestSARIF(t *testing.T) {
	for _, strict := range []bool{false, true} {
		out := run(t, SARIF, Options{Strict: strict, Version: "v1.2.3", Rules: rules()})
		var log struct {
			Schema  string `json:"$schema"`
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Name           string `json:"name"`
						InformationURI string `json:"informationUri"`
						Version        string `json:"version"`
						Rules          []struct {
							ID               string `json:"id"`
							ShortDescription *struct {
								Text string `json:"text"`
							} `json:"shortDescription"`
							DefaultConfiguration struct {
								Level string `json:"level"`
							} `json:"defaultConfiguration"`
						} `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
				Results []struct {
					RuleID    string `json:"ruleId"`
					RuleIndex *int   `json:"ruleIndex"`
					Level     string `json:"level"`
					Message   struct {
						Text string `json:"text"`
					} `json:"message"`
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct {
								URI string `json:"uri"`
							} `json:"artifactLocation"`
							Region map[string]int `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
				Invocations []struct {
					Notifications []struct {
						Level string `json:"level"`
					} `json:"toolExecutionNotifications"`
				} `json:"invocations"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(out, &log); err != nil {
			t.Fatalf("strict=%v: not JSON: %v\n%s", strict, err, out)
		}
		if log.Schema != "https://json.schemastore.org/sarif-2.1.0.json" || log.Version != "2.1.0" || len(log.Runs) != 1 {
			t.Fatalf("strict=%v: header %q %q, %d runs", strict, log.Schema, log.Version, len(log.Runs))
		}
		r := log.Runs[0]
		d := r.Tool.Driver
		if d.Name != "berth" || d.InformationURI == "" || d.Version != "v1.2.3" {
			t.Errorf("driver %+v", d)
		}
		if len(d.Rules) != len(rules())+1 || d.Rules[len(d.Rules)-1].ID != workloads.RuleIOError {
			t.Errorf("strict=%v: %d rules, want the %d given and io-error last", strict, len(d.Rules), len(rules()))
		}
		for _, rule := range d.Rules {
			if rule.ShortDescription == nil || rule.ShortDescription.Text == "" {
				t.Errorf("rule %s has no shortDescription", rule.ID)
			}
			if lv := rule.DefaultConfiguration.Level; lv != "error" && (strict || lv != "warning") {
				t.Errorf("strict=%v: rule %s level %q", strict, rule.ID, lv)
			}
		}
		if len(r.Results) != 6 {
			t.Errorf("strict=%v: %d results, want 6 (the 7 findings less the one with no file)", strict, len(r.Results))
		}
		for _, res := range r.Results {
			if res.RuleIndex == nil || *res.RuleIndex >= len(d.Rules) || d.Rules[*res.RuleIndex].ID != res.RuleID {
				t.Errorf("result %s: ruleIndex %v does not point at its rule", res.RuleID, res.RuleIndex)
			}
			if res.Level != "error" && (strict || res.Level != "warning") {
				t.Errorf("strict=%v: result level %q", strict, res.Level)
			}
			if res.Message.Text == "" || len(res.Locations) != 1 {
				t.Errorf("result %s: message %q, %d locations", res.RuleID, res.Message.Text, len(res.Locations))
				continue
			}
			loc := res.Locations[0].PhysicalLocation
			if loc.ArtifactLocation.URI == "" || strings.HasPrefix(loc.ArtifactLocation.URI, "./") {
				t.Errorf("result %s: uri %q", res.RuleID, loc.ArtifactLocation.URI)
			}
			if loc.Region["startLine"] < 1 {
				t.Errorf("result %s: startLine %d", res.RuleID, loc.Region["startLine"])
			}
			if c, ok := loc.Region["startColumn"]; ok && c < 1 {
				t.Errorf("result %s: startColumn %d", res.RuleID, c)
			}
		}
		if len(r.Invocations) != 1 || len(r.Invocations[0].Notifications) != 1 {
			t.Errorf("strict=%v: the finding with no file is not a notification: %+v", strict, r.Invocations)
		}
	}
}

func TestSARIFURI(t *testing.T) {
	tests := []struct{ file, uri, base string }{
		{"deploy/web.yaml", "deploy/web.yaml", "%SRCROOT%"},
		{"./deploy/web.yaml", "deploy/web.yaml", "%SRCROOT%"},
		{"my app/a#1.yaml", "my%20app/a%231.yaml", "%SRCROOT%"},
		{"a:b.yaml", "./a:b.yaml", "%SRCROOT%"},
		{"/srv/repo/web.yaml", "file:///srv/repo/web.yaml", ""},
		{"-", "-", "%SRCROOT%"},
	}
	for _, tt := range tests {
		uri, base := sarifURI(tt.file)
		if uri != tt.uri || base != tt.base {
			t.Errorf("sarifURI(%q) = %q, %q; want %q, %q", tt.file, uri, base, tt.uri, tt.base)
		}
	}
}

func TestEmptyRun(t *testing.T) {
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := New(&buf, f, Options{}).Close(workloads.Summary{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		switch f {
		case Text:
			if buf.Len() != 0 {
				t.Errorf("text: %q", buf.String())
			}
		case JSON, SARIF:
			var v map[string]any
			if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if f == JSON && (v["valid"] != true || v["documents"] == nil) {
				t.Errorf("json: %s", buf.String())
			}
		case JUnit:
			var v junitXML
			if err := xml.Unmarshal(buf.Bytes(), &v); err != nil || v.Tests != 0 {
				t.Errorf("junit: %v %s", err, buf.String())
			}
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	steps, s := fixture()
	for _, f := range Formats() {
		w := New(failWriter{}, f, Options{Summary: true})
		w.Document(steps[0].doc)
		if err := w.Close(s); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: Close = %v, want the write error", f, err)
		}
		if err := w.Close(s); err == nil {
			t.Errorf("%s: second Close succeeded", f)
		}
	}
}

// With workloads.Rules, every rule is listed once, in order, and each
// result's ruleIndex points at its rule.
func TestSARIFAllRules(t *testing.T) {
	all := workloads.Rules()
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(run(t, SARIF, Options{Rules: all}), &log); err != nil {
		t.Fatal(err)
	}
	rules := log.Runs[0].Tool.Driver.Rules
	if len(rules) != len(all) {
		t.Fatalf("%d rules listed, workloads.Rules has %d", len(rules), len(all))
	}
	for i, r := range all {
		if rules[i].ID != r.ID {
			t.Errorf("rule %d is %q, want %q", i, rules[i].ID, r.ID)
		}
	}
	for _, res := range log.Runs[0].Results {
		if rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s has ruleIndex %d (%s)", res.RuleID, res.RuleIndex, rules[res.RuleIndex].ID)
		}
	}
}
