package syslog

import (
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
)

// maxTagLen bounds the TAG (app-name) of a BSD line; longer words are
// taken as the start of the message.
const maxTagLen = 64

// readFileLine is the hand parser for what go-syslog does not read: lines
// without a PRI as syslog daemons write them to files ("Nov 20 10:00:00
// host sshd[123]: ..."), rsyslog's RSYSLOG_FileFormat with ISO 8601 stamps
// carrying fractions, and RFC 3164 messages go-syslog rejects (tabs,
// missing time stamps). s is the line after any PRI. A line without a PRI
// must start with a time stamp (needTS), else it is not syslog.
func (p *Parser) readFileLine(s string, received time.Time, needTS bool) (header, error) {
	var h header
	s = skipSpaces(s)
	ts, rest, ok := p.readStamp(s, received)
	if ok {
		h.ts, h.hasTS = ts, true
		s = skipSpaces(rest)
	} else if needTS {
		return h, parse.Errorf(parse.ReasonBadSyslog, "no PRI and no time stamp at %q", prefix(s, 24))
	}
	h.host, h.app, h.procid, h.msg = splitHostTag(s, ok)
	return h, nil
}

// splitHostTag splits "host tag[pid]: msg". Without a time stamp before
// it (stamped false) there is no host, only an optional tag.
func splitHostTag(s string, stamped bool) (host, app, procid, msg string) {
	if stamped {
		tok := s
		if i := strings.IndexByte(s, ' '); i >= 0 {
			tok = s[:i]
		}
		if tok != "" && tok[len(tok)-1] != ':' && strings.IndexByte(tok, '[') < 0 {
			host = tok
			s = skipSpaces(s[len(tok):])
		}
	}
	app, procid, msg, ok := splitTag(s)
	if !ok {
		return host, "", "", s
	}
	return host, app, procid, msg
}

// splitTag reads "tag[pid]: msg" or "tag: msg".
func splitTag(s string) (app, procid, msg string, ok bool) {
	i := 0
	for i < len(s) && i <= maxTagLen {
		c := s[i]
		if c == ' ' || c == '[' || c == ':' || c < 0x21 || c > 0x7e {
			break
		}
		i++
	}
	if i == 0 || i > maxTagLen || i == len(s) {
		return "", "", "", false
	}
	app = s[:i]
	rest := s[i:]
	if rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 || strings.IndexByte(rest[:j], ' ') >= 0 {
			return "", "", "", false
		}
		procid, rest = rest[1:j], rest[j+1:]
	}
	if rest == "" || rest[0] != ':' {
		return "", "", "", false
	}
	rest = rest[1:]
	if rest != "" && rest[0] == ' ' {
		rest = rest[1:]
	}
	return app, procid, rest, true
}

