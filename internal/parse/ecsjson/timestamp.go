package ecsjson

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// ParseTime reads a time stamp leaf: a string as ParseTimeString reads it,
// or a number as ParseEpoch reads it. The result is in UTC.
func ParseTime(l Leaf) (time.Time, error) {
	if l.V != nil && l.V.Type() == fastjson.TypeNumber {
		return ParseEpoch(l.Value)
	}
	if l.V != nil && l.V.Type() != fastjson.TypeString {
		return time.Time{}, fmt.Errorf("time stamp %s is a %s, want a string or number", l.Key, l.V.Type())
	}
	if t, ok := ParseTimeString(l.Value); ok {
		return t, nil
	}
	if t, err := ParseEpoch(l.Value); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot read time stamp %s=%q", l.Key, l.Value)
}

// ParseTimeString reads an ISO 8601 / RFC 3339 time stamp:
// "YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z|±hh:mm|±hhmm|±hh]". Without a zone
// it is UTC. The result is in UTC.
func ParseTimeString(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	hh, ok4 := digits(s[11:13])
	mm, ok5 := digits(s[14:16])
	ss, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
		hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	ns := 0
	if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
		i, scale := 1, 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			ns += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	off, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, hh, mm, ss, ns, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t.Add(-time.Duration(off) * time.Second), true
}

// zoneOffset reads "", "Z", "±hh:mm", "±hhmm" or "±hh" as seconds east of
// UTC.
func zoneOffset(s string) (int, bool) {
	switch {
	case s == "" || s == "Z" || s == "z":
		return 0, true
	case s[0] != '+' && s[0] != '-':
		return 0, false
	}
	z := s[1:]
	if len(z) == 5 && z[2] == ':' {
		z = z[:2] + z[3:]
	}
	if len(z) != 2 && len(z) != 4 {
		return 0, false
	}
	h, ok := digits(z[:2])
	m := 0
	if len(z) == 4 {
		var okm bool
		if m, okm = digits(z[2:]); !okm {
			return 0, false
		}
	}
	if !ok || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// ParseEpoch reads a non-negative time since the Unix epoch given as the
// text of a JSON number. Its unit is told by its magnitude: below 1e11
// seconds, below 1e14 milliseconds, below 1e17 microseconds, else
// nanoseconds. Fractions are kept to the nanosecond.
func ParseEpoch(s string) (time.Time, error) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f >= 9.2e18 {
			return time.Time{}, fmt.Errorf("epoch time %q out of range", s)
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("epoch time %q is not a non-negative number", s)
	}
	unit := int64(1)
	switch {
	case n < 1e11:
		unit = 1e9
	case n < 1e14:
		unit = 1e6
	case n < 1e17:
		unit = 1e3
	}
	var fns int64
	for i, scale := 0, unit/10; i < len(frac) && scale > 0; i, scale = i+1, scale/10 {
		c := frac[i]
		if c < '0' || c > '9' {
			return time.Time{}, fmt.Errorf("epoch time %q is not a number", s)
		}
		fns += int64(c-'0') * scale
	}
	sec, rem := n/(1e9/unit), n%(1e9/unit)
	return time.Unix(sec, rem*unit+fns).UTC(), nil
}

// digits reads a string of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}
