package yamltree

import (
	"encoding/base64"
	"strconv"
)

// AppendJSON appends n encoded as JSON, as sigs.k8s.io/yaml would convert it.
// The typed decoder uses it for the few types that decode themselves
// (IntOrString, Quantity, Time, RawExtension).
func AppendJSON(buf []byte, n *Node) []byte {
	if n == nil {
		return append(buf, "null"...)
	}
	switch n.Kind {
	case Null:
		return append(buf, "null"...)
	case Bool:
		return strconv.AppendBool(buf, n.Bool)
	case Int:
		return strconv.AppendInt(buf, n.Int, 10)
	case Float:
		return strconv.AppendFloat(buf, n.Float, 'g', -1, 64)
	case String:
		if n.Binary {
			// !!binary holds base64 already; JSON strings carry []byte as
			// base64 too, so only normalise it.
			if b, err := base64.StdEncoding.DecodeString(n.Text); err == nil {
				return strconv.AppendQuote(buf, base64.StdEncoding.EncodeToString(b))
			}
		}
		return appendJSONString(buf, n.Text)
	case Seq:
		buf = append(buf, '[')
		for i, it := range n.Items {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendJSON(buf, it)
		}
		return append(buf, ']')
	case Map:
		buf = append(buf, '{')
		for i, f := range n.Fields {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, f.Key)
			buf = append(buf, ':')
			buf = AppendJSON(buf, f.Value)
		}
		return append(buf, '}')
	}
	return append(buf, "null"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s for JSON (strconv.Quote is Go syntax, not JSON).
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}
