package yamltree

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, doc string) *Node {
	t.Helper()
	n, err := Parse([]byte(doc), 1, DefaultLimits)
	if err != nil {
		t.Fatalf("Parse(%q): %v", doc, err)
	}
	return n
}

func parseErr(t *testing.T, doc string, firstLine int, lim Limits) *Error {
	t.Helper()
	n, err := Parse([]byte(doc), firstLine, lim)
	if err == nil {
		t.Fatalf("Parse(%q) = %s, want an error", doc, dump(n))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(%q): error %T is not *Error", doc, err)
	}
	return e
}

func TestResolvePlain(t *testing.T) {
	tests := []struct {
		text string
		kind Kind
		val  any
	}{
		{"", Null, nil}, {"~", Null, nil}, {"null", Null, nil}, {"Null", Null, nil}, {"NULL", Null, nil},
		{"nULL", String, "nULL"},
		{"y", Bool, true}, {"Y", Bool, true}, {"yes", Bool, true}, {"Yes", Bool, true}, {"YES", Bool, true},
		{"on", Bool, true}, {"On", Bool, true}, {"ON", Bool, true}, {"true", Bool, true}, {"True", Bool, true}, {"TRUE", Bool, true},
		{"n", Bool, false}, {"N", Bool, false}, {"no", Bool, false}, {"No", Bool, false}, {"NO", Bool, false},
		{"off", Bool, false}, {"Off", Bool, false}, {"OFF", Bool, false}, {"false", Bool, false}, {"False", Bool, false}, {"FALSE", Bool, false},
		{"yES", String, "yES"}, {"tRUE", String, "tRUE"},
		{"0", Int, int64(0)}, {"42", Int, int64(42)}, {"-42", Int, int64(-42)}, {"+42", Int, int64(42)},
		{"0x1F", Int, int64(31)}, {"0o17", Int, int64(15)}, {"017", Int, int64(15)}, {"0b101", Int, int64(5)},
		{"-0b101", Int, int64(-5)}, {"1_000", Int, int64(1000)}, {"0x_1F", Int, int64(31)},
		{"9223372036854775807", Int, int64(math.MaxInt64)}, {"-9223372036854775808", Int, int64(math.MinInt64)},
		{"9223372036854775808", Float, float64(1 << 63)}, {"18446744073709551615", Float, float64(math.MaxUint64)},
		{"123456789012345678901234567890", Float, 1.2345678901234568e+29},
		{"09", Float, 9.0}, {"1.5", Float, 1.5}, {".5", Float, 0.5}, {"1e3", Float, 1000.0}, {"1.", Float, 1.0},
		{"-1.5e-3", Float, -0.0015}, {".inf", Float, math.Inf(1)}, {"-.Inf", Float, math.Inf(-1)}, {"+.INF", Float, math.Inf(1)},
		{"1e400", String, "1e400"}, {"1e", String, "1e"}, {"0x", String, "0x"}, {"._5", String, "._5"},
		{"100m", String, "100m"}, {"64Mi", String, "64Mi"}, {"10.0.0.1", String, "10.0.0.1"},
		{"2001-12-14", String, "2001-12-14"}, {"1:30", String, "1:30"}, {"<<", String, "<<"},
	}
	for _, tc := range tests {
		var n Node
		n.Text = tc.text
		setScalar(&n, resolvePlain(tc.text))
		if n.Kind != tc.kind {
			t.Errorf("%q: kind %s, want %s", tc.text, n.Kind, tc.kind)
			continue
		}
		var got any
		switch n.Kind {
		case Bool:
			got = n.Bool
		case Int:
			got = n.Int
		case Float:
			got = n.Float
		case String:
			got = n.Text
		}
		if !reflect.DeepEqual(got, tc.val) {
			t.Errorf("%q: got %v, want %v", tc.text, got, tc.val)
		}
	}
	var nan Node
	setScalar(&nan, resolvePlain(".NaN"))
	if nan.Kind != Float || !math.IsNaN(nan.Float) {
		t.Errorf(".NaN: got %s %v", nan.Kind, nan.Float)
	}
}

