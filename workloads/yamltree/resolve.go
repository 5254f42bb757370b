package yamltree

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file resolves scalars the way go.yaml.in/yaml/v2 (YAML 1.1) does when
// it decodes into interface{}, which is what sigs.k8s.io/yaml, and so
// kubectl, sees. The order of the checks mirrors v2's resolve() on purpose:
// some odd inputs ("09" is a float, "1e400" a string) depend on it.

// class is what v2's resolve() would tag a scalar as.
type class uint8

const (
	clsStr class = iota
	clsNull
	clsBool
	clsInt
	clsUint // fits uint64 but not int64: v2 yields uint64, JSON keeps it exact
	clsFloat
	clsTimestamp // v2 hands these to interface{} as the original string
)

var classTags = [...]string{"!!str", "!!null", "!!bool", "!!int", "!!int", "!!float", "!!timestamp"}

// scalar is a resolved scalar value.
type scalar struct {
	cls class
	b   bool
	i   int64
	u   uint64
	f   float64
}

// resolvePlain resolves an untagged plain scalar.
func resolvePlain(s string) scalar {
	return resolveText(s, true)
}

// resolveText resolves s as v2 does for an implicit tag; timestamps are only
// recognised when checkTime is set (v2 skips them for an explicit !!int or
// !!float, and for an untagged scalar they end up a string anyway).
func resolveText(s string, checkTime bool) scalar {
	if s == "" {
		return scalar{cls: clsNull}
	}
	switch c := s[0]; {
	case c == 'y' || c == 'Y' || c == 'n' || c == 'N' || c == 't' || c == 'T' ||
		c == 'f' || c == 'F' || c == 'o' || c == 'O' || c == '~':
		if v, ok := lookupWord(s); ok {
			return v
		}
		return scalar{}
	case c == '.':
		if v, ok := lookupWord(s); ok {
			return v
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return scalar{cls: clsFloat, f: f}
		}
		return scalar{}
	case c >= '0' && c <= '9' || c == '+' || c == '-':
		if v, ok := lookupWord(s); ok { // +.inf, -.inf
			return v
		}
		return resolveNumber(s, checkTime)
	}
	return scalar{}
}

// lookupWord matches v2's table of YAML 1.1 booleans, nulls and special floats.
func lookupWord(s string) (scalar, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return scalar{cls: clsBool, b: true}, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return scalar{cls: clsBool}, true
	case "~", "null", "Null", "NULL":
		return scalar{cls: clsNull}, true
	case ".nan", ".NaN", ".NAN":
		return scalar{cls: clsFloat, f: math.NaN()}, true
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return scalar{cls: clsFloat, f: math.Inf(1)}, true
	case "-.inf", "-.Inf", "-.INF":
		return scalar{cls: clsFloat, f: math.Inf(-1)}, true
	}
	return scalar{}, false
}

// resolveNumber handles scalars starting with a digit or a sign.
func resolveNumber(s string, checkTime bool) scalar {
	// Fast paths that avoid strconv's error allocations for the common
	// cases: small decimal integers, and words such as "100Mi" or "10m"
	// that contain a byte no number syntax accepts.
	if v, ok := smallDecimal(s); ok {
		return scalar{cls: clsInt, i: v}
	}
	if !numberBytesOnly(s) {
		if checkTime && looksLikeTimestamp(s) {
			if _, ok := parseTimestamp(s); ok {
				return scalar{cls: clsTimestamp}
			}
		}
		return scalar{}
	}
	if checkTime {
		if _, ok := parseTimestamp(s); ok {
			return scalar{cls: clsTimestamp}
		}
	}
	plain := s
	if strings.IndexByte(s, '_') >= 0 {
		plain = strings.ReplaceAll(s, "_", "")
	}
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return scalar{cls: clsInt, i: i}
	}
	if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return scalar{cls: clsUint, u: u}
	}
	if yamlStyleFloat(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil {
			return scalar{cls: clsFloat, f: f}
		}
	}
	if strings.HasPrefix(plain, "0b") {
		if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return scalar{cls: clsInt, i: i}
		}
		if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return scalar{cls: clsUint, u: u}
		}
	} else if strings.HasPrefix(plain, "-0b") {
		if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return scalar{cls: clsInt, i: i}
		}
	}
	return scalar{}
}

// smallDecimal parses an unsigned decimal without a leading zero that is
// short enough not to overflow; anything else goes the long way.
func smallDecimal(s string) (int64, bool) {
	if len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// numberBytesOnly reports whether every byte of s may occur in some number
// that v2 accepts (decimal, 0x/0o/0b, floats with exponents, underscores).
func numberBytesOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == 'x' || c == 'X' || c == 'o' || c == 'O' || c == '_' || c == '.' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return true
}

