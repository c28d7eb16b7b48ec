package netsim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/zeek"
	"github.com/vigil-soc/vigil/internal/schema"
)

func TestWriteDir(t *testing.T) {
	t.Parallel()
	o := Options{Seed: 5, Hosts: 30, Days: 1, AttackDay: 1}
	dir := filepath.Join(t.TempDir(), "zeek")
	c, err := WriteDir(context.Background(), mustNew(t, o), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{LogConn: c.Conn, LogDNS: c.DNS, LogSSL: c.SSL}
	m := zeek.NewMapper()
	var ev schema.Event
	for name, n := range want {
		f, err := os.Open(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		var lines int64
		var last time.Time
		for sc.Scan() {
			lines++
			// The log type comes from the file name, as vigil import reads it.
			if err := m.Map(sc.Bytes(), zeek.LogTypeFromFilename(f.Name()), time.Time{}, &ev); err != nil {
				t.Fatalf("%s line %d: %v", name, lines, err)
			}
			if ev.Event.Dataset != "zeek."+name || ev.Timestamp.Before(last) {
				t.Fatalf("%s line %d: dataset %q at %v after %v", name, lines, ev.Event.Dataset, ev.Timestamp, last)
			}
			last = ev.Timestamp
		}
		f.Close()
		if sc.Err() != nil || lines != n || n == 0 {
			t.Errorf("%s: %d lines (%v), want %d", name, lines, sc.Err(), n)
		}
	}
	// The same run as one stream equals the files' content, interleaved.
	var buf bytes.Buffer
	c2, err := Write(context.Background(), mustNew(t, o), &buf)
	if err != nil || c2 != c || int64(bytes.Count(buf.Bytes(), []byte{'\n'})) != c.Records {
		t.Errorf("Write: %v, counts %+v, want %+v", err, c2, c)
	}
}

func TestWriteCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WriteDir(ctx, mustNew(t, small(1)), t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WriteDir with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := Write(ctx, mustNew(t, small(1)), &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a cancelled context: %v, want context.Canceled", err)
	}
}