func TestQuotedAndTaggedScalars(t *testing.T) {
	n := mustParse(t, "a: 'yes'\nb: \"5\"\nc: !!str 5\nd: !!int \"5\"\ne: !!float 1\nf: !!bool yes\ng: !custom 7\nh: !!binary aGVsbG8=\n")
	want := map[string]string{"a": "string yes", "b": "string 5", "c": "string 5", "d": "integer 5",
		"e": "number 1", "f": "boolean true", "g": "string 7", "h": "string aGVsbG8="}
	for k, w := range want {
		v := n.Get(k)
		got := v.Kind.String() + " "
		switch v.Kind {
		case Int:
			got += v.Text
		case Float:
			got += "1"
		case Bool:
			got += "true"
		default:
			got += v.Text
		}
		if got != w {
			t.Errorf("%s: got %q, want %q", k, got, w)
		}
	}
	if !n.Get("h").Binary || n.Get("a").Binary {
		t.Error("Binary flag wrong")
	}
	for doc, msg := range map[string]string{
		"a: !!int 1.5\n":       "cannot decode !!float \"1.5\" as a !!int",
		"a: !!binary \"a*\"\n": "!!binary value contains invalid base64 data",
		"a: !!null foo\n":      "cannot decode !!str \"foo\" as a !!null",
	} {
		if e := parseErr(t, doc, 1, DefaultLimits); e.Message != msg || e.Kind != KindSyntax {
			t.Errorf("%q: got %q (%s), want %q", doc, e.Message, e.Kind, msg)
		}
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		doc  string
		keys []string
	}{
		{"5: a\n3.14: b\ntrue: c\nno: d\n0x10: e\n-1: f\n", []string{"5", "3.14", "true", "false", "16", "-1"}},
		{"123456789.0: a\n1e20: b\n0.1: c\n.inf: d\n-.inf: e\n.nan: f\n", []string{"1.2345679e+08", "1e+20", "0.1", ".inf", "-.inf", ".nan"}},
		{"'5': a\n\"true\": b\n2001-01-01: c\n", []string{"5", "true", "2001-01-01"}},
		{"{1: a, y: b}\n", []string{"1", "true"}},
		{"? !!binary aGk=\n: x\n", []string{"hi"}},
	}
	for _, tc := range tests {
		n := mustParse(t, tc.doc)
		var keys []string
		for _, f := range n.Fields {
			keys = append(keys, f.Key)
		}
		if !reflect.DeepEqual(keys, tc.keys) {
			t.Errorf("%q: keys %q, want %q", tc.doc, keys, tc.keys)
		}
	}
	for _, doc := range []string{"~: 1\n", "null: 1\n", ": 1\n", "18446744073709551615: 1\n", "[a]: 1\n", "? {a: 1}\n: 1\n"} {
		if e := parseErr(t, doc, 1, DefaultLimits); e.Kind != KindSyntax {
			t.Errorf("%q: kind %s", doc, e.Kind)
		}
	}
}

func TestBlockScalars(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"a: |\n  x\n  y\n", "x\ny\n"},
		{"a: |-\n  x\n  y\n\n", "x\ny"},
		{"a: |+\n  x\n  y\n\n\n", "x\ny\n\n\n"},
		{"a: |\n  x\n\n\n", "x\n"},
		{"a: |\n    indented\n  less\n", ""}, // error case handled below
		{"a: |\n  x\n   more\n  \ttab\n", "x\n more\n\ttab\n"},
		{"a: >\n  folded\n  text\n\n  para\n", "folded text\npara\n"},
		{"a: >\n  a\n    more\n  b\n", "a\n  more\nb\n"},
		{"a: >-\n  x\n  y\n", "x y"},
		{"a: |\n", ""},
		{"a: |+\n\n", "\n"},
		{"a: |\n  # kept\n# comment\n", "# kept\n"},
		{"- |\n  x\n- y\n", "x\n"},
		{"a: |2\n    x\n", "  x\n"},
	}
	for _, tc := range tests {
		n, err := Parse([]byte(tc.doc), 1, DefaultLimits)
		if tc.want == "" && strings.Contains(tc.doc, "less") {
			if err == nil {
				t.Errorf("%q: want an error", tc.doc)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.doc, err)
			continue
		}
		v := n.Get("a")
		if n.Kind == Seq {
			v = n.Items[0]
		}
		if v.Kind != String || v.Text != tc.want {
			t.Errorf("%q: got %s %q, want %q", tc.doc, v.Kind, v.Text, tc.want)
		}
	}
}