// looksLikeTimestamp is the cheap prefix check v2 does first: YYYY-.
func looksLikeTimestamp(s string) bool {
	if len(s) < 5 || s[4] != '-' {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// yamlStyleFloat matches ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
func yamlStyleFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// The timestamp layouts v2 recognises.
var timestampLayouts = [...]string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func parseTimestamp(s string) (time.Time, bool) {
	if !looksLikeTimestamp(s) {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// setScalar fills n from a resolved scalar. A uint64 beyond int64 becomes a
// Float, which is what Kubernetes' JSON decoding makes of it too.
func setScalar(n *Node, v scalar) {
	switch v.cls {
	case clsNull:
		n.Kind = Null
	case clsBool:
		n.Kind, n.Bool = Bool, v.b
	case clsInt:
		n.Kind, n.Int = Int, v.i
	case clsUint:
		n.Kind, n.Float = Float, float64(v.u)
	case clsFloat:
		n.Kind, n.Float = Float, v.f
	default:
		n.Kind = String
	}
}

// resolveTagged resolves a scalar carrying an explicit tag (short form,
// "!!int"), quoted or not, as v2 does: the standard scalar tags must agree
// with what the text resolves to (except that an integer may be read as a
// !!float), !!binary must hold base64, and any other tag (!!map on a
// scalar, !custom) leaves the text a string.
func resolveTagged(n *Node, tag, text string) error {
	switch tag {
	case "!!str":
		n.Kind = String
		return nil
	case "!!binary":
		if _, err := base64.StdEncoding.DecodeString(text); err != nil {
			return &Error{Pos: n.Pos, Kind: KindSyntax, Message: "!!binary value contains invalid base64 data"}
		}
		n.Kind, n.Binary = String, true
		return nil
	case "!!null", "!!bool", "!!int", "!!float", "!!timestamp":
	default:
		n.Kind = String
		return nil
	}
	v := resolveText(text, tag == "!!timestamp")
	got := classTags[v.cls]
	switch {
	case got == tag:
		if v.cls == clsTimestamp {
			n.Kind = String
			return nil
		}
		setScalar(n, v)
		return nil
	case tag == "!!float" && v.cls == clsInt:
		n.Kind, n.Float = Float, float64(v.i)
		return nil
	}
	return &Error{Pos: n.Pos, Kind: KindSyntax,
		Message: "cannot decode " + got + " " + strconv.Quote(text) + " as a " + tag}
}

// keyString turns a resolved key into the string sigs.k8s.io/yaml makes of
// it; null, uint64 and collection keys are refused there, so here too.
func keyString(k *Node) (string, error) {
	switch k.Kind {
	case String:
		if k.Binary {
			b, _ := base64.StdEncoding.DecodeString(k.Text)
			return string(b), nil
		}
		return k.Text, nil
	case Int:
		return strconv.FormatInt(k.Int, 10), nil
	case Bool:
		if k.Bool {
			return "true", nil
		}
		return "false", nil
	case Float:
		if isUintText(k) {
			break
		}
		// sigs.k8s.io/yaml formats float keys as 32-bit floats.
		s := strconv.FormatFloat(k.Float, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, nil
	case Map, Seq:
		return "", &Error{Pos: k.Pos, Kind: KindSyntax,
			Message: "a " + k.Kind.String() + " cannot be a mapping key"}
	}
	return "", &Error{Pos: k.Pos, Kind: KindSyntax,
		Message: "mapping key " + describeKey(k) + " is not supported: Kubernetes needs string, integer, float or boolean keys"}
}

// isUintText reports whether a Float node came from an integer too large
// for int64 (v2 gives uint64, which sigs.k8s.io/yaml refuses as a key).
func isUintText(k *Node) bool {
	if k.Kind != Float {
		return false
	}
	v := resolvePlain(k.Text)
	return v.cls == clsUint
}

func describeKey(k *Node) string {
	if k.Kind == Null {
		return "null"
	}
	return strconv.Quote(k.Text)
}

// badFloat reports a NaN or infinite value: JSON cannot carry it, so
// sigs.k8s.io/yaml (and kubectl) fail on it.
func badFloat(n *Node) error {
	if n.Kind == Float && (math.IsNaN(n.Float) || math.IsInf(n.Float, 0)) {
		return &Error{Pos: n.Pos, Kind: KindSyntax,
			Message: "value " + strconv.Quote(n.Text) + " is not a number JSON can represent (NaN or infinity)"}
	}
	return nil
}
