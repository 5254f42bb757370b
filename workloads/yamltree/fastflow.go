package yamltree

import "strings"

// Flow collections for the fast parser: [a, b] and {k: v}, nested, across
// lines, with trailing commas (KYAML) and comments, holding single-line
// plain or quoted scalars. Single-pair mappings in sequences ([a: b]),
// "?" keys, empty values, plain scalars containing ":" and anything else
// unusual go to the fallback.

// flowSpace skips spaces, line breaks and comments. Indentation does not
// matter inside flow collections (libyaml, hence yaml.v2 and v3, ignore it).
func (f *fastParser) flowSpace() error {
	spaced := false
	for {
		if f.p >= f.le {
			if f.le >= len(f.s) {
				return errBail // unclosed
			}
			f.nextLine()
			if f.ind == 0 && isDocMarker(f.s[f.ls:f.le]) {
				return errBail
			}
			spaced = true
			continue
		}
		switch f.s[f.p] {
		case ' ':
			f.p++
			spaced = true
		case '#':
			if !spaced {
				return errBail
			}
			f.p = f.le
		case '\t':
			return errBail
		default:
			return nil
		}
	}
}

// flow parses the collection opening at p; on return p is just past its
// closing bracket, on the line where it closes.
func (f *fastParser) flow(depth, parent int) (*Node, error) {
	if depth+1 > f.lim.MaxDepth {
		return nil, tooDeepError(f.pos(f.p), f.lim.MaxDepth)
	}
	if f.s[f.p] == '[' {
		return f.flowSeq(depth, parent)
	}
	return f.flowMap(depth, parent)
}

func (f *fastParser) flowSeq(depth, parent int) (*Node, error) {
	seq, err := f.node(Seq, f.pos(f.p))
	if err != nil {
		return nil, err
	}
	f.p++
	start := len(f.istack)
	for {
		if err := f.flowSpace(); err != nil {
			return nil, err
		}
		if f.s[f.p] == ']' {
			f.p++
			break
		}
		item, err := f.flowValue(depth+1, parent)
		if err != nil {
			return nil, err
		}
		f.istack = append(f.istack, item)
		if err := f.flowSpace(); err != nil {
			return nil, err
		}
		if c := f.s[f.p]; c == ',' {
			f.p++
		} else if c == ']' {
			f.p++
			break
		} else {
			return nil, errBail
		}
	}
	seq.Items = f.items(start)
	return seq, nil
}

func (f *fastParser) flowMap(depth, parent int) (*Node, error) {
	m, err := f.node(Map, f.pos(f.p))
	if err != nil {
		return nil, err
	}
	f.p++
	start := len(f.fstack)
	var seen map[string]struct{}
	for {
		if err := f.flowSpace(); err != nil {
			return nil, err
		}
		if f.s[f.p] == '}' {
			f.p++
			break
		}
		keyPos := f.pos(f.p)
		key, err := f.flowKey()
		if err != nil {
			return nil, err
		}
		if err := f.addKey(start, key, &seen); err != nil {
			return nil, err
		}
		if f.count++; f.count > f.lim.MaxNodes {
			return nil, tooManyNodesError(keyPos, f.lim.MaxNodes, false)
		}
		if err := f.flowSpace(); err != nil {
			return nil, err
		}
		if c := f.s[f.p]; c == ',' || c == '}' {
			return nil, errBail // empty value
		}
		v, err := f.flowValue(depth+1, parent)
		if err != nil {
			return nil, err
		}
		f.fstack = append(f.fstack, Field{Key: key, KeyPos: keyPos, Value: v})
		if err := f.flowSpace(); err != nil {
			return nil, err
		}
		if c := f.s[f.p]; c == ',' {
			f.p++
		} else if c == '}' {
			f.p++
			break
		} else {
			return nil, errBail
		}
	}
	m.Fields = f.fields(start)
	return m, nil
}

// flowKey reads a key and the ":" after it, on one line.
func (f *fastParser) flowKey() (string, error) {
	s := f.s
	if c := s[f.p]; c == '"' || c == '\'' {
		text, end, err := f.quoted(f.p)
		if err != nil {
			return "", err
		}
		for end < f.le && s[end] == ' ' {
			end++
		}
		if end >= f.le || s[end] != ':' {
			return "", errBail
		}
		f.p = end + 1
		return text, nil
	}
	if !f.flowPlainStart(f.p) {
		return "", errBail
	}
	j := f.p
	for ; j < f.le; j++ {
		c := s[j]
		if c == ':' {
			if !f.blankAt(j + 1) {
				return "", errBail
			}
			break
		}
		if isFlowStop(c) || c == '\t' || c == '#' {
			return "", errBail
		}
	}
	if j == f.le || j-f.p > maxKeyLen {
		return "", errBail
	}
	text := strings.TrimRight(s[f.p:j], " ")
	if text == "<<" {
		return "", errBail
	}
	key, err := f.plainKey(text)
	f.p = j + 1
	return key, err
}

func isFlowStop(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '?'
}

// flowPlainStart is plainStart for flow context.
func (f *fastParser) flowPlainStart(i int) bool {
	c := f.s[i]
	if c == '-' {
		return !f.blankAt(i+1) && !isFlowStop(f.s[i+1])
	}
	return f.plainStart(i) && c != '?' && c != ':'
}

func (f *fastParser) flowValue(depth, parent int) (*Node, error) {
	s := f.s
	switch c := s[f.p]; c {
	case '[', '{':
		return f.flow(depth, parent)
	case '"', '\'':
		n, err := f.node(String, f.pos(f.p))
		if err != nil {
			return nil, err
		}
		n.Text, f.p, err = f.quoted(f.p)
		return n, err
	}
	if !f.flowPlainStart(f.p) {
		return nil, errBail
	}
	i, j := f.p, f.p
	for ; j < f.le; j++ {
		c := s[j]
		if isFlowStop(c) {
			break
		}
		if c == ':' || c == '\t' {
			return nil, errBail
		}
		if c == ' ' && j+1 < f.le && s[j+1] == '#' {
			break
		}
	}
	n, err := f.scalarNode(i, strings.TrimRight(s[i:j], " "))
	f.p = j
	return n, err
}