func TestMergeKeys(t *testing.T) {
	tests := []struct {
		doc  string
		want any
	}{
		{"b: &b {a: 1, c: 3}\nx:\n  <<: *b\n  a: 2\n", map[string]any{"a": int64(2), "c": int64(3)}},
		// v2 writes entries in order, so a merge after a key overrides it.
		{"b: &b {a: 1, c: 3}\nx:\n  a: 2\n  <<: *b\n", map[string]any{"a": int64(1), "c": int64(3)}},
		{"b: &b {a: 1, c: 3}\nd: &d {a: 5, e: 3}\nx:\n  <<: [*b, *d]\n", map[string]any{"a": int64(1), "c": int64(3), "e": int64(3)}},
		{"x:\n  <<: {a: 1}\n  b: 2\n", map[string]any{"a": int64(1), "b": int64(2)}},
		{"b: &b {a: 1}\nc: &c {<<: *b, d: 2}\nx:\n  <<: *c\n", map[string]any{"a": int64(1), "d": int64(2)}},
	}
	for _, tc := range tests {
		n := mustParse(t, tc.doc)
		if got := generic(n.Get("x")); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.doc, got, tc.want)
		}
	}
	for _, doc := range []string{"x:\n  <<: 1\n", "s: &s [1]\nx:\n  <<: *s\n", "x:\n  <<: [1]\n"} {
		if e := parseErr(t, doc, 1, DefaultLimits); e.Kind != KindSyntax || !strings.Contains(e.Message, "merge") {
			t.Errorf("%q: got %s %q", doc, e.Kind, e.Message)
		}
	}
	// A quoted "<<" is an ordinary key.
	if n := mustParse(t, "'<<': 1\n"); n.Fields[0].Key != "<<" {
		t.Errorf("quoted << merged")
	}
}

func TestDuplicateKeys(t *testing.T) {
	tests := []struct {
		doc       string
		first     int
		msg       string
		line, col int
	}{
		{"app: a\nname: b\napp: c\n", 10, `mapping key "app" already defined at line 10`, 12, 1},
		{"spec:\n  app: a\n  app: c\n", 1, `mapping key "app" already defined at line 2`, 3, 3},
		{"- {x: 1, y: 2, x: 3}\n", 5, `mapping key "x" already defined at line 5`, 5, 16},
		{"a: 1\n'a': 2\n", 1, `mapping key "a" already defined at line 1`, 2, 1},
		{"1: a\n'1': b\n", 1, `mapping key "1" already defined at line 1`, 2, 1},
		{"true: a\nyes: b\n", 1, `mapping key "true" already defined at line 1`, 2, 1},
		{"b: &b {a: 1}\nx:\n  <<: *b\n  c: 1\n  c: 2\n", 1, `mapping key "c" already defined at line 4`, 5, 3},
	}
	for _, tc := range tests {
		e := parseErr(t, tc.doc, tc.first, DefaultLimits)
		if e.Kind != KindDuplicateKey || e.Message != tc.msg || e.Pos != (Pos{tc.line, tc.col}) {
			t.Errorf("%q: got %s %q at %v, want %q at %d:%d", tc.doc, e.Kind, e.Message, e.Pos, tc.msg, tc.line, tc.col)
		}
	}
}

func TestPositions(t *testing.T) {
	doc := "---\n# c\nmetadata:\n  name: é-x  # c\n  labels: {a: 'b'}\nitems:\n- x: 1\n  w:\n-   z\n- \"é\": ü\nblock: |\n  t\nlist: [é, x]\n"
	for _, fast := range []bool{true, false} {
		var n *Node
		var err error
		if fast {
			info, _ := prescan([]byte(doc), 20)
			n, err = parseFast([]byte(doc), 20, DefaultLimits.normalize(), info)
		} else {
			n, err = parseFallback([]byte(doc), 20, DefaultLimits.normalize())
		}
		if err != nil {
			t.Fatalf("fast=%v: %v", fast, err)
		}
		md := n.Get("metadata")
		items := n.Get("items")
		checks := []struct {
			what string
			got  Pos
			want Pos
		}{
			{"root", n.Pos, Pos{22, 1}},
			{"metadata key", n.Fields[0].KeyPos, Pos{22, 1}},
			{"metadata value", md.Pos, Pos{23, 3}},
			{"name value", md.Get("name").Pos, Pos{23, 9}},
			{"labels value", md.Get("labels").Pos, Pos{24, 11}},
			{"labels.a key", md.Get("labels").Fields[0].KeyPos, Pos{24, 12}},
			{"labels.a value", md.Get("labels").Get("a").Pos, Pos{24, 15}},
			{"items", items.Pos, Pos{26, 1}},
			{"items[0]", items.Items[0].Pos, Pos{26, 3}},
			{"items[0].x", items.Items[0].Get("x").Pos, Pos{26, 6}},
			{"items[0].w (null)", items.Items[0].Get("w").Pos, Pos{27, 5}},
			{"items[1]", items.Items[1].Pos, Pos{28, 5}},
			{"items[2] key", items.Items[2].Fields[0].KeyPos, Pos{29, 3}},
			{"items[2] value", items.Items[2].Fields[0].Value.Pos, Pos{29, 8}},
			{"block", n.Get("block").Pos, Pos{30, 8}},
			{"list[1]", n.Get("list").Items[1].Pos, Pos{32, 11}},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("fast=%v: %s at %v, want %v", fast, c.what, c.got, c.want)
			}
		}
	}
}

