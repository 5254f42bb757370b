package yamltree

import (
	"strings"
	"unicode/utf8"
)

// Scalars and keys for the fast parser: single-line plain and quoted
// scalars, and block scalars.

// plainStart reports whether a plain scalar may start at i in block
// context (the indicators may not, except "-", "?" and ":" before a
// non-space).
func (f *fastParser) plainStart(i int) bool {
	switch f.s[i] {
	case '-', '?', ':':
		return !f.blankAt(i + 1)
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '\t', ' ':
		return false
	}
	return true
}

// keyAhead reports whether a block mapping key starts at p, and remembers
// it for key.
func (f *fastParser) keyAhead() (bool, error) {
	text, end, ok, err := f.scanKey(f.p)
	if err != nil || !ok {
		return false, err
	}
	f.kAt, f.kText, f.kEnd = f.p, text, end
	return true, nil
}

// key reads the key at p and its ":", leaving p just past the ":".
func (f *fastParser) key() (string, error) {
	if f.kAt == f.p && f.kEnd > f.p {
		f.p = f.kEnd
		return f.kText, nil
	}
	text, end, ok, err := f.scanKey(f.p)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errBail
	}
	f.p = end
	return text, nil
}

// scanKey looks for `key:` at i, the key plain or quoted and on one line;
// end is just past the ":". ok is false when there is no key here.
func (f *fastParser) scanKey(i int) (key string, end int, ok bool, err error) {
	s := f.s
	if c := s[i]; c == '"' || c == '\'' {
		text, q, err := f.quoted(i)
		if err != nil {
			return "", 0, false, err
		}
		for q < f.le && s[q] == ' ' {
			q++
		}
		if q < f.le && s[q] == ':' && f.blankAt(q+1) {
			return text, q + 1, true, nil
		}
		return "", 0, false, nil
	}
	if !f.plainStart(i) {
		return "", 0, false, nil
	}
	j := i
	for ; j < f.le; j++ {
		c := s[j]
		if c == ':' && f.blankAt(j+1) {
			break
		}
		if c == '\t' {
			return "", 0, false, errBail
		}
		if c == ' ' && j+1 < f.le && s[j+1] == '#' {
			return "", 0, false, nil
		}
	}
	if j == f.le {
		return "", 0, false, nil
	}
	if j-i > maxKeyLen {
		return "", 0, false, errBail
	}
	text := strings.TrimRight(s[i:j], " ")
	if text == "<<" {
		return "", 0, false, errBail // merge key: the fallback applies it
	}
	key, err = f.plainKey(text)
	return key, j + 1, err == nil, err
}

// plainKey converts an unquoted key as sigs.k8s.io/yaml does (5 → "5");
// keys it refuses (null, huge integers) go to the fallback for the error.
func (f *fastParser) plainKey(text string) (string, error) {
	v := resolvePlain(text)
	switch v.cls {
	case clsStr, clsTimestamp:
		return text, nil
	case clsNull, clsUint:
		return "", errBail
	}
	var k Node
	k.Text = text
	setScalar(&k, v)
	return keyString(&k)
}

// inline parses a value that starts on the current line at p and is not a
// block collection; parent is the indentation of the enclosing collection.
func (f *fastParser) inline(depth, parent int) (*Node, error) {
	var n *Node
	var err error
	switch c := f.s[f.p]; c {
	case '|', '>':
		return f.blockScalar(parent)
	case '"', '\'':
		n, err = f.node(String, f.pos(f.p))
		if err != nil {
			return nil, err
		}
		n.Text, f.p, err = f.quoted(f.p)
	case '[', '{':
		n, err = f.flow(depth, parent)
	default:
		n, err = f.plain()
	}
	if err != nil {
		return nil, err
	}
	if err := f.endLine(); err != nil {
		return nil, err
	}
	if !f.eof && f.ind > parent {
		return nil, errBail // a continuation line, or an error
	}
	return n, nil
}

