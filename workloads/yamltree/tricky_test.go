package yamltree

import (
	"fmt"
	"strings"
	"testing"
)

// trickyInputs are documents that probe the corners of both parsers. Each
// goes through the differential check; fast marks those the fast parser
// must handle itself.
var trickyInputs = []struct {
	doc  string
	fast bool
	// mayFail marks deliberate differences: we refuse what
	// sigs.k8s.io/yaml accepts (keys equal only after conversion to
	// strings, where it keeps one of the values at random).
	mayFail bool
}{
	{"a: 1\n", true, false},
	{"", true, false},
	{"---\n", true, false},
	{"--- # just a comment\n# more\n\n", true, false},
	{"~\n", true, false},
	{"--- ~\n", false, false},
	{"null\n", true, false},
	{"--- {a: 1}\n", false, false},
	{"--- !!map\na: 1\n", false, false},
	{"--- |\n  text\n", false, false},
	{"foo\n", true, false},
	{"'foo'\n", true, false},
	{"- a\n- b\n", true, false},
	{"-\n- b\n-\n", true, false},
	{"- - a\n  - b\n- - c\n", true, false},
	{"- - - x\n", true, false},
	{"a:\n- 1\n- 2\nb: 3\n", true, false},
	{"a:\n  - 1\n  - 2\nb: 3\n", true, false},
	{"a:\n    b:\n        c: d\n    e: f\n", true, false},
	{"- name: x\n  image: y\n- name: z\n", true, false},
	{"- name: x\n\n  # comment\n  image: y\n", true, false},
	{"a:\nb:\nc: # comment\n", true, false},
	{"a: b # comment\nc: 'd' # comment\n", true, false},
	{"a: b#c\n", true, false},
	{"a: 'it''s'\n", true, false},
	{`a: "tab\there \"q\" \\ \x41 \u00e9 \U0001F600 \N \_ \L \P \/"` + "\n", false, false},
	{`a: "tab\there \"q\" \\ \x41 \u00e9 \U0001F600 \N \_ \L \P"` + "\n", true, false},
	{`a: "\ud800"` + "\n", false, false},
	{"a: \"multi\n  line\"\n", false, false},
	{"a: 'multi\n  line'\n", false, false},
	{"a: plain\n  continued\n", false, false},
	{"a: plain\n\n  continued after blank\n", false, false},
	{"key:\n  value\n", true, false},
	{"key:\n  value\nnext: 1\n", true, false},
	{"é: ü\nkey: 'ñ' # ç\nx: [é, 'ü']\n", true, false},
	{"\"quoted key\": 1\n'single': 2\n", true, false},
	{"\"a\":1\n", false, false},
	{"a:1\n", true, false},
	{"a: b: c\n", false, false},
	{"a: - b\n", false, false},
	{"a:\n  - b\n  c: d\n", false, false},
	{"a:\n  b: 1\n c: 2\n", false, false},
	{"- a\nb: 1\n", false, false},
	{"a: 1\n- b\n", false, false},
	{"  a: 1\n  b: 2\n", true, false},
	{"  - a\n  - b\n", false, false},
	// Scalar resolution.
	{"a: [y, Y, yes, Yes, YES, n, N, no, No, NO, on, On, ON, off, Off, OFF, true, True, TRUE, false, False, FALSE, tRUE]\n", true, false},
	{"a: [~, null, Null, NULL, nULL, '', \"\"]\nb:\nc: ~\n", true, false},
	{"a: [0, 1, -1, +1, 007, 08, 09, 0x1F, 0X1f, 0o17, 0b101, -0b101, +0b11, 1_000, 0x_1F, 1__, -_1, 9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775809, 18446744073709551615, 18446744073709551616, 123456789012345678901234567890]\n", true, false},
	{"a: [1.5, -1.5, .5, +.5, 1., 1e3, 1E3, 1.5e+3, 1e-3, 0.1e-3_0, ._5, .1_0, 1e400, 1e, 0e0, 0.]\n", true, false},
	{"a: [.inf]\n", false, false},
	{"a: -.Inf\n", false, false},
	{"a: .NaN\n", false, false},
	{"a: [2001-12-14, 2001-12-14t21:59:43.10-05:00, 1:30]\n", false, false},
	{"- 2001-12-14\n- 2001-12-14t21:59:43.10-05:00\n- 2001-12-14 21:59:43.10\n- 1:30\n- 190:20:30\n- 100m\n- 64Mi\n- 10.0.0.1\n- 1.2.3\n- 0.0.0.0/0\n", true, false},
	{"a: [\"1\", '2', \"true\", 'null', \"~\"]\n", true, false},
	{"ports:\n- 80\n- \"443\"\n- 8_080\n", true, false},
	// Keys.
	{"5: a\n3.14: b\n123456789.0: c\n1e20: d\n0.1: e\ntrue: f\nno: g\n0x10: h\n-1: i\n2001-01-01: j\n", true, false},
	{".inf: a\n-.inf: b\n.nan: c\n", true, false},
	{"~: 1\n", false, false},
	{"null: 1\n", false, false},
	{"'null': 1\n", true, false},
	{"9223372036854775808: j\n", false, false},
	{"? a\n: b\n", false, false},
	{"? |\n  null\n: 1\n", false, false},
	{"[a, b]: 1\n", false, false},
	{"{a: 1}: 1\n", false, false},
	{"? [a, b]\n: 1\n", false, false},
	// Duplicates.
	{"a: 1\na: 2\n", false, false},
	{"a: 1\nb:\n  c: 1\n  c: 2\n", false, false},
	{"{a: 1, a: 2}\n", false, false},
	{"1: a\n'1': b\n", false, true},
	{"1: a\n0x1: b\n", false, true},
	{".nan: a\n.NaN: b\n", false, true},
	{"true: a\nyes: b\n", false, true},
	// Block scalars.
	{"a: |\n  line1\n  line2\nb: 1\n", true, false},
	{"a: |-\n  line1\n  line2\n\n\nb: 1\n", true, false},
	{"a: |+\n  line1\n  line2\n\n\nb: 1\n", true, false},
	{"a: |+\n  line1\n\n", true, false},
	{"a: |\n  line1\n\n  line3\n   indented\n\tnot tab\n", false, false},
	{"a: |\n  line1\n\n  line3\n   indented\n  \ttab inside\n", true, false},
	{"a: >\n  folded\n  text\n\n  para\n   more indented\n  back\n", true, false},
	{"a: >-\n  folded\n  text\n", true, false},
	{"a: >+\n  folded\n\n", true, false},
	{"a: >\n\n  leading blank\n", true, false},
	{"a: |\n\n\n", true, false},
	{"a: |\n", true, false},
	{"a: |", true, false},
	{"a: |\n  x", true, false},
	{"a: |\n  x\n  ", true, false},
	{"a: |2\n   x\n", false, false},
	{"a: |-2\n   x\n", false, false},
	{"a: | # comment\n  x\n", true, false},
	{"a: |#c\n  x\n", true, false},
	{"a: |\n      \n  x\n", false, false},
	{"a: |\n    \n  \n    x\n", true, false},
	{"- |\n  x\n- >\n  y\n  z\n", true, false},
	{"- key: |\n    x\n  other: 1\n", true, false},
	{"a:\n- |\n  x\n", true, false},
	{"a: |\n  # not a comment\n# a comment\nb: 1\n", true, false},
	{"a: |\n    x\n  y\n", false, false},
	{"|\n  root literal\n", true, false},
	{"a: |\n  x\n...\n", false, false},
	// Flow collections, JSON, KYAML.
	{"a: []\nb: {}\nc: [1, \"two\", 'three', four]\nd: {x: 1, 'y': 2, \"z\": 3}\n", true, false},
	{"a: [a, b,]\nb: {x: 1,}\n", true, false},
	{"a: [[1, 2], {x: [3]}, []]\n", true, false},
	{"a: [a\n  , b]\n", true, false},
	{"a: [\n  a,\n  b, # comment\n]\n", true, false},
	{"a: [a\n  b]\n", false, false},
	{"a: [a: b]\n", false, false},
	{"a: {a}\n", false, false},
	{"a: {a: }\n", false, false},
	{"a: [http://x]\n", false, false},
	{"a: {url: http://x}\n", false, false},
	{"a: [-1, -x, - x]\n", false, false},
	{"a: [-1, -x]\n", true, false},
	{"a: [,]\n", false, false},
	{"a: [a,,b]\n", false, false},
	{"a: [a] b\n", false, false},
	{"a: [a] # c\n", true, false},
	{"a: [\n\"x\"\n]\n", false, false},
	{"{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"e\"}}\n", true, false},
	{"{\n  \"a\": 1,\n  \"b\": [\n    1.5,\n    \"x\"\n  ]\n}\n", true, false},
	{"{\"a\":\t1,\n\t\"b\": [1,\t2]}\n", false, false},
	{"{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\"\n}\n", false, false},
	{"[1, 2, 3]\n", true, false},
	{"{a: 1} # c\n", true, false},
	{"{a: 1}\nb: 2\n", false, false},
	{"[a, b]: c\n", false, false},
	{"a: {b: [c, {d: e}]}\n", true, false},
	{"a: [\"x\"#c\n]\n", false, false},
	{"a: {\"k\":\"v\"}\n", true, false},
	{"a: {k:v}\n", false, false},
	// Anchors, aliases, merge keys, tags.
	{"a: &x 1\nb: *x\n", false, false},
	{"a: &x [1, 2]\nb: *x\nc: *x\n", false, false},
	{"a: *x\n", false, false},
	{"a: &a [*a]\n", false, false},
	{"base: &b {a: 1, c: 3}\nx:\n  <<: *b\n  a: 2\n", false, false},
	{"base: &b {a: 1, c: 3}\nx:\n  a: 2\n  <<: *b\n", false, false},
	{"b: &b {a: 1, c: 3}\nd: &d {a: 5, e: 3}\nx:\n  <<: [*b, *d]\n  f: 1\n", false, false},
	{"x:\n  <<: {a: 1}\n  b: 2\n", false, false},
	{"x:\n  <<: [{a: 1}, {a: 2, b: 3}]\n", false, false},
	{"s: &s [1]\nx:\n  <<: *s\n", false, false},
	{"x:\n  <<: 1\n", false, false},
	{"x:\n  '<<': 1\n", true, false},
	{"x:\n  !!merge <<: {a: 1}\n", false, false},
	{"a: !!str 5\nb: !!int \"5\"\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !foo 1.5\ng: !!map x\nh: !!timestamp 2001-01-01\n", false, false},
	{"a: !!binary aGVsbG8=\n", false, false},
	{"a: !!binary |\n  aGVs\n  bG8=\n", false, false},
	{"a: !!binary \"aGk*\"\n", false, false},
	{"a: !!int 1.5\n", false, false},
	{"a: !!int 09\n", false, false},
	{"a: !!float 18446744073709551615\n", false, false},
	{"a: !!null foo\n", false, false},
	{"a: !!null [1, 2]\n", false, false},
	{"a: !<tag:yaml.org,2002:int> 5\n", false, false},
	{"a: !!float '1e3'\n", false, false},
	{"a: !!bool 1\n", false, false},
	// Odd streams.
	{"%YAML 1.1\n---\na: 1\n", false, false},
	{"a: 1\n...\n", false, false},
	{"\ufeffa: 1\n", false, false},
	{"a: 1\r\nb: 2\r\n", true, false},
	{"a: |\r\n  x\r\n\r\n  y\r\nb: [1,\r\n 2]\r\nc: 'q'\r\n", true, false},
	{"a: 1\rb: 2\r", false, false},
	{"a: 1\r\nb: 2\r", false, false},
	{"a: \"x\r\n  y\"\r\n", false, false},
	{"a:\tb\n", false, false},
	{"a: b\t# c\n", false, false},
	{"\ta: 1\n", false, false},
	{"a: \x01\n", false, false},
	{"a: \u0085b\n", false, false},
	{"a: `b`\n", false, false},
	{"a: @b\n", false, false},
	{"a: %b\n", false, false},
	{"a: ---\n", true, false},
	{"a: -\n", false, false},
	{"a: - \n", false, false},
	{"a: -x\n", true, false},
	{"-x: 1\n", true, false},
	{"?x: 1\n", true, false},
	{":x: 1\n", true, false},
	{"a: ?\n", false, false},
	{"a  : b\n", true, false},
	{"a: b  \n", true, false},
	{"- a:\n  - b\n", true, false},
	{"- a:\n  - b\n  c: 1\n", true, false},
	{"- a:\n    - b\n  c: 1\n", true, false},
	{"-   a: 1\n    b: 2\n", true, false},
	{"- # comment\n  a: 1\n", true, false},
	{"-# not a comment\n", true, false},
	{"- a\n -b\n", false, false},
	{"a:\n  - b\n -c\n", false, false},
}

func TestTrickyDifferential(t *testing.T) {
	for _, tc := range trickyInputs {
		name := strings.ReplaceAll(tc.doc, "\n", "⏎")
		if len(name) > 60 {
			name = name[:60]
		}
		for _, first := range []int{1, 41} {
			checkDoc(t, name, []byte(tc.doc), first, tc.fast, tc.mayFail)
		}
	}
}

// TestManyKeys covers mappings big enough for the indexed duplicate check.
func TestManyKeys(t *testing.T) {
	var block, flow strings.Builder
	flow.WriteString("{")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&block, "key%d: %d\n", i, i)
		fmt.Fprintf(&flow, "k%d: %d, ", i, i)
	}
	flow.WriteString("}\n")
	checkDoc(t, "40 block keys", []byte(block.String()), 1, true, false)
	checkDoc(t, "40 flow keys", []byte(flow.String()), 1, true, false)
	for _, doc := range []string{block.String() + "key7: again\n", strings.Replace(flow.String(), "}", "k3: 0}", 1)} {
		e := parseErr(t, doc, 1, DefaultLimits)
		if e.Kind != KindDuplicateKey {
			t.Errorf("duplicate among 40 keys: got %s %q", e.Kind, e.Message)
		}
	}
}
