package flowcollect

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/parse"
)

// seedFuzz adds the hand-made and captured packets whose first bytes
// match one of the versions.
func seedFuzz(f *testing.F, versions ...uint16) {
	var pkts [][]byte
	for _, c := range decodeCases() {
		pkts = append(pkts, c.pkts...)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "captures", "*.pkts"))
	for _, file := range files {
		pkts = append(pkts, readPackets(f, file)...)
	}
	for _, p := range pkts {
		for _, v := range versions {
			if len(p) >= 4 && (uint16(p[0])<<8|uint16(p[1])) == v {
				f.Add(p)
			}
		}
	}
}

// fuzzDecode decodes pkt twice with one decoder, so that templates from
// the first pass apply to the second, and checks what every decoder
// promises: no panic, a *parse.Error with a known reason, events that
// follow the collector conventions and read back as flows, and no more
// events than the input could describe.
func fuzzDecode(t *testing.T, pkt []byte) {
	d := NewDecoder(DecoderConfig{MaxPending: 4})
	total := 0
	for pass := range 2 {
		evs, err := d.Decode(exporterA, pkt, t0.Add(time.Duration(pass)*time.Second), nil)
		if err != nil {
			var pe *parse.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *parse.Error: %v", err)
			}
			switch pe.Reason {
			case ReasonBadFlow, parse.ReasonUnknownFormat, parse.ReasonEmpty:
			default:
				t.Fatalf("unexpected reason %q", pe.Reason)
			}
		}
		total += len(evs)
		for i := range evs {
			ev := &evs[i]
			if ev.Input != "netflow" || !strings.HasPrefix(ev.Event.Dataset, "netflow.") || ev.Source.Bytes < 0 ||
				ev.Network.Bytes < ev.Source.Bytes || ev.Event.Duration < 0 {
				t.Fatalf("bad event %+v", ev)
			}
			var r flow.Record
			if flow.FromEvent(ev, &r) && (r.BytesOut != ev.Source.Bytes || r.Kind != flow.KindFlow) {
				t.Fatalf("round trip: %+v from %+v", r, ev)
			}
		}
	}
	// Every flow needs at least one byte of a record (pass 2 may replay
	// data sets kept from pass 1).
	if total > 2*len(pkt) {
		t.Fatalf("%d events from %d bytes", total, len(pkt))
	}
	st := d.Stats()
	if len(st) != 1 || st[0].Packets != 2 || st[0].Flows != uint64(total) {
		t.Fatalf("stats %+v after 2 packets and %d events", st, total)
	}
}

// FuzzDecodeNetFlow fuzzes NetFlow v5 and v9 packets.
func FuzzDecodeNetFlow(f *testing.F) {
	seedFuzz(f, 5, 9)
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeIPFIX fuzzes IPFIX messages.
func FuzzDecodeIPFIX(f *testing.F) {
	seedFuzz(f, 10)
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeSFlow fuzzes sFlow v5 datagrams.
func FuzzDecodeSFlow(f *testing.F) {
	seedFuzz(f, 0)
	f.Fuzz(fuzzDecode)
}

// FuzzRFC3339Nano checks the fast time formatter against the time
// package.
func FuzzRFC3339Nano(f *testing.F) {
	f.Add(t0.UnixNano())
	f.Add(int64(-1))
	f.Add(int64(1 << 62))
	f.Fuzz(func(t *testing.T, ns int64) {
		got := string(appendRFC3339Nano(nil, ns))
		if want := time.Unix(0, ns).UTC().Format(time.RFC3339Nano); got != want {
			t.Fatalf("appendRFC3339Nano(%d) = %s, want %s", ns, got, want)
		}
	})
}
