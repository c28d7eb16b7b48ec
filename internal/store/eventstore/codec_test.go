package eventstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/schema"
)

func TestFieldsCodec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   schema.Fields
		want string
	}{
		{"none", nil, ""},
		{"plain", schema.Fields{{Key: "a", Value: "b"}}, `{"a":"b"}`},
		{"order and repeats", schema.Fields{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}, {Key: "z", Value: "3"}}, `{"z":"1","a":"2","z":"3"}`},
		{"escapes", schema.Fields{{Key: "q\"\\", Value: "\n\r\t\x00\x1f"}}, `{"q\"\\":"\n\r\t\u0000\u001f"}`},
		{"unicode", schema.Fields{{Key: "ключ", Value: "✓\u2028"}}, "{\"ключ\":\"✓\u2028\"}"},
		{"empty value", schema.Fields{{Key: "", Value: ""}}, `{"":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, dec := &encoder{}, &decoder{}
			v := enc.fields(tt.in)
			if tt.want == "" {
				if v != nil {
					t.Fatalf("encoded %v, want NULL", v)
				}
				return
			}
			if v != tt.want {
				t.Fatalf("encoded %s, want %s", v, tt.want)
			}
			back, err := dec.fields(v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.in) {
				t.Fatalf("decoded %#v, want %#v", back, tt.in)
			}
		})
	}
}

func TestFieldsDecodeErrors(t *testing.T) {
	t.Parallel()
	dec := &decoder{}
	for _, in := range []any{`{"a":`, `[1]`, 42} {
		if _, err := dec.fields(in); err == nil {
			t.Errorf("decoding %v: no error", in)
		}
	}
	got, err := dec.fields(`{"n":5,"o":{"x":true}}`)
	want := schema.Fields{{Key: "n", Value: "5"}, {Key: "o", Value: `{"x":true}`}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("non-string values: %#v, %v", got, err)
	}
}

// FuzzFieldsCodec checks that the fields encoder writes JSON that both the
// store's decoder and schema.Fields.UnmarshalJSON read back as written
// (invalid UTF-8 replaced by U+FFFD).
func FuzzFieldsCodec(f *testing.F) {
	f.Add("k", "v", "k2", "v2")
	f.Add("\x00", "\"\\", "", "\xff")
	f.Add("a.b", "\u2028\u2029", "<>&", "\t\n")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		in := schema.Fields{{Key: k1, Value: v1}, {Key: k2, Value: v2}}
		enc, dec := &encoder{}, &decoder{}
		text := enc.fields(in).(string)
		if !json.Valid([]byte(text)) {
			t.Fatalf("invalid JSON %q", text)
		}
		want := make(schema.Fields, len(in))
		for i, kv := range in {
			want[i] = schema.Field{Key: fixUTF8(kv.Key), Value: fixUTF8(kv.Value)}
		}
		got, err := dec.fields(text)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decoder: %#v, %v; want %#v", got, err, want)
		}
		var viaSchema schema.Fields
		if err := viaSchema.UnmarshalJSON([]byte(text)); err != nil || !reflect.DeepEqual(viaSchema, want) {
			t.Fatalf("schema.Fields: %#v, %v; want %#v", viaSchema, err, want)
		}
	})
}

func fixUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for each invalid byte
		i += size
	}
	return b.String()
}

// BenchmarkFieldsJSON measures encoding the original fields of a typical
// Filebeat record.
func BenchmarkFieldsJSON(b *testing.B) {
	f := schema.Fields{
		{Key: "@timestamp", Value: "2026-11-20T10:00:00.123Z"}, {Key: "log.file.path", Value: "/var/log/nginx/access.log"},
		{Key: "message", Value: `192.0.2.10 - - [20/Nov/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.5.0"`},
		{Key: "host.os.version", Value: "24.04.1 LTS (Noble Numbat)"}, {Key: "agent.id", Value: "5e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b"},
		{Key: "user.name", Value: "jürgen"},
	}
	enc := &encoder{}
	n := len(enc.fieldsJSON(f))
	b.SetBytes(int64(n))
	for b.Loop() {
		enc.fieldsJSON(f)
	}
}
