package winlog

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/Velocidex/ordereddict"
	"www.velocidex.com/golang/evtx"
)

// Binary XML value types not named in binxml.go.
const (
	typeAnsi    = 0x02
	typeInt8    = 0x03
	typeUint8   = 0x04
	typeInt16   = 0x05
	typeUint16  = 0x06
	typeInt32   = 0x07
	typeUint32  = 0x08
	typeInt64   = 0x09
	typeUint64  = 0x0a
	typeReal32  = 0x0b
	typeReal64  = 0x0c
	typeBool    = 0x0d
	typeGUID    = 0x0f
	typeSizeT   = 0x10
	typeFile    = 0x11
	typeSysTime = 0x12
	typeSID     = 0x13
	typeHex32   = 0x14
	typeHex64   = 0x15
)

// filetimeEpoch is 1970-01-01 in FILETIME units (100 ns since 1601).
const filetimeEpoch = 116444736000000000

// treeConv turns the velocidex decoder's tree of one record into a
// winRecord, decoding the raw argument bytes by their original types.
type treeConv struct {
	types map[int]byte
}

// typeOf returns the original type of a raw argument value. The value is a
// slice of the decoder's 64 KiB chunk buffer, so its capacity tells where
// in the chunk it starts.
func (c *treeConv) typeOf(b []byte) byte {
	off := evtx.EVTX_CHUNK_SIZE - cap(b)
	if t, ok := c.types[off]; ok {
		return t
	}
	return typeBinary
}

// text returns the canonical text of a leaf value.
func (c *treeConv) text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return decodeTyped(c.typeOf(x), x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = c.text(e)
		}
		return strings.Join(parts, ",")
	case *ordereddict.Dict:
		if val, ok := x.Get("Value"); ok {
			return c.text(val)
		}
		return ""
	}
	return fmt.Sprint(v)
}

// record converts the decoder's tree of one record.
func (c *treeConv) record(root any) (*winRecord, error) {
	top, ok := root.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("record has no XML")
	}
	evAny, _ := top.Get("Event")
	ev, ok := evAny.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("record has no Event element")
	}
	r := &winRecord{}
	sysAny, _ := ev.Get("System")
	sys, ok := sysAny.(*ordereddict.Dict)
	if !ok {
		return nil, fmt.Errorf("record has no System element")
	}
	if err := c.system(sys, r); err != nil {
		return nil, err
	}
	if d, ok := ev.Get("EventData"); ok {
		c.eventData(d, r)
	}
	if d, ok := ev.Get("UserData"); ok {
		c.userData(d, r, "")
	}
	return r, nil
}

// system reads the System element.
func (c *treeConv) system(sys *ordereddict.Dict, r *winRecord) error {
	get := func(path ...string) any {
		var cur any = sys
		for _, p := range path {
			d, ok := cur.(*ordereddict.Dict)
			if !ok {
				return nil
			}
			cur, _ = d.Get(p)
		}
		return cur
	}
	r.sys[sysEventID] = c.text(get("EventID"))
	r.sys[sysChannel] = c.text(get("Channel"))
	r.sys[sysComputer] = c.text(get("Computer"))
	r.sys[sysProvider] = c.text(get("Provider", "Name"))
	r.sys[sysRecordID] = c.text(get("EventRecordID"))
	r.sys[sysLevel] = c.text(get("Level"))
	r.sys[sysTask] = c.text(get("Task"))
	r.sys[sysOpcode] = c.text(get("Opcode"))
	r.sys[sysKeywords] = c.text(get("Keywords"))
	r.sys[sysProcessID] = c.text(get("Execution", "ProcessID"))
	r.sys[sysThreadID] = c.text(get("Execution", "ThreadID"))
	r.sys[sysUserID] = c.text(get("Security", "UserID"))
	switch t := get("TimeCreated", "SystemTime").(type) {
	case []byte:
		if c.typeOf(t) == typeFile && len(t) == 8 {
			r.time = filetime(binary.LittleEndian.Uint64(t))
		} else if c.typeOf(t) == typeSysTime && len(t) == 16 {
			r.time = systemtime(t)
		}
	case string:
		if tm, err := time.Parse(time.RFC3339Nano, t); err == nil {
			r.time = tm
		}
	}
	return nil
}

// eventData reads EventData: named <Data> values (already keyed by name
// when the decoder could), unnamed ones, and other children such as
// <Binary>.
func (c *treeConv) eventData(d any, r *winRecord) {
	m, ok := d.(*ordereddict.Dict)
	if !ok {
		if d != nil {
			r.addUnnamed(c.text(d))
		}
		return
	}
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if k != "Data" {
			r.addData(k, c.text(v))
			continue
		}
		items, isList := v.([]any)
		if !isList {
			items = []any{v}
		}
		for _, it := range items {
			c.dataItem(it, r)
		}
	}
}

// dataItem reads one <Data> element the decoder did not key by name.
func (c *treeConv) dataItem(it any, r *winRecord) {
	d, ok := it.(*ordereddict.Dict)
	if !ok {
		r.addUnnamed(c.text(it))
		return
	}
	name, _ := d.Get("Name")
	val, _ := d.Get("Value")
	if n, ok := name.(string); ok && n != "" {
		r.addData(n, c.text(val))
		return
	}
	r.addUnnamed(c.text(val))
}

