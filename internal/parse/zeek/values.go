package zeek

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// thresMax is the magnitude above which Zeek prints doubles in exponent form.
const thresMax = float64(0x7FFFFFFF)

// appendDouble appends v as Zeek's TSV writer prints a double or interval:
// modp_dtoa with six decimals and its rounding rules, or the shortest
// exponent form above 2^31-1.
func appendDouble(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	if math.Abs(v) > thresMax {
		return strconv.AppendFloat(dst, v, 'e', -1, 64)
	}
	neg := v < 0
	if neg {
		v = -v
	}
	whole := int64(v)
	tmp := (v - float64(whole)) * 1e6
	frac := uint32(tmp)
	diff := tmp - float64(frac)
	if diff > 0.5 {
		frac++
		if frac >= 1000000 {
			frac = 0
			whole++
		}
	} else if diff == 0.5 && (frac == 0 || frac&1 == 1) {
		frac++
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = strconv.AppendInt(dst, whole, 10)
	dst = append(dst, '.')
	return appendPadded(dst, int64(frac), 6)
}

// appendPadded appends n (non-negative) with at least width digits.
func appendPadded(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], n, 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// formatDouble returns the canonical form of a double or interval.
func formatDouble(v float64) string { return string(appendDouble(nil, v)) }

// formatMicros returns the canonical time form for us microseconds since
// the epoch: seconds with exactly six decimals.
func formatMicros(us int64) string {
	var buf [32]byte
	b := buf[:0]
	if us < 0 {
		b = append(b, '-')
		if us == math.MinInt64 {
			us++ // cannot be negated; off by one microsecond at the limit
		}
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	b = appendPadded(b, us%1e6, 6)
	return string(b)
}

// microsFromFloat converts epoch seconds to microseconds the way Zeek's JSON
// writer splits a time: whole seconds by floor, the fraction rounded to
// microseconds.
func microsFromFloat(v float64) (int64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 9e12 {
		return 0, errors.New("time out of range")
	}
	sec := math.Floor(v)
	frac := math.RoundToEven((v - sec) * 1e6)
	return int64(sec)*1e6 + int64(frac), nil
}

// canonTime returns the canonical form of a time written as epoch seconds
// (TSV, or a JSON number), and the time itself.
func canonTime(s string) (string, int64, error) {
	if us, ok := parseFixedMicros(s); ok {
		return s, us, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "", 0, errors.New("not an epoch time")
	}
	us, err := microsFromFloat(v)
	if err != nil {
		return "", 0, err
	}
	return formatMicros(us), us, nil
}

// parseFixedMicros reads the canonical form [-]seconds.ffffff.
func parseFixedMicros(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	dot := len(s) - 7
	if dot < 1 || dot > 12 || s[dot] != '.' {
		return 0, false
	}
	var sec, frac int64
	for i := 0; i < dot; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sec = sec*10 + int64(c-'0')
	}
	for i := dot + 1; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		frac = frac*10 + int64(c-'0')
	}
	us := sec*1e6 + frac
	if neg {
		us = -us
	}
	return us, true
}

// parseISOMicros reads Zeek's JSON ISO 8601 time, YYYY-MM-DDTHH:MM:SS[.f]Z,
// as microseconds since the epoch. ok is false when s is not in that form.
func parseISOMicros(s string) (int64, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' ||
		s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	se, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		h > 23 || mi > 59 || se > 60 {
		return 0, false
	}
	var frac int64
	rest := s[19 : len(s)-1]
	if rest != "" {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return 0, false
		}
		digits := rest[1:]
		n, ok := num(20, 20+len(digits))
		if !ok {
			return 0, false
		}
		// Scale to nanoseconds, then to microseconds. Seven digits only
		// occur when Zeek rounds a fraction up to "1000000".
		ns := int64(n)
		for i := len(digits); i < 9; i++ {
			ns *= 10
		}
		frac = ns / 1000
		if digits == "1000000" {
			frac = 1000000
		}
	}
	sec := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC).Unix()
	return sec*1e6 + frac, true
}

// timeFromMicros converts microseconds since the epoch to a UTC time.
func timeFromMicros(us int64) time.Time {
	sec := us / 1e6
	rem := us % 1e6
	if rem < 0 {
		sec--
		rem += 1e6
	}
	return time.Unix(sec, rem*1000).UTC()
}

// needsEscape reports whether c is a byte Zeek's JSON writer escapes when it
// stands alone: control characters other than \b \f \n \r \t, and DEL.
func needsEscape(c byte) bool {
	return (c < 0x20 && c != '\b' && c != '\f' && c != '\n' && c != '\r' && c != '\t') || c == 0x7f
}

// canonString returns s in the canonical string form: valid UTF-8 kept,
// escapable control bytes and invalid UTF-8 bytes written as \xNN. It
// returns s itself when nothing changes.
func canonString(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || needsEscape(c) {
			clean = false
			break
		}
	}
	if clean || (utf8.ValidString(s) && !hasEscapable(s)) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if needsEscape(c) {
				out = appendHexEscape(out, c)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			out = appendHexEscape(out, c)
			i++
			continue
		}
		out = append(out, s[i:i+n]...)
		i += n
	}
	return string(out)
}

func hasEscapable(s string) bool {
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

func appendHexEscape(dst []byte, c byte) []byte {
	return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// unescapeTSV decodes the escapes of Zeek's TSV writer: \xNN and \\.
// Other backslashes are kept as they are. It appends to dst.
func unescapeTSV(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		switch {
		case s[i+1] == '\\':
			dst = append(dst, '\\')
			i++
		case s[i+1] == 'x' && i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]):
			dst = append(dst, unhex(s[i+2])<<4|unhex(s[i+3]))
			i += 3
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseDecimalNanos converts a canonical interval ("3.000158", "-0.5",
// "1.5e+10") to nanoseconds.
func parseDecimalNanos(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(t, ".")
	if strings.ContainsAny(t, "eE") || whole == "" || len(whole) > 11 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.Abs(v) > 9e9 {
			return 0, false
		}
		return int64(math.Round(v * 1e9)), true
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	var f int64
	if hasDot {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		for i := 0; i < 9; i++ {
			f *= 10
			if i < len(frac) {
				if frac[i] < '0' || frac[i] > '9' {
					return 0, false
				}
				f += int64(frac[i] - '0')
			}
		}
	}
	ns := w*1e9 + f
	if neg {
		ns = -ns
	}
	return ns, true
}
