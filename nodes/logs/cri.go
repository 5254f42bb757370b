package logs

import (
	"bytes"
	"fmt"
	"time"
)

// TimeFormat is the CRI log timestamp: RFC 3339 with nanoseconds, UTC.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Line is one line a container wrote, decoded.
type Line struct {
	// Time is when the runtime read the line (its first piece, for a
	// line written in pieces).
	Time time.Time
	// Stream is "stdout" or "stderr".
	Stream string
	// Text is the line without its newline.
	Text string
}

// ParseCRI splits one line of a CRI log file (without its newline) into
// its time, stream, whether it is a partial piece ("P") and its text.
func ParseCRI(b []byte) (t time.Time, stream string, partial bool, text []byte, err error) {
	ts, rest, ok := bytes.Cut(b, []byte{' '})
	if !ok {
		return t, "", false, nil, fmt.Errorf("CRI log line %q: no stream", clip(b))
	}
	t, err = time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return t, "", false, nil, fmt.Errorf("CRI log line %q: bad time: %w", clip(b), err)
	}
	s, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(s) != "stdout" && string(s) != "stderr") {
		return t, "", false, nil, fmt.Errorf("CRI log line %q: stream is not stdout or stderr", clip(b))
	}
	tag, text, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		// "<time> <stream> F" with nothing after: an empty line.
		tag, text = rest, nil
	}
	// The tag may carry more flags after ':' (CRI reserves it); only the
	// first, P or F, matters.
	tag, _, _ = bytes.Cut(tag, []byte{':'})
	switch string(tag) {
	case "P":
		partial = true
	case "F":
	default:
		return t, "", false, nil, fmt.Errorf("CRI log line %q: tag is not P or F", clip(b))
	}
	return t, string(s), partial, text, nil
}

func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// decoder joins the partial pieces of each stream into whole lines. The
// two streams are interleaved in one file, so each has its own pending
// line.
type decoder struct {
	pending map[string]*pendingLine
}

type pendingLine struct {
	t    time.Time
	text []byte
}

func newDecoder() *decoder { return &decoder{pending: map[string]*pendingLine{}} }

// feed takes one raw line of the file; it returns a whole line when one
// is complete. A line that does not parse is an error the caller may skip.
func (d *decoder) feed(raw []byte) (Line, bool, error) {
	t, stream, partial, text, err := ParseCRI(raw)
	if err != nil {
		return Line{}, false, err
	}
	p := d.pending[stream]
	if partial {
		if p == nil {
			p = &pendingLine{t: t}
			d.pending[stream] = p
		}
		p.text = append(p.text, text...)
		return Line{}, false, nil
	}
	if p == nil {
		return Line{Time: t, Stream: stream, Text: string(text)}, true, nil
	}
	delete(d.pending, stream)
	return Line{Time: p.t, Stream: stream, Text: string(append(p.text, text...))}, true, nil
}

// flush returns what is left of lines whose last piece never came (the
// run ended, or the file was cut), stdout first.
func (d *decoder) flush() []Line {
	var out []Line
	for _, s := range []string{"stdout", "stderr"} {
		if p := d.pending[s]; p != nil {
			out = append(out, Line{Time: p.t, Stream: s, Text: string(p.text)})
			delete(d.pending, s)
		}
	}
	return out
}
