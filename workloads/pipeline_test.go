package workloads

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// collect is a Sink that keeps everything, for tests.
type collect struct {
	docs   []DocumentResult
	global []Diagnostic
}

func (c *collect) Document(r DocumentResult) { c.docs = append(c.docs, r) }
func (c *collect) Diagnostic(d Diagnostic)   { c.global = append(c.global, d) }

// all returns every diagnostic of the run.
func (c *collect) all() []Diagnostic {
	var out []Diagnostic
	for _, d := range c.docs {
		out = append(out, d.Diagnostics...)
	}
	return append(out, c.global...)
}

func (c *collect) text() string {
	var b strings.Builder
	for _, d := range c.all() {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func validatePaths(t *testing.T, paths ...string) (*collect, Summary) {
	t.Helper()
	c := &collect{}
	sum := Validate(paths, ValidateOptions{}, c)
	return c, sum
}

func validateString(t *testing.T, yaml string) (*collect, Summary) {
	t.Helper()
	c := &collect{}
	sum := Validate([]string{"-"}, ValidateOptions{Stdin: strings.NewReader(yaml)}, c)
	return c, sum
}

// Every file under testdata/rules is named after the rule it fails
// (<rule>.yaml or <rule>.<variant>.yaml) and must make that rule fire; every
// rule must have a fixture.
func TestRuleFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	covered := map[string]bool{}
	for _, f := range files {
		rule, _, _ := strings.Cut(filepath.Base(f), ".")
		covered[rule] = true
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, _ := validatePaths(t, f)
			for _, d := range c.all() {
				if d.Rule == rule {
					return
				}
			}
			t.Errorf("rule %q did not fire; got:\n%s", rule, c.text())
		})
	}
	generated := map[string]bool{RuleIOError: true, RuleTooLarge: true} // made by tests below
	for _, r := range Rules() {
		if !covered[r.ID] && !generated[r.ID] {
			t.Errorf("rule %q has no fixture testdata/rules/%s.yaml", r.ID, r.ID)
		}
	}
}