// plain reads a single-line plain scalar in block context.
func (f *fastParser) plain() (*Node, error) {
	s, i := f.s, f.p
	if !f.plainStart(i) {
		return nil, errBail
	}
	j := i
	for ; j < f.le; j++ {
		c := s[j]
		if c == ':' && f.blankAt(j+1) {
			return nil, errBail // "a: b: c"
		}
		if c == '\t' {
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

// scalarNode makes the node of a plain scalar starting at off.
func (f *fastParser) scalarNode(off int, text string) (*Node, error) {
	v := resolvePlain(text)
	n, err := f.node(String, f.pos(off))
	if err != nil {
		return nil, err
	}
	n.Text = text
	setScalar(n, v)
	if badFloat(n) != nil {
		return nil, errBail
	}
	return n, nil
}

// quoted reads a single- or double-quoted scalar that closes on its own
// line, returning its value and the offset just past the closing quote.
func (f *fastParser) quoted(i int) (string, int, error) {
	s := f.s
	q := s[i]
	j := i + 1
	for ; j < f.le; j++ {
		c := s[j]
		if c == q {
			if q == '\'' && j+1 < f.le && s[j+1] == '\'' {
				return f.quotedSlow(i)
			}
			return s[i+1 : j], j + 1, nil
		}
		if c == '\\' && q == '"' {
			return f.quotedSlow(i)
		}
	}
	return "", 0, errBail // continues on the next line, or unclosed
}

// quotedSlow handles escapes (” in single quotes, \ in double quotes).
func (f *fastParser) quotedSlow(i int) (string, int, error) {
	s := f.s
	q := s[i]
	b := f.buf[:0]
	for j := i + 1; j < f.le; {
		c := s[j]
		switch {
		case c == q && q == '\'' && j+1 < f.le && s[j+1] == '\'':
			b = append(b, '\'')
			j += 2
		case c == q:
			f.buf = b
			return string(b), j + 1, nil
		case c == '\\' && q == '"':
			if j+1 >= f.le {
				return "", 0, errBail // line continuation
			}
			var ok bool
			b, j, ok = unescape(b, s, j, f.le)
			if !ok {
				return "", 0, errBail
			}
		default:
			b = append(b, c)
			j++
		}
	}
	return "", 0, errBail
}

// unescape decodes the escape at s[j] ('\\') as libyaml does; ok is false
// for anything it would reject.
func unescape(b []byte, s string, j, end int) ([]byte, int, bool) {
	var n int
	switch s[j+1] {
	case '0':
		b = append(b, 0)
	case 'a':
		b = append(b, '\a')
	case 'b':
		b = append(b, '\b')
	case 't', '\t':
		b = append(b, '\t')
	case 'n':
		b = append(b, '\n')
	case 'v':
		b = append(b, '\v')
	case 'f':
		b = append(b, '\f')
	case 'r':
		b = append(b, '\r')
	case 'e':
		b = append(b, 0x1b)
	case ' ':
		b = append(b, ' ')
	case '"':
		b = append(b, '"')
	case '\'':
		b = append(b, '\'')
	case '\\':
		b = append(b, '\\')
	case 'N':
		b = utf8.AppendRune(b, 0x85)
	case '_':
		b = utf8.AppendRune(b, 0xA0)
	case 'L':
		b = utf8.AppendRune(b, 0x2028)
	case 'P':
		b = utf8.AppendRune(b, 0x2029)
	case 'x':
		n = 2
	case 'u':
		n = 4
	case 'U':
		n = 8
	default:
		return b, j, false
	}
	j += 2
	if n == 0 {
		return b, j, true
	}
	if j+n > end {
		return b, j, false
	}
	var r rune
	for k := 0; k < n; k++ {
		c := s[j+k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return b, j, false
		}
	}
	if r >= 0xD800 && r <= 0xDFFF || r > 0x10FFFF {
		return b, j, false
	}
	if r < utf8.RuneSelf {
		b = append(b, byte(r))
	} else {
		b = utf8.AppendRune(b, r)
	}
	return b, j + n, true
}

// blockScalar reads a literal (|) or folded (>) scalar at p. It follows
// libyaml's algorithm (scan_block_scalar) line by line; explicit
// indentation indicators are left to the fallback.
func (f *fastParser) blockScalar(parent int) (*Node, error) {
	s := f.s
	n, err := f.node(String, f.pos(f.p))
	if err != nil {
		return nil, err
	}
	literal := s[f.p] == '|'
	i := f.p + 1
	chomp := 0
	if i < f.le && (s[i] == '+' || s[i] == '-') {
		if s[i] == '+' {
			chomp = 1
		} else {
			chomp = -1
		}
		i++
	}
	if i < f.le && s[i] != ' ' && s[i] != '#' {
		return nil, errBail // indentation indicator, tab, or junk
	}
	for i < f.le && s[i] == ' ' {
		i++
	}
	if i < f.le && s[i] != '#' {
		return nil, errBail
	}

	// From here on, i walks the document; line counts the breaks passed.
	i = f.le
	line := f.ln
	if i < len(s) {
		i++
		line++
	}
	indent := 0
	out := f.buf[:0]
	var trailing, leading int // pending line breaks, as counts of "\n"
	// breaks skips indentation and empty lines, counting them into
	// trailing; it fixes indent on first use. It returns the column it
	// stopped at, or -1 to give up.
	breaks := func() int {
		maxIndent := 0
		for {
			col := 0
			for (indent == 0 || col < indent) && i < len(s) && s[i] == ' ' {
				i++
				col++
			}
			maxIndent = max(maxIndent, col)
			if (indent == 0 || col < indent) && i < len(s) && s[i] == '\t' {
				return -1
			}
			if i >= len(s) || s[i] != '\n' {
				if indent == 0 {
					indent = max(maxIndent, parent+1, 1)
					if col < indent && maxIndent > col {
						return -1 // blank lines more indented than the text
					}
				}
				return col
			}
			trailing++
			i++
			line++
		}
	}
	col := breaks()
	leadingBlank := false
	for col == indent && i < len(s) {
		if col < 0 {
			return nil, errBail
		}
		trailingBlank := s[i] == ' ' || s[i] == '\t'
		if !literal && !leadingBlank && !trailingBlank && leading > 0 {
			if trailing == 0 {
				out = append(out, ' ')
			}
		} else {
			out = appendBreaks(out, leading)
		}
		leading = 0
		out = appendBreaks(out, trailing)
		trailing = 0
		leadingBlank = trailingBlank
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			out = append(out, s[i:]...)
			i = len(s)
		} else {
			out = append(out, s[i:i+j]...)
			i += j + 1
			line++
			leading = 1
		}
		col = breaks()
	}
	if col < 0 {
		return nil, errBail
	}
	if chomp != -1 {
		out = appendBreaks(out, leading)
	}
	if chomp == 1 {
		out = appendBreaks(out, trailing)
	}
	n.Text = string(out)
	f.buf = out

	// Resume at the line where the scalar stopped.
	if i >= len(s) {
		f.eof = true
		f.ls, f.le, f.ind, f.p = len(s), len(s), 0, len(s)
		f.ln = line
		return n, nil
	}
	f.ln = line
	f.setLine(i - col)
	if err := f.skipBlank(); err != nil {
		return nil, err
	}
	if !f.eof && f.ind > parent {
		return nil, errBail
	}
	return n, nil
}

func appendBreaks(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, '\n')
	}
	return b
}