// readStamp reads a BSD stamp ("Nov 20 10:00:00", optional fraction) or
// an ISO 8601 / RFC 3339 stamp at the start of s.
func (p *Parser) readStamp(s string, received time.Time) (time.Time, string, bool) {
	if len(s) >= 4 && isDigit(s[0]) {
		return p.readISO(s)
	}
	return p.readBSD(s, received)
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// readBSD reads "Mmm dd hh:mm:ss[.frac]"; the day may be space-padded.
func (p *Parser) readBSD(s string, received time.Time) (time.Time, string, bool) {
	if len(s) < 15 {
		return time.Time{}, s, false
	}
	mon := 0
	for i, n := range monthNames {
		if s[:3] == n {
			mon = i + 1
			break
		}
	}
	if mon == 0 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	r := s[4:]
	if r[0] == ' ' {
		r = r[1:]
	}
	day, r, ok := readInt(r, 1, 2)
	if !ok || day < 1 || day > 31 || r == "" || r[0] != ' ' {
		return time.Time{}, s, false
	}
	hh, mm, ss, ns, r, ok := readClock(r[1:])
	if !ok {
		return time.Time{}, s, false
	}
	return p.nearestYear(time.Month(mon), day, hh, mm, ss, ns, received), r, true
}

// readISO reads "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]". Without a
// zone the stamp is in the parser's location.
func (p *Parser) readISO(s string) (time.Time, string, bool) {
	y, r, ok := readInt(s, 4, 4)
	if !ok || r == "" || r[0] != '-' {
		return time.Time{}, s, false
	}
	mo, r, ok := readInt(r[1:], 2, 2)
	if !ok || r == "" || r[0] != '-' || mo < 1 || mo > 12 {
		return time.Time{}, s, false
	}
	d, r, ok := readInt(r[1:], 2, 2)
	if !ok || r == "" || (r[0] != 'T' && r[0] != ' ') || d < 1 || d > 31 {
		return time.Time{}, s, false
	}
	hh, mm, ss, ns, r, ok := readClock(r[1:])
	if !ok {
		return time.Time{}, s, false
	}
	loc, r, ok := readZone(r, p.loc)
	if !ok {
		return time.Time{}, s, false
	}
	t := time.Date(y, time.Month(mo), d, hh, mm, ss, ns, loc)
	if t.Day() != d {
		return time.Time{}, s, false
	}
	return t.UTC(), r, true
}

// readClock reads "hh:mm:ss" with an optional fraction of up to nine
// digits (more are read and dropped).
func readClock(s string) (hh, mm, ss, ns int, rest string, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, 0, s, false
	}
	var ok1, ok2, ok3 bool
	hh, _, ok1 = readInt(s[0:2], 2, 2)
	mm, _, ok2 = readInt(s[3:5], 2, 2)
	ss, _, ok3 = readInt(s[6:8], 2, 2)
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
		return 0, 0, 0, 0, s, false
	}
	if ss == 60 {
		ss = 59 // leap second: keep it inside the minute
	}
	rest = s[8:]
	if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') && isDigit(rest[1]) {
		i, scale := 1, 100000000
		for i < len(rest) && isDigit(rest[i]) {
			ns += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		rest = rest[i:]
	}
	return hh, mm, ss, ns, rest, true
}

// readZone reads "Z", "±hh:mm" or "±hhmm"; none means def.
func readZone(s string, def *time.Location) (*time.Location, string, bool) {
	if s == "" || s[0] == ' ' {
		return def, s, true
	}
	if s[0] == 'Z' {
		return time.UTC, s[1:], true
	}
	if s[0] != '+' && s[0] != '-' {
		return nil, s, false
	}
	h, r, ok := readInt(s[1:], 2, 2)
	if !ok {
		return nil, s, false
	}
	if r != "" && r[0] == ':' {
		r = r[1:]
	}
	m, r, ok := readInt(r, 2, 2)
	if !ok || h > 23 || m > 59 {
		return nil, s, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, r, true
	}
	return time.FixedZone("", off), r, true
}

// futureSlack is how far ahead of its receipt a year-less stamp may lie
// (clock skew, a wrong zone) before it is taken to be from the year before.
const futureSlack = 7 * 24 * time.Hour

// nearestYear builds the time of a year-less stamp in the parser's
// location. It takes the year that puts the stamp nearest to received,
// except that a stamp more than futureSlack ahead of received is taken from
// the year before: December lines read in January fall in the previous
// year, and so do February lines of an old file imported in November. A
// zero received means now.
func (p *Parser) nearestYear(mo time.Month, d, hh, mm, ss, ns int, received time.Time) time.Time {
	ref := received
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(p.loc)
	limit := ref.Add(futureSlack)
	for y := ref.Year() + 1; y >= ref.Year()-4; y-- {
		t := time.Date(y, mo, d, hh, mm, ss, ns, p.loc)
		if t.Day() != d {
			continue // Feb 29 outside a leap year, Apr 31
		}
		if !t.After(limit) {
			return t.UTC()
		}
	}
	// A day no month has near ref (Apr 31): let time.Date normalise it.
	return time.Date(ref.Year(), mo, d, hh, mm, ss, ns, p.loc).UTC()
}

// readInt reads between min and max decimal digits.
func readInt(s string, min, max int) (int, string, bool) {
	n, i := 0, 0
	for i < len(s) && i < max && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i < min {
		return 0, s, false
	}
	return n, s[i:], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	return s
}
