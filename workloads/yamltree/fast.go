package yamltree

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// The fast parser reads the block-style YAML that Kubernetes manifests are
// written in: block mappings and sequences (including "- key: value" and
// sequences not indented under their key), single-line plain and quoted
// scalars, literal and folded block scalars, comments, and flow collections
// of such scalars (JSON, KYAML). It builds Nodes straight from the text,
// allocating them in chunks.
//
// It never reports a syntax error of its own: whenever the input steps
// outside what it is sure about (anchors, aliases, tags, merge keys,
// multi-line plain or quoted scalars, tabs, explicit indentation
// indicators, duplicate keys, odd indentation, ...) it returns errBail and
// yaml.v3 parses the document instead, so both paths give one answer. The
// only errors it returns itself are the limits (depth and size), which do
// not depend on what comes later in the document.

// errBail means "not sure: let the fallback parse this document".
var errBail = errors.New("yamltree: fast parser gives up")

// maxKeyLen is the longest implicit key YAML allows (1024 characters).
const maxKeyLen = 1024

type fastParser struct {
	s         string // the document; all Text slices point into it
	firstLine int
	ascii     bool
	lim       Limits
	count     int // nodes and keys so far, against lim.MaxNodes

	// The current line: s[ls:le] without its break, ind leading spaces,
	// ln its index in the document. p is the read offset.
	ls, le, ind, ln int
	eof             bool // past the last line
	p               int

	slab   []Node  // chunk that new Nodes are cut from
	fslab  []Field // chunk that mappings' Fields are cut from
	islab  []*Node // chunk that sequences' Items are cut from
	chunk  int
	fstack []Field // entries of the mappings being parsed
	istack []*Node // items of the sequences being parsed
	buf    []byte  // scratch for escapes and block scalars

	// runeCol's memo: on the line starting at colLine, colN characters
	// precede colOff.
	colLine, colOff, colN int

	// The key found by keyAhead at kAt, and the offset past its ":".
	kAt, kEnd int
	kText     string
}

func parseFast(doc []byte, firstLine int, lim Limits, info docInfo) (*Node, error) {
	text := string(doc)
	if info.crlf {
		// YAML reads CR LF as one line break, and a break is never part of
		// a single-line value, so dropping the CRs changes no value and no
		// position.
		text = strings.ReplaceAll(text, "\r\n", "\n")
	}
	f := &fastParser{s: text, firstLine: firstLine, ascii: info.ascii, lim: lim}
	// About one node per 20 bytes in typical manifests; more chunks are
	// cut as needed.
	f.chunk = len(doc)/20 + 16
	f.fstack = make([]Field, 0, 32)
	f.istack = make([]*Node, 0, 16)
	n, err := f.document()
	if err != nil {
		return nil, err
	}
	return n, nil
}

// ---- allocation ------------------------------------------------------------

func (f *fastParser) node(k Kind, pos Pos) (*Node, error) {
	if f.count++; f.count > f.lim.MaxNodes {
		return nil, tooManyNodesError(pos, f.lim.MaxNodes, false)
	}
	if len(f.slab) == 0 {
		f.slab = make([]Node, f.chunk)
	}
	n := &f.slab[0]
	f.slab = f.slab[1:]
	n.Kind, n.Pos = k, pos
	return n, nil
}

// fields moves the entries above start off the stack into their own slice.
func (f *fastParser) fields(start int) []Field {
	src := f.fstack[start:]
	if len(src) == 0 {
		f.fstack = f.fstack[:start]
		return []Field{}
	}
	if len(src) > len(f.fslab) {
		f.fslab = make([]Field, max(len(src), f.chunk))
	}
	dst := f.fslab[:len(src):len(src)]
	f.fslab = f.fslab[len(src):]
	copy(dst, src)
	f.fstack = f.fstack[:start]
	return dst
}

func (f *fastParser) items(start int) []*Node {
	src := f.istack[start:]
	if len(src) == 0 {
		f.istack = f.istack[:start]
		return []*Node{}
	}
	if len(src) > len(f.islab) {
		f.islab = make([]*Node, max(len(src), f.chunk/2))
	}
	dst := f.islab[:len(src):len(src)]
	f.islab = f.islab[len(src):]
	copy(dst, src)
	f.istack = f.istack[:start]
	return dst
}

