package ecsjson

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/schema"
)

// MaxFields is the most original fields an event keeps. When a record has
// more, the first MaxFields-1 are kept and the field FieldsDroppedKey
// says how many were left out.
const MaxFields = 512

// FieldsDroppedKey names the field that counts the fields left out of a
// capped event.
const FieldsDroppedKey = "vigil.fields_dropped"

// Leaf is one value of a flattened JSON object.
type Leaf struct {
	// Key is the dotted path of the value ("source.ip" for
	// {"source":{"ip":...}} and for {"source.ip":...}).
	Key string
	// Value is the value as text: strings unescaped and unquoted, numbers
	// as their JSON text, true and false as such, arrays and empty objects
	// as their JSON text, null as "".
	Value string
	// V is the parsed value. It is valid only until the fastjson.Parser
	// that produced it parses again.
	V *fastjson.Value
}

// leafPos locates a leaf's key and value in the flattener's buffer.
type leafPos struct {
	ks, ke, vs, ve int
	v              *fastjson.Value
}

// Flattener lists the leaves of JSON objects under dotted keys. All the
// strings of one Flatten call (the record and every key and value) share
// one allocation. The zero value is ready to use; a Flattener is not safe
// for concurrent use.
type Flattener struct {
	key   []byte
	buf   []byte
	pos   []leafPos
	s     string
	visit func(key []byte, v *fastjson.Value)
}

// Flatten walks o depth-first in input order, recording its leaves for
// Len and Leaf, and returns raw as a string. The strings of the leaves
// stay valid for good; the leaves themselves (and their V) only until the
// next call.
func (f *Flattener) Flatten(o *fastjson.Object, raw []byte) (original string) {
	if f.visit == nil {
		f.visit = f.visitKV
	}
	f.key = f.key[:0]
	f.buf = append(f.buf[:0], raw...)
	f.pos = f.pos[:0]
	o.Visit(f.visit)
	f.s = string(f.buf)
	if cap(f.buf) > 1<<20 { // do not keep the buffer of one huge record
		f.buf = nil
	}
	return f.s[:len(raw)]
}

// Len returns the number of leaves of the last Flatten.
func (f *Flattener) Len() int { return len(f.pos) }

// Leaf returns leaf i (0 <= i < Len) of the last Flatten.
func (f *Flattener) Leaf(i int) Leaf {
	p := &f.pos[i]
	return Leaf{Key: f.s[p.ks:p.ke], Value: f.s[p.vs:p.ve], V: p.v}
}

func (f *Flattener) visitKV(key []byte, v *fastjson.Value) {
	n := len(f.key)
	if n > 0 {
		f.key = append(f.key, '.')
	}
	f.key = append(f.key, key...)
	t := v.Type()
	if t == fastjson.TypeObject {
		if o := v.GetObject(); o.Len() > 0 {
			o.Visit(f.visit)
			f.key = f.key[:n]
			return
		}
	}
	p := leafPos{ks: len(f.buf), v: v}
	f.buf = append(f.buf, f.key...)
	p.ke, p.vs = len(f.buf), len(f.buf)
	switch t {
	case fastjson.TypeString:
		f.buf = append(f.buf, v.GetStringBytes()...)
	case fastjson.TypeNull:
	default:
		f.buf = v.MarshalTo(f.buf)
	}
	p.ve = len(f.buf)
	f.pos = append(f.pos, p)
	f.key = f.key[:n]
}

// AppendFields appends the leaves of the last Flatten to fields as
// original fields, keeping at most MaxFields in all.
func (f *Flattener) AppendFields(fields schema.Fields) schema.Fields {
	room := MaxFields - len(fields)
	if room <= 0 {
		return fields
	}
	n := len(f.pos)
	keep := n
	if n > room {
		keep = room - 1
	}
	if cap(fields)-len(fields) < keep+1 {
		grown := make(schema.Fields, len(fields), len(fields)+keep+1)
		copy(grown, fields)
		fields = grown
	}
	for i := 0; i < keep; i++ {
		p := &f.pos[i]
		fields = append(fields, schema.Field{Key: f.s[p.ks:p.ke], Value: f.s[p.vs:p.ve]})
	}
	if keep < n {
		fields = append(fields, schema.Field{Key: FieldsDroppedKey, Value: strconv.Itoa(n - keep)})
	}
	return fields
}
