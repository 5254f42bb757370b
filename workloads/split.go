package workloads

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxDocumentBytes caps one YAML document. Kubernetes refuses requests over
// 3 MiB and etcd objects over 1.5 MiB, so anything larger is a mistake (a
// log file, a dump) and is refused instead of parsed.
const MaxDocumentBytes = 4 << 20

// errNotText marks input that is not text at all.
var errNotText = errors.New("not a text file (it holds NUL bytes); berth reads YAML and JSON manifests")

// rawDocument is one document as cut from a file.
type rawDocument struct {
	text      []byte
	firstLine int
	// tooLarge is set (and text empty) when the document exceeded
	// MaxDocumentBytes.
	tooLarge bool
}

// splitDocuments cuts a YAML stream into documents at "---" lines, streaming:
// only one document is held in memory at a time. Each document keeps its
// "---" line so that positions stay exact. yield's error stops the split and
// is returned; a read error is returned as is. br is reset to read r (the
// caller reuses it across files: one buffer per run, not per file).
func splitDocuments(br *bufio.Reader, r io.Reader, yield func(rawDocument) error) error {
	br.Reset(r)
	if head, _ := br.Peek(8000); bytes.IndexByte(head, 0) >= 0 {
		return errNotText
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var (
		doc       []byte
		firstLine = 1
		line      = 0
		tooLarge  = false
		midLine   = false // the previous ReadSlice ended without a newline
	)
	flush := func(nextFirstLine int) error {
		d := rawDocument{text: doc, firstLine: firstLine, tooLarge: tooLarge}
		doc, tooLarge, firstLine = nil, false, nextFirstLine
		if d.tooLarge || len(bytes.TrimSpace(d.text)) > 0 {
			return yield(d)
		}
		return nil
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if !midLine {
				line++
				switch {
				case isMarker(chunk, "---") && line > firstLine:
					if ferr := flush(line); ferr != nil {
						return ferr
					}
				case isMarker(chunk, "..."):
					// Document end: the line belongs to no document.
					if ferr := flush(line + 1); ferr != nil {
						return ferr
					}
					midLine = chunk[len(chunk)-1] != '\n'
					continue
				}
			}
			if bytes.IndexByte(chunk, 0) >= 0 {
				return errNotText
			}
			if len(doc)+len(chunk) > MaxDocumentBytes {
				tooLarge, doc = true, doc[:0]
			}
			if !tooLarge {
				doc = append(doc, chunk...)
			}
			midLine = chunk[len(chunk)-1] != '\n'
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return flush(line + 1)
		default:
			return err
		}
	}
}

// isMarker reports whether line is the document marker m ("---" or "...")
// alone or followed by whitespace (and, for "---", content).
func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	if len(line) == 3 {
		return true
	}
	switch line[3] {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// tooLargeMessage explains a refused document.
func tooLargeMessage() string {
	return fmt.Sprintf("document is larger than %d MiB; Kubernetes objects are limited to about 1.5 MiB", MaxDocumentBytes>>20)
}
