package winlog

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

// BenchmarkMapWinlogbeat maps a Winlogbeat 4624 document.
func BenchmarkMapWinlogbeat(b *testing.B) {
	benchMap(b, "testdata/winlogbeat_4624.json", (*Mapper).MapWinlogbeat)
}

// BenchmarkMapEvtxJSON maps an evtx_dump 4624 record.
func BenchmarkMapEvtxJSON(b *testing.B) {
	benchMap(b, "testdata/evtx_4624.json", (*Mapper).MapEvtxJSON)
}

func benchMap(b *testing.B, path string, f func(*Mapper, []byte, time.Time, *schema.Event) error) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var m Mapper
	var ev schema.Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := f(&m, data, goldenReceived, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadEVTX reads the one-record fixture file.
func BenchmarkReadEVTX(b *testing.B) {
	data := fixtureEVTX(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n := 0
		err := ReadEVTX(context.Background(), bytes.NewReader(data), goldenReceived,
			func(*schema.Event) error { n++; return nil }, func(err error) { b.Fatal(err) })
		if err != nil || n != 1 {
			b.Fatalf("%v, %d events", err, n)
		}
	}
}