func TestEmptyDocuments(t *testing.T) {
	for _, doc := range []string{"", "\n\n", "---\n", "--- \n", "# only a comment\n", "---\n# c\n\n", "~\n", "null\n", "--- null\n", "!!null\n", "--- # c\n"} {
		n, err := Parse([]byte(doc), 1, DefaultLimits)
		if n != nil || err != nil {
			t.Errorf("%q: got %s, %v; want nil, nil", doc, dump(n), err)
		}
	}
	// An empty quoted string is a value, not an empty document.
	if n := mustParse(t, "''\n"); n == nil || n.Kind != String {
		t.Errorf("'' gave %s", dump(n))
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		doc       string
		first     int
		kind      string
		line, col int
		contains  string
	}{
		{"a: 1\nb: \xff\n", 5, KindSyntax, 6, 4, "invalid UTF-8"},
		{"é: \xc3\n", 1, KindSyntax, 1, 4, "invalid UTF-8"},
		{"a: *nope\n", 1, KindSyntax, 1, 0, "anchor"},
		{"a: &a [*a]\n", 1, KindSyntax, 1, 0, "contains itself"},
		{"a: 1\nb: [\n", 3, KindSyntax, 0, 0, ""},
		{"a: .nan\n", 1, KindSyntax, 1, 4, "JSON"},
		{"a:\n  - .inf\n", 1, KindSyntax, 2, 5, "JSON"},
		{"a: b: c\n", 1, KindSyntax, 1, 0, ""},
	}
	for _, tc := range tests {
		e := parseErr(t, tc.doc, tc.first, DefaultLimits)
		if e.Kind != tc.kind || !strings.Contains(e.Message, tc.contains) ||
			(tc.line != 0 && e.Pos.Line != tc.line) || (tc.col != 0 && e.Pos.Col != tc.col) {
			t.Errorf("%q: got %s %q at %v", tc.doc, e.Kind, e.Message, e.Pos)
		}
		if strings.HasPrefix(e.Message, "yaml:") || strings.Contains(e.Message, "\n") {
			t.Errorf("%q: message %q is not one clean line", tc.doc, e.Message)
		}
	}
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxDepth: 5, MaxNodes: 50}
	deep := []string{
		"a:\n b:\n  c:\n   d:\n    e:\n     f: 1\n",
		"- - - - - - 1\n",
		"[[[[[[1]]]]]]\n",
		"a: {b: [c, {d: [[1]]}]}\n",
		"x: &x [[[[1]]]]\ny: [[*x]]\n",
	}
	for _, doc := range deep {
		if e := parseErr(t, doc, 1, lim); e.Kind != KindTooDeep {
			t.Errorf("%q: got %s %q", doc, e.Kind, e.Message)
		}
	}
	if _, err := Parse([]byte("a:\n b:\n  c:\n   d:\n    e: 1\n"), 1, lim); err != nil {
		t.Errorf("depth 5 refused: %v", err)
	}
	big := strings.Repeat("- x\n", 60)
	if e := parseErr(t, big, 1, lim); e.Kind != KindAliasBomb {
		t.Errorf("60 items: got %s %q", e.Kind, e.Message)
	}

	// Pathological inputs must fail fast and without blowing the stack.
	for name, doc := range map[string]string{
		"flow":  strings.Repeat("[", 1_000_000),
		"block": strings.Repeat("- ", 1_000_000) + "x\n",
		"map":   strings.Repeat("{a: ", 1_000_000),
	} {
		start := time.Now()
		e := parseErr(t, doc, 1, DefaultLimits)
		if e.Kind != KindTooDeep {
			t.Errorf("%s: got %s %q", name, e.Kind, e.Message)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [")
		for i := 0; i < 9; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	start := time.Now()
	e := parseErr(t, b.String(), 1, DefaultLimits)
	if e.Kind != KindAliasBomb || !strings.Contains(e.Message, "1000000") {
		t.Errorf("got %s %q", e.Kind, e.Message)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("billion laughs took %v", d)
	}
	// Modest aliasing is fine, and shares the anchored node.
	n := mustParse(t, "a: &a {x: 1}\nb: *a\nc: *a\n")
	if n.Get("b") != n.Get("a") || n.Get("c").Get("x").Int != 1 {
		t.Error("alias not resolved to the anchored node")
	}
}

// TestLongLine guards against positions costing time quadratic in the line
// length (minified JSON with non-ASCII text).
func TestLongLine(t *testing.T) {
	doc := "[" + strings.Repeat(`"é", `, 200_000) + "ü]\n"
	start := time.Now()
	n := mustParse(t, doc)
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	if last := n.Items[200_000]; last.Pos != (Pos{1, 1_000_002}) || last.Text != "ü" {
		t.Errorf("last item %s", dump(last))
	}
}
