package stix

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// LiteralKind is the type of a pattern literal.
type LiteralKind int

// Literal kinds, one per literal form of the grammar.
const (
	LitString LiteralKind = iota + 1
	LitInt
	LitFloat
	LitBool
	LitTimestamp
	LitHex
	LitBinary
)

// String names the literal kind.
func (k LiteralKind) String() string {
	switch k {
	case LitString:
		return "string"
	case LitInt:
		return "integer"
	case LitFloat:
		return "float"
	case LitBool:
		return "boolean"
	case LitTimestamp:
		return "timestamp"
	case LitHex:
		return "hex"
	case LitBinary:
		return "binary"
	}
	return "?"
}

// Literal is a constant in a pattern, decoded. Only the field of its Kind
// is set.
type Literal struct {
	Kind LiteralKind
	// Start is the byte offset of the literal in the pattern.
	Start int
	// Str is a string literal without quotes, escapes resolved.
	Str   string
	Int   int64
	Float float64
	Bool  bool
	// Time is a timestamp literal, in UTC.
	Time time.Time
	// Bytes holds the decoded bytes of a hex (h'..') or binary (b'..')
	// literal.
	Bytes []byte
}

// String returns the literal in canonical pattern syntax.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quoteString(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case LitBool:
		return strconv.FormatBool(l.Bool)
	case LitTimestamp:
		return formatTimestamp(l.Time)
	case LitHex:
		return "h'" + hex.EncodeToString(l.Bytes) + "'"
	case LitBinary:
		return "b'" + base64.StdEncoding.EncodeToString(l.Bytes) + "'"
	}
	return "?"
}

func formatTimestamp(t time.Time) string {
	return "t'" + t.UTC().Format(time.RFC3339Nano) + "'"
}

// scanString reads a string literal whose opening quote is at src[start];
// it returns the decoded value and the offset after the closing quote. The
// grammar allows only \' and \\ as escapes.
func scanString(src string, start int) (string, int, *SyntaxError) {
	var b strings.Builder
	i := start + 1
	for i < len(src) {
		switch c := src[i]; c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(src) && (src[i+1] == '\'' || src[i+1] == '\\') {
				b.WriteByte(src[i+1])
				i += 2
				continue
			}
			return "", 0, lexError(src, i, `invalid escape in string: only \' and \\ are allowed`)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, lexError(src, start, "unterminated string literal")
}

// scanTimestamp reads t'YYYY-MM-DDTHH:MM:SS[.frac]Z' starting at src[start]
// ('t').
func scanTimestamp(src string, start int) (time.Time, int, *SyntaxError) {
	body, end, err := scanPrefixed(src, start, "timestamp")
	if err != nil {
		return time.Time{}, 0, err
	}
	if !timestampShape(body) {
		return time.Time{}, 0, lexError(src, start,
			"invalid timestamp literal: want t'YYYY-MM-DDTHH:MM:SS[.fraction]Z' (UTC)")
	}
	leap := body[17:19] == "60"
	if leap {
		body = body[:17] + "59" + body[19:]
	}
	t, perr := time.Parse(time.RFC3339Nano, body)
	if perr != nil {
		return time.Time{}, 0, lexError(src, start, "invalid timestamp literal: "+perr.Error())
	}
	if leap {
		t = t.Add(time.Second)
	}
	return t.UTC(), end, nil
}

// timestampShape checks the grammar's TimestampLiteral body: digits and
// ranges per field, optional fraction, trailing Z.
func timestampShape(s string) bool {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	month, day, hour, minute, sec := s[5:7], s[8:10], s[11:13], s[14:16], s[17:19]
	if month < "01" || month > "12" || day < "01" || day > "31" || hour > "23" || minute > "59" || sec > "60" {
		return false
	}
	frac := s[19 : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

// scanHex reads h'..' (pairs of hex digits, possibly none).
func scanHex(src string, start int) ([]byte, int, *SyntaxError) {
	body, end, err := scanPrefixed(src, start, "hex")
	if err != nil {
		return nil, 0, err
	}
	b, herr := hex.DecodeString(body)
	if herr != nil {
		return nil, 0, lexError(src, start, "invalid hex literal: want pairs of hex digits")
	}
	return b, end, nil
}

// scanBinary reads b'..' (non-empty, padded base64).
func scanBinary(src string, start int) ([]byte, int, *SyntaxError) {
	body, end, err := scanPrefixed(src, start, "binary")
	if err != nil {
		return nil, 0, err
	}
	ok := body != "" && len(body)%4 == 0
	for i := 0; ok && i < len(body); i++ {
		c := body[i]
		ok = isAlnum(c) || c == '+' || c == '/' || (c == '=' && i >= len(body)-2)
	}
	var b []byte
	if ok {
		var derr error
		b, derr = base64.StdEncoding.DecodeString(body)
		ok = derr == nil
	}
	if !ok {
		return nil, 0, lexError(src, start, "invalid binary literal: want non-empty padded base64")
	}
	return b, end, nil
}

// scanPrefixed returns the raw body of x'...' (no escapes) and the offset
// after the closing quote.
func scanPrefixed(src string, start int, what string) (string, int, *SyntaxError) {
	end := strings.IndexByte(src[start+2:], '\'')
	if end < 0 {
		return "", 0, lexError(src, start, "unterminated "+what+" literal")
	}
	return src[start+2 : start+2+end], start + 3 + end, nil
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
