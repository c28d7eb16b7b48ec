package winlog

import (
	"sort"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// System fields, in the order they are written to Event.Fields, under the
// names Sigma rules use for them.
const (
	sysEventID = iota
	sysChannel
	sysComputer
	sysProvider
	sysRecordID
	sysLevel
	sysTask
	sysOpcode
	sysKeywords
	sysProcessID
	sysThreadID
	sysUserID
	numSys
)

var sysNames = [numSys]string{
	"EventID", "Channel", "Computer", "Provider_Name", "EventRecordID", "Level",
	"Task", "Opcode", "Keywords", "ProcessID", "ThreadID", "SecurityUserID",
}

// winRecord is one Windows event in the form all three inputs are brought
// to before the event is built, so that the mapping to schema.Event exists
// once.
type winRecord struct {
	sys     [numSys]string
	time    time.Time
	data    schema.Fields // EventData / UserData children, in order
	unnamed []string      // EventData <Data> elements without a Name
	message string
}

// addData appends an EventData/UserData field, canonicalising its value.
func (r *winRecord) addData(key, value string) {
	r.data = append(r.data, schema.Field{Key: key, Value: canonValue(value)})
}

// addUnnamed appends the value of a <Data> element without a Name.
func (r *winRecord) addUnnamed(value string) {
	r.unnamed = append(r.unnamed, canonValue(value))
}

// canonValue brings a value to the one form all inputs share: Windows line
// endings become \n (as Winlogbeat writes them) and a bare GUID gets the
// braces Windows' own rendering gives it (evtx_dump drops them).
func canonValue(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	if isBareGUID(s) {
		s = "{" + s + "}"
	}
	return s
}

func isBareGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// build fills ev from r.
func (r *winRecord) build(ev *schema.Event, input string, received time.Time, original string) error {
	if r.sys[sysEventID] == "" {
		return parse.Errorf(parse.ReasonMissingField, "windows event without an EventID")
	}
	if r.time.IsZero() {
		return parse.Errorf(parse.ReasonBadTimestamp, "windows event %s without TimeCreated", r.sys[sysEventID])
	}
	r.finishUnnamed()
	sort.SliceStable(r.data, func(i, j int) bool { return r.data[i].Key < r.data[j].Key })
	*ev = schema.Event{
		Timestamp: r.time.UTC().Truncate(time.Microsecond),
		Received:  received,
		Input:     input,
		Message:   r.message,
		Original:  original,
		Fields:    make(schema.Fields, 0, numSys+len(r.data)+1),
	}
	for i, v := range r.sys {
		if v != "" {
			ev.Fields = append(ev.Fields, schema.Field{Key: sysNames[i], Value: canonValue(v)})
		}
	}
	ev.Fields = append(ev.Fields, r.data...)
	mapECS(ev, r)
	return nil
}

// finishUnnamed names unnamed <Data> values param1..paramN, as Winlogbeat
// does, and adds their values joined with newlines as "Data", the field
// Sigma rules for classic event logs search.
func (r *winRecord) finishUnnamed() {
	if len(r.unnamed) == 0 {
		if !r.paramsOnly() {
			return
		}
		for _, f := range r.data {
			r.unnamed = append(r.unnamed, f.Value)
		}
		r.data = append(r.data, schema.Field{Key: "Data", Value: strings.Join(r.unnamed, "\n")})
		return
	}
	for i, v := range r.unnamed {
		r.data = append(r.data, schema.Field{Key: "param" + itoa(i+1), Value: v})
	}
	r.data = append(r.data, schema.Field{Key: "Data", Value: strings.Join(r.unnamed, "\n")})
}

// paramsOnly reports whether the data fields are exactly param1..paramN,
// the names Winlogbeat gives unnamed <Data> values.
func (r *winRecord) paramsOnly() bool {
	if len(r.data) == 0 {
		return false
	}
	for i, f := range r.data {
		if f.Key != "param"+itoa(i+1) {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