// userData reads UserData: the children of its one child element (its
// name, e.g. EventXML, is dropped), deeper elements flattened with dots.
func (c *treeConv) userData(d any, r *winRecord, prefix string) {
	m, ok := d.(*ordereddict.Dict)
	if !ok {
		return
	}
	keys := m.Keys()
	if prefix == "" && len(keys) == 1 {
		v, _ := m.Get(keys[0])
		if sub, ok := v.(*ordereddict.Dict); ok {
			m, keys = sub, sub.Keys()
		}
	}
	for _, k := range keys {
		v, _ := m.Get(k)
		if sub, ok := v.(*ordereddict.Dict); ok {
			if _, hasValue := sub.Get("Value"); !hasValue {
				c.userData(sub, r, prefix+k+".")
				continue
			}
		}
		r.addData(prefix+k, c.text(v))
	}
}

// decodeTyped renders a raw binary XML value the way Windows' XML
// rendering and evtx_dump do.
func decodeTyped(t byte, b []byte) string {
	if t&typeArrayBit != 0 {
		return decodeArray(t&^typeArrayBit, b)
	}
	switch t {
	case typeString:
		return utf16String(b)
	case typeAnsi:
		return strings.TrimRight(string(b), "\x00")
	case typeBinary:
		return strings.ToUpper(hex.EncodeToString(b))
	case typeGUID:
		if len(b) == 16 {
			return guidString(b)
		}
	case typeSID:
		if s, ok := sidString(b); ok {
			return s
		}
	case typeFile:
		if len(b) == 8 {
			return formatTime(filetime(binary.LittleEndian.Uint64(b)))
		}
	case typeSysTime:
		if len(b) == 16 {
			return formatTime(systemtime(b))
		}
	default:
		if s, ok := decodeNumber(t, b); ok {
			return s
		}
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// decodeNumber renders the fixed-size numeric types.
func decodeNumber(t byte, b []byte) (string, bool) {
	n := len(b)
	switch {
	case t == typeInt8 && n == 1:
		return strconv.Itoa(int(int8(b[0]))), true
	case t == typeUint8 && n == 1:
		return strconv.Itoa(int(b[0])), true
	case t == typeInt16 && n == 2:
		return strconv.Itoa(int(int16(binary.LittleEndian.Uint16(b)))), true
	case t == typeUint16 && n == 2:
		return strconv.Itoa(int(binary.LittleEndian.Uint16(b))), true
	case t == typeInt32 && n == 4:
		return strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b)))), true
	case t == typeUint32 && n == 4:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10), true
	case t == typeInt64 && n == 8:
		return strconv.FormatInt(int64(binary.LittleEndian.Uint64(b)), 10), true
	case t == typeUint64 && n == 8:
		return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10), true
	case t == typeReal32 && n == 4:
		return strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32), true
	case t == typeReal64 && n == 8:
		return strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64), true
	case t == typeBool && (n == 4 || n == 1):
		if (n == 4 && binary.LittleEndian.Uint32(b) != 0) || (n == 1 && b[0] != 0) {
			return "true", true
		}
		return "false", true
	case (t == typeHex32 || t == typeSizeT) && n == 4:
		return "0x" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 16), true
	case (t == typeHex64 || t == typeSizeT) && n == 8:
		return "0x" + strconv.FormatUint(binary.LittleEndian.Uint64(b), 16), true
	}
	return "", false
}

// decodeArray renders an array value, its elements joined with commas.
func decodeArray(t byte, b []byte) string {
	var parts []string
	switch t {
	case typeString:
		parts = strings.Split(strings.TrimRight(utf16String(b), "\x00"), "\x00")
	case typeAnsi:
		parts = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	case typeSID:
		for len(b) >= 8 {
			size := 8 + 4*int(b[1])
			if size > len(b) {
				break
			}
			s, _ := sidString(b[:size])
			parts = append(parts, s)
			b = b[size:]
		}
	default:
		size := elemSize(t)
		if size == 0 || len(b)%size != 0 {
			return strings.ToUpper(hex.EncodeToString(b))
		}
		for i := 0; i < len(b); i += size {
			parts = append(parts, decodeTyped(t, b[i:i+size]))
		}
	}
	return strings.Join(parts, ",")
}

func elemSize(t byte) int {
	switch t {
	case typeInt8, typeUint8:
		return 1
	case typeInt16, typeUint16:
		return 2
	case typeInt32, typeUint32, typeHex32, typeReal32, typeBool:
		return 4
	case typeInt64, typeUint64, typeHex64, typeReal64, typeFile, typeSizeT:
		return 8
	case typeGUID, typeSysTime:
		return 16
	}
	return 0
}

// utf16String decodes UTF-16LE, dropping trailing NULs.
func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}

func guidString(b []byte) string {
	return fmt.Sprintf("{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:]),
		b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

// sidString renders a binary SID as S-R-A-S1-S2-...
func sidString(b []byte) (string, bool) {
	if len(b) < 8 || len(b) != 8+4*int(b[1]) {
		return "", false
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	sb.WriteString("S-")
	sb.WriteString(strconv.Itoa(int(b[0])))
	sb.WriteByte('-')
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 8; i+4 <= len(b); i += 4 {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10))
	}
	return sb.String(), true
}

// filetime converts a FILETIME (100 ns units since 1601) to a time.
func filetime(ft uint64) time.Time {
	d := int64(ft - filetimeEpoch)
	if ft < filetimeEpoch {
		d = -int64(filetimeEpoch - ft)
	}
	return time.Unix(d/1e7, (d%1e7)*100).UTC()
}

// systemtime converts a SYSTEMTIME structure to a time.
func systemtime(b []byte) time.Time {
	u := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	return time.Date(u(0), time.Month(u(1)), u(3), u(4), u(5), u(6), u(7)*1e6, time.UTC)
}

// formatTime renders a time value the way evtx_dump does: UTC, six
// decimals, truncated.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
}