// ---- lines and positions -----------------------------------------------------

func (f *fastParser) setLine(start int) {
	f.ls = start
	if i := strings.IndexByte(f.s[start:], '\n'); i >= 0 {
		f.le = start + i
	} else {
		f.le = len(f.s)
	}
	i := start
	for i < f.le && f.s[i] == ' ' {
		i++
	}
	f.ind = i - start
	f.p = i
}

// nextLine moves to the start of the next line.
func (f *fastParser) nextLine() {
	if f.le >= len(f.s) {
		f.eof = true
		f.ls, f.le, f.ind, f.p = len(f.s), len(f.s), 0, len(f.s)
		return
	}
	f.ln++
	f.setLine(f.le + 1)
}

// skipBlank moves past blank and comment-only lines, leaving p at the
// first character of the next content line.
func (f *fastParser) skipBlank() error {
	for !f.eof {
		if f.p == f.le || f.s[f.p] == '#' {
			f.nextLine()
			continue
		}
		if f.s[f.p] == '\t' {
			return errBail
		}
		if f.ind == 0 && isDocMarker(f.s[f.ls:f.le]) {
			return errBail
		}
		return nil
	}
	return nil
}

func isDocMarker(line string) bool {
	return len(line) >= 3 && (line[:3] == "---" || line[:3] == "...") && (len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

// endLine checks that only spaces and a comment follow p on this line, then
// moves to the next content line.
func (f *fastParser) endLine() error {
	i := f.p
	for i < f.le && f.s[i] == ' ' {
		i++
	}
	if i < f.le && (f.s[i] != '#' || i == f.p) {
		return errBail
	}
	f.nextLine()
	return f.skipBlank()
}

func (f *fastParser) pos(off int) Pos {
	col := off - f.ls
	if !f.ascii {
		col = f.runeCol(off)
	}
	return Pos{Line: f.firstLine + f.ln, Col: col + 1}
}

// runeCol counts the characters before off on the current line. Positions
// are asked for left to right, so it counts on from the last answer: a long
// line (minified JSON) costs linear time, not quadratic.
func (f *fastParser) runeCol(off int) int {
	if f.colLine != f.ls || off < f.colOff {
		f.colLine, f.colOff, f.colN = f.ls, f.ls, 0
	}
	f.colN += utf8.RuneCountInString(f.s[f.colOff:off])
	f.colOff = off
	return f.colN
}

// blankAt reports whether s[i] is a space or the end of the line.
func (f *fastParser) blankAt(i int) bool {
	return i >= f.le || f.s[i] == ' '
}

// ---- block structure ---------------------------------------------------------

func (f *fastParser) document() (*Node, error) {
	f.setLine(0)
	if strings.HasPrefix(f.s, "---") {
		if len(f.s) > 3 && f.s[3] != ' ' && f.s[3] != '\n' {
			return nil, errBail
		}
		f.p = 3
		if err := f.endLine(); err != nil { // "--- value" is for yaml.v3
			return nil, err
		}
	} else if err := f.skipBlank(); err != nil {
		return nil, err
	}
	if f.eof {
		return nil, nil
	}
	if f.ind > 0 && f.s[f.p] == '-' {
		// An indented top-level sequence: yaml.v3 and v2 differ in detail
		// on what may follow; not worth the risk.
		return nil, errBail
	}
	n, err := f.block(0, -1)
	if err != nil {
		return nil, err
	}
	if !f.eof {
		return nil, errBail
	}
	if n.Kind == Null {
		return nil, nil
	}
	return n, nil
}

// block parses the node starting at p, inside depth collections, whose
// enclosing block collection is indented parent columns (-1 at the top).
// On return the parser is at the next content line.
func (f *fastParser) block(depth, parent int) (*Node, error) {
	c := f.s[f.p]
	if c == '-' && f.blankAt(f.p+1) {
		return f.sequence(f.p-f.ls, depth)
	}
	if isKey, err := f.keyAhead(); err != nil {
		return nil, err
	} else if isKey {
		return f.mapping(f.p-f.ls, depth)
	}
	return f.inline(depth, parent)
}

func (f *fastParser) sequence(col, depth int) (*Node, error) {
	if depth+1 > f.lim.MaxDepth {
		return nil, tooDeepError(f.pos(f.p), f.lim.MaxDepth)
	}
	seq, err := f.node(Seq, f.pos(f.p))
	if err != nil {
		return nil, err
	}
	start := len(f.istack)
	for {
		dash := f.p
		f.p++
		for f.p < f.le && f.s[f.p] == ' ' {
			f.p++
		}
		var item *Node
		if f.p == f.le || (f.s[f.p] == '#' && f.p > dash+1) {
			nullPos := f.pos(dash + 1) // yaml.v3 puts it just past the "-"
			f.nextLine()
			if err := f.skipBlank(); err != nil {
				return nil, err
			}
			if !f.eof && f.ind > col {
				item, err = f.block(depth+1, col)
			} else {
				item, err = f.node(Null, nullPos)
			}
		} else {
			item, err = f.block(depth+1, col)
		}
		if err != nil {
			return nil, err
		}
		f.istack = append(f.istack, item)
		if f.eof || f.ind < col {
			break
		}
		if f.ind > col {
			return nil, errBail
		}
		if !(f.s[f.p] == '-' && f.blankAt(f.p+1)) {
			break
		}
	}
	seq.Items = f.items(start)
	return seq, nil
}

func (f *fastParser) mapping(col, depth int) (*Node, error) {
	if depth+1 > f.lim.MaxDepth {
		return nil, tooDeepError(f.pos(f.p), f.lim.MaxDepth)
	}
	m, err := f.node(Map, f.pos(f.p))
	if err != nil {
		return nil, err
	}
	start := len(f.fstack)
	var seen map[string]struct{}
	for {
		keyPos := f.pos(f.p)
		key, err := f.key()
		if err != nil {
			return nil, err
		}
		if err := f.addKey(start, key, &seen); err != nil {
			return nil, err
		}
		if f.count++; f.count > f.lim.MaxNodes {
			return nil, tooManyNodesError(keyPos, f.lim.MaxNodes, false)
		}
		v, err := f.value(col, depth+1)
		if err != nil {
			return nil, err
		}
		f.fstack = append(f.fstack, Field{Key: key, KeyPos: keyPos, Value: v})
		if f.eof || f.ind < col {
			break
		}
		if f.ind > col {
			return nil, errBail
		}
	}
	m.Fields = f.fields(start)
	return m, nil
}

// value parses a mapping value: p is just past the ":".
func (f *fastParser) value(col, depth int) (*Node, error) {
	colon := f.p - 1
	for f.p < f.le && f.s[f.p] == ' ' {
		f.p++
	}
	if f.p < f.le && f.s[f.p] != '#' {
		return f.inline(depth, col)
	}
	nullPos := f.pos(colon + 1) // yaml.v3 puts it just past the ":"
	f.nextLine()
	if err := f.skipBlank(); err != nil {
		return nil, err
	}
	switch {
	case f.eof:
	case f.ind > col:
		return f.block(depth, col)
	case f.ind == col && f.s[f.p] == '-' && f.blankAt(f.p+1):
		// A sequence not indented under its key.
		return f.sequence(col, depth)
	}
	return f.node(Null, nullPos)
}

// addKey checks that key is new in the mapping whose entries start at
// start; a duplicate goes to the fallback, which reports it. Small
// mappings are scanned, larger ones get an index.
func (f *fastParser) addKey(start int, key string, seen *map[string]struct{}) error {
	if *seen != nil {
		if _, dup := (*seen)[key]; dup {
			return errBail
		}
		(*seen)[key] = struct{}{}
		return nil
	}
	for i := start; i < len(f.fstack); i++ {
		if f.fstack[i].Key == key {
			return errBail
		}
	}
	if len(f.fstack)-start >= indexFrom {
		*seen = make(map[string]struct{}, 2*indexFrom)
		for i := start; i < len(f.fstack); i++ {
			(*seen)[f.fstack[i].Key] = struct{}{}
		}
		(*seen)[key] = struct{}{}
	}
	return nil
}