// Every real-world manifest validates (warnings allowed); every removed API
// is refused with a hint naming its replacement.
func TestRealWorldCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/corpus/real-world/*.yaml")
	if len(files) < 15 {
		t.Fatalf("corpus missing: %d files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, sum := validatePaths(t, f)
			if sum.Errors > 0 || sum.Invalid > 0 || sum.Documents == 0 {
				t.Errorf("want valid, got %+v:\n%s", sum, c.text())
			}
		})
	}
	removed, _ := filepath.Glob("testdata/corpus/real-world/removed-api/*.yaml")
	if len(removed) == 0 {
		t.Fatal("no removed-api corpus")
	}
	for _, f := range removed {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, sum := validatePaths(t, f)
			if sum.Invalid == 0 || !strings.Contains(c.text(), "use apiVersion: batch/v1") {
				t.Errorf("want refused with a hint, got %+v:\n%s", sum, c.text())
			}
		})
	}
}

func TestExamplesValidate(t *testing.T) {
	c, sum := validatePaths(t, "../examples")
	if sum.Errors > 0 || sum.Warnings > 0 || sum.Documents < 5 {
		t.Errorf("examples must validate without warnings, got %+v:\n%s", sum, c.text())
	}
}

func TestDecodeShapes(t *testing.T) {
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	tests := []struct {
		name      string
		input     string
		wantNames []string
		wantDocs  []int
		wantLines []int
	}{
		{"single", strings.Replace(cm, "%s", "a", 1), []string{"a"}, []int{0}, []int{1}},
		{"multi with empty documents and comments",
			"# header\n---\n" + strings.Replace(cm, "%s", "a", 1) + "---\n---\n# only a comment\n---\n" + strings.Replace(cm, "%s", "b", 1) + "---\n",
			[]string{"a", "b"}, []int{0, 1}, []int{3, 11}},
		{"list flattened",
			"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n",
			[]string{"a", "b"}, []int{0, 0}, []int{4, 7}},
		{"json", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}`, []string{"j"}, []int{0}, []int{1}},
		{"document end marker", strings.Replace(cm, "%s", "a", 1) + "...\n" + strings.Replace(cm, "%s", "b", 1),
			[]string{"a", "b"}, []int{0, 1}, []int{1, 6}},
		{"crlf", strings.ReplaceAll(strings.Replace(cm, "%s", "a", 1), "\n", "\r\n") + "---\r\n" + strings.ReplaceAll(strings.Replace(cm, "%s", "b", 1), "\n", "\r\n"),
			[]string{"a", "b"}, []int{0, 1}, []int{1, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			var docs, lines []int
			err := NewDecoder().DecodeFile("in.yaml", strings.NewReader(tt.input), func(d Decoded) {
				if d.Object == nil {
					t.Fatalf("document did not decode: %+v", d.Result)
				}
				names = append(names, d.Object.Meta().GetName())
				docs, lines = append(docs, d.Object.Doc), append(lines, d.Object.Line)
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") || !equalInts(docs, tt.wantDocs) || !equalInts(lines, tt.wantLines) {
				t.Errorf("got names %v docs %v lines %v; want %v %v %v", names, docs, lines, tt.wantNames, tt.wantDocs, tt.wantLines)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Decoding errors name the field path and the exact position.
func TestDecodeErrorPositions(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"unknown field with suggestion",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n    imagePullpolicy: Always\n",
			`<stdin>:9:5: error: unknown field "imagePullpolicy"; did you mean "imagePullPolicy"? (field names are case-sensitive) (spec.containers[0].imagePullpolicy) [unknown-field]`},
		{"number where a string belongs",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n    env:\n    - name: A\n      value: 8080\n",
			`<stdin>:11:14: error: expected a string, got integer 8080; quote it: "8080" (spec.containers[0].env[0].value) [wrong-type]`},
		{"YAML 1.1 boolean where a string belongs",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  enabled: yes\n",
			`<stdin>:6:12: error: expected a string, got boolean yes; quote it: "yes" (data[enabled]) [wrong-type]`},
		{"string where an integer belongs",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: three\n",
			`<stdin>:6:13: error: expected an integer, got string "three" (spec.replicas) [wrong-type]`},
		{"bad quantity",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n    resources:\n      limits:\n        memory: 12 GB\n",
			`(spec.containers[0].resources.limits[memory]) [wrong-type]`},
		{"removed API",
			"apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c\n",
			`<stdin>:1:13: error: batch/v1beta1 CronJob was removed in Kubernetes 1.25; use apiVersion: batch/v1 (apiVersion) [removed-api]`},
		{"duplicate key names its field path",
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: b\n    env:\n    - name: X\n      name: Y\n",
			`<stdin>:10:7: error: mapping key "name" already defined at line 9 (spec.containers[0].env[0].name) [duplicate-key]`},
		{"unserved kind",
			"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\n",
			`<stdin>:2:7: warning: ServiceAccount is not served by berth; ignored (kind) [unserved-kind]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := validateString(t, tt.input)
			if got := c.text(); !strings.Contains(got, tt.want) {
				t.Errorf("got:\n%s\nwant a line containing:\n%s", got, tt.want)
			}
		})
	}
}

// Any bytes in, a clear message out: never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := bytes.Repeat([]byte("# padding padding padding padding padding padding padding\n"), (MaxDocumentBytes/58)+10)
	tests := []struct {
		name     string
		path     func() string
		wantRule string
	}{
		{"binary", func() string { return write("bin.yaml", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2}) }, RuleBinary},
		{"invalid utf-8", func() string {
			return write("latin1.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n"))
		}, RuleYAMLSyntax},
		{"document too large", func() string {
			return write("big.yaml", append(append([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n"), big...), "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"...))
		}, RuleTooLarge},
		{"one huge line", func() string { return write("line.yaml", bytes.Repeat([]byte("a"), MaxDocumentBytes+100)) }, RuleTooLarge},
		{"deep nesting", func() string {
			return write("deep.yaml", append([]byte("a: "), bytes.Repeat([]byte("["), 1_000_000)...))
		}, RuleTooDeep},
		{"unreadable file", func() string {
			p := write("secret.yaml", []byte("a: 1\n"))
			os.Chmod(p, 0)
			if os.Geteuid() == 0 {
				// root reads anything: use a folder that cannot be listed instead.
				p = filepath.Join(dir, "missing", "nothing.yaml")
			}
			return p
		}, RuleIOError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := validatePaths(t, tt.path())
			for _, d := range c.all() {
				if d.Rule == tt.wantRule {
					if d.Pos.File == "" || d.Message == "" {
						t.Errorf("diagnostic without a file or message: %+v", d)
					}
					return
				}
			}
			t.Errorf("want rule %s, got:\n%s", tt.wantRule, c.text())
		})
	}
}

// A document after a refused one is still read.
func TestTooLargeDocumentDoesNotHideTheNext(t *testing.T) {
	big := strings.Repeat("# padding\n", MaxDocumentBytes/10+10)
	c, sum := validateString(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"+big+"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
	if sum.Documents != 2 || sum.Valid != 1 {
		t.Errorf("got %+v:\n%s", sum, c.text())
	}
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	mk := func(p, data string) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cm := func(name string) string { return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n" }
	mk("a.yaml", cm("a"))
	mk("sub/b.yml", cm("b"))
	mk("sub/deeper/c.json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`)
	mk("sub/README.md", "not a manifest")
	mk(".github/workflows/ci.yml", "on: [push]\n")
	// A symbolic link loop, and a link to a folder seen already.
	os.Symlink(dir, filepath.Join(dir, "sub", "loop"))
	os.Symlink("does-not-exist", filepath.Join(dir, "dangling.yaml"))
	c, sum := validatePaths(t, dir)
	if sum.Documents != 3 || sum.Valid != 3 || sum.Files != 3 {
		t.Errorf("got %+v:\n%s", sum, c.text())
	}
	if sum.Unreadable != 1 || !strings.Contains(c.text(), "dangling.yaml") {
		t.Errorf("dangling link must be reported with its path, got %+v:\n%s", sum, c.text())
	}
}

func TestNoDocumentsIsAnError(t *testing.T) {
	for _, input := range []string{"", "# nothing\n", "---\n---\n"} {
		c, sum := validateString(t, input)
		if sum.Errors != 1 || c.global[0].Rule != RuleNoDocuments {
			t.Errorf("input %q: got %+v:\n%s", input, sum, c.text())
		}
	}
}
