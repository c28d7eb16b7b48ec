package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MarshalJSON writes the fields as one JSON object, keys in input order.
// Repeated keys are written as they are (JSON permits them; readers keep
// the last).
func (f Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(32 * len(f))
	b.WriteByte('{')
	for i, kv := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		v, _ := json.Marshal(kv.Value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a JSON object of string values, keeping key order.
// Non-string values are kept as their JSON text.
func (f *Fields) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("fields: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if tok == nil {
			*f = nil
			return nil
		}
		return fmt.Errorf("fields: want a JSON object, got %v", tok)
	}
	out := (*f)[:0]
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("fields: %w", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("fields: %w", err)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			s = string(raw)
		}
		out = append(out, Field{Key: kt.(string), Value: s})
	}
	*f = out
	return nil
}

// UnmarshalJSON reads a syslog priority object; its presence sets Present.
func (s *LogSyslog) UnmarshalJSON(data []byte) error {
	var v struct {
		Facility int `json:"facility"`
		Severity int `json:"severity"`
	}
	if string(data) == "null" {
		*s = LogSyslog{}
		return nil
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("log.syslog: %w", err)
	}
	*s = LogSyslog{Facility: v.Facility, Severity: v.Severity, Present: true}
	return nil
}
