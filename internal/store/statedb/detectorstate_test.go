package statedb

import (
	"bytes"
	"context"
	"testing"
)

func TestDetectorState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	if _, _, ok, err := d.DetectorState(ctx, "detect"); ok || err != nil {
		t.Fatalf("empty database: ok=%v err=%v", ok, err)
	}
	steps := []struct {
		seq  uint64
		data string
		want uint64
		wdat string
	}{
		{10, "a", 10, "a"},
		{20, "bb", 20, "bb"},
		{15, "old", 20, "bb"}, // an older snapshot never replaces a newer one
		{20, "", 20, ""},
	}
	for _, s := range steps {
		if err := d.SaveDetectorState(ctx, "detect", s.seq, []byte(s.data)); err != nil {
			t.Fatal(err)
		}
		seq, data, ok, err := d.DetectorState(ctx, "detect")
		if err != nil || !ok || seq != s.want || !bytes.Equal(data, []byte(s.wdat)) {
			t.Errorf("after save(%d,%q): seq=%d data=%q ok=%v err=%v", s.seq, s.data, seq, data, ok, err)
		}
	}
	if err := d.SaveDetectorState(ctx, "", 1, nil); err == nil {
		t.Error("empty consumer accepted")
	}
}
