package eventstore

import (
	"database/sql/driver"
	"fmt"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/schema"
)

// encoder holds the reusable buffer a writer encodes original fields with.
// It is not safe for concurrent use.
type encoder struct {
	buf []byte
}

// fields returns the fields as a JSON object of strings, keys in order and
// repeated keys kept, or nil (NULL) when there are none.
func (enc *encoder) fields(f schema.Fields) driver.Value {
	b := enc.fieldsJSON(f)
	if b == nil {
		return nil
	}
	return string(b)
}

// fieldsJSON is fields as bytes in the encoder's buffer, valid until the
// next call; nil when there are no fields.
func (enc *encoder) fieldsJSON(f schema.Fields) []byte {
	if len(f) == 0 {
		return nil
	}
	b := append(enc.buf[:0], '{')
	for i, kv := range f {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv.Key)
		b = append(b, ':')
		b = appendJSONString(b, kv.Value)
	}
	b = append(b, '}')
	enc.buf = b
	return b
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json writes it. Runs of characters that need no
// escaping are copied at once.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // s[start:i] is pending verbatim output
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(append(b, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// decoder holds the reusable JSON parser a reader decodes original fields
// with. It is not safe for concurrent use.
type decoder struct {
	p fastjson.Parser
}

// fields reads the JSON object of original fields back in order.
func (dec *decoder) fields(v any) (schema.Fields, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want JSON text, got %T", v)
	}
	val, err := dec.p.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	obj, err := val.Object()
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	out := make(schema.Fields, 0, obj.Len())
	obj.Visit(func(k []byte, v *fastjson.Value) {
		var value string
		if v.Type() == fastjson.TypeString {
			value = string(v.GetStringBytes())
		} else {
			value = string(v.MarshalTo(nil))
		}
		out = append(out, schema.Field{Key: string(k), Value: value})
	})
	return out, nil
}
