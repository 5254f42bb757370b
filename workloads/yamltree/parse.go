package yamltree

import (
	"bytes"
	"unicode/utf8"
)

// Parse parses one YAML document. doc is the document's text as cut from the
// file by the caller's document splitter: it may begin with a "---" marker
// line (possibly with content after "--- ") and never contains another "---"
// document marker at column 0. firstLine is the file line number of doc's
// first line, so every Pos in the result is a file position (columns are
// 1-based and count characters).
//
// An empty document (only whitespace, comments, the marker, or an explicit
// null) returns (nil, nil). Errors are *Error. Zero fields of lim take their
// value from DefaultLimits.
//
// The returned tree does not refer to doc: doc may be reused afterwards.
func Parse(doc []byte, firstLine int, lim Limits) (*Node, error) {
	lim = lim.normalize()
	info, err := prescan(doc, firstLine)
	if err != nil {
		return nil, err
	}
	if info.fastOK {
		n, err := parseFast(doc, firstLine, lim, info)
		if err != errBail {
			return n, err
		}
	}
	return parseFallback(doc, firstLine, lim)
}

// docInfo is what one cheap pass over a document tells the parsers.
type docInfo struct {
	ascii  bool // columns are byte offsets
	crlf   bool // has CR LF line breaks (each CR is followed by LF)
	fastOK bool // nothing the fast parser leaves to yaml.v3 outright
}

// plainASCII marks the bytes the fast parser takes as they come: printable
// ASCII, tab and line feed.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'], t['\n'] = true, true
	return t
}()

// prescan validates UTF-8 (with the position of the first bad byte) and
// looks for what only yaml.v3 handles: lone CRs, Unicode line separators,
// characters YAML forbids, a byte order mark.
func prescan(doc []byte, firstLine int) (docInfo, error) {
	info := docInfo{ascii: true, fastOK: true}
	i := 0
	// The common case, eight plain bytes at a time.
	for ; i+8 <= len(doc); i += 8 {
		b := doc[i : i+8 : i+8]
		if !(plainASCII[b[0]] && plainASCII[b[1]] && plainASCII[b[2]] && plainASCII[b[3]] &&
			plainASCII[b[4]] && plainASCII[b[5]] && plainASCII[b[6]] && plainASCII[b[7]]) {
			break
		}
	}
	for i < len(doc) {
		c := doc[i]
		if c < utf8.RuneSelf {
			if c == '\r' && i+1 < len(doc) && doc[i+1] == '\n' {
				info.crlf = true
			} else if !plainASCII[c] {
				info.fastOK = false
			}
			i++
			continue
		}
		info.ascii = false
		r, size := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && size <= 1 {
			return info, invalidUTF8(doc, i, firstLine)
		}
		if !printableRune(r) {
			info.fastOK = false
		}
		i += size
	}
	return info, nil
}

func invalidUTF8(doc []byte, at, firstLine int) *Error {
	line := firstLine + bytes.Count(doc[:at], []byte("\n"))
	lineStart := bytes.LastIndexByte(doc[:at], '\n') + 1
	col := utf8.RuneCount(doc[lineStart:at]) + 1
	return syntaxError(Pos{Line: line, Col: col}, "invalid UTF-8 byte 0x%02x; YAML files must be UTF-8", doc[at])
}

// printableRune is YAML's printable set above ASCII, less the characters
// that yaml.v3 treats as line breaks (NEL, LS, PS) and the BOM.
func printableRune(r rune) bool {
	switch {
	case r == 0x85, r == 0x2028, r == 0x2029, r == 0xFEFF:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
