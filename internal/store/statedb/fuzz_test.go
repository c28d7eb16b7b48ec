package statedb

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/ingest"
)

// FuzzDecodeCursor feeds arbitrary cursors, as an API client may send them,
// to the cursor parser: it must never panic, must answer ErrBadCursor for
// what it refuses, and what it accepts must encode back to the same cursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(1741944413000000000, "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
	f.Add(encodeCursor(-5, "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
	f.Add("")
	f.Add("Ojo")
	f.Add("MToxOjE")
	f.Fuzz(func(t *testing.T, c string) {
		ls, id, err := decodeCursor(c)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q) error %v is not ErrBadCursor", c, err)
			}
			return
		}
		if _, ok := idTime(id); !ok {
			t.Fatalf("decodeCursor(%q) accepted id %q", c, id)
		}
		if again, id2, err := decodeCursor(encodeCursor(ls, id)); err != nil || again != ls || id2 != id {
			t.Fatalf("re-encoding (%d, %q) gave (%d, %q, %v)", ls, id, again, id2, err)
		}
	})
}

// FuzzTokenPrefix feeds arbitrary strings, as an Authorization header may
// carry them, to the token format check.
func FuzzTokenPrefix(f *testing.F) {
	f.Add("vgl_" + strings.Repeat("A", 43))
	f.Add("vgl_")
	f.Add("")
	f.Add("vgl_" + strings.Repeat("é", 21) + "A")
	f.Add("Bearer vgl_" + strings.Repeat("-", 43))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := tokenPrefix(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("tokenPrefix(%q) error %v is not ErrInvalidToken", s, err)
			}
			return
		}
		if len(s) != tokenLen || !strings.HasPrefix(s, p) || len(p) != tokenPrefixLen || !utf8.ValidString(s) {
			t.Fatalf("tokenPrefix(%q) accepted with prefix %q", s, p)
		}
	})
}

// FuzzDeadLetter stores arbitrary rejected records, as any input may hand
// them over (invalid UTF-8, NUL bytes, huge lines), and checks they read
// back intact up to the cap and are counted.
func FuzzDeadLetter(f *testing.F) {
	f.Add([]byte("<34>Oct 11 22:14:15 mymachine su: 'su root' failed"), "bad_syslog", "no PRI", "10.0.0.1")
	f.Add([]byte{0xff, 0xfe, 0, 0}, "invalid_utf8", "", "")
	f.Add(bytes.Repeat([]byte("x"), MaxDeadLetterRaw+1), "oversized", "too big", "h")
	f.Add([]byte(nil), "", "\x00", "\xff")
	d := openTest(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte, reason, detail, source string) {
		before, err := d.DeadLetters(ctx, DeadLetterFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.AddDeadLetters(ctx, []ingest.Reject{{Input: "fuzz", Source: source, Reason: reason,
			Detail: detail, Raw: raw}}); err != nil {
			t.Fatalf("AddDeadLetters: %v", err)
		}
		got, err := d.DeadLetters(ctx, DeadLetterFilter{Limit: 1})
		if err != nil || len(got) != 1 || (len(before) == 1 && got[0].ID <= before[0].ID) {
			t.Fatalf("newest dead letter = %+v, %v", got, err)
		}
		dl := got[0]
		n := min(len(raw), MaxDeadLetterRaw)
		if !bytes.Equal(dl.Raw, raw[:n]) || dl.RawLen != int64(len(raw)) || dl.Truncated != (len(raw) > n) {
			t.Fatalf("raw of %d bytes read back as %d bytes, raw_len %d, truncated %v", len(raw), len(dl.Raw),
				dl.RawLen, dl.Truncated)
		}
		if dl.Source != orUnknown(source) || dl.Reason != reasonOrInvalid(reason) || dl.Detail != capText(detail, maxDetail) {
			t.Fatalf("read back %+v", dl)
		}
	})
}

// FuzzDecodeIDs feeds arbitrary text to the evidence-ID column reader: it
// must never panic, and what it accepts must survive a round trip.
func FuzzDecodeIDs(f *testing.F) {
	f.Add("[]")
	f.Add("[1,2,3]")
	f.Add("[ 1 , 2 ]")
	f.Add("[18446744073709551615]")
	f.Add("[1,")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := decodeIDs(s)
		if err != nil {
			return
		}
		again, err := decodeIDs(encodeIDs(ids))
		if err != nil || !slices.Equal(again, ids) {
			t.Fatalf("decodeIDs(%q) = %v; round trip gave %v, %v", s, ids, again, err)
		}
	})
}
