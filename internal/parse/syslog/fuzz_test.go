package syslog

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-soc/vigil/internal/golden"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// FuzzParse checks that no input panics, that every rejection carries a
// reason code, and that accepted events keep the raw message and valid
// UTF-8 strings.
func FuzzParse(f *testing.F) {
	golden.SeedLines(f, filepath.Join("testdata", "*.log"))
	f.Add([]byte("<0>1 - - - - - - "))
	f.Add([]byte("<191>Feb 29 23:59:60.999999999 h a[: x"))
	p := NewParser(Options{})
	f.Fuzz(func(t *testing.T, msg []byte) {
		var ev schema.Event
		err := p.Parse(msg, goldenReceived, &ev)
		if err != nil {
			switch parse.Reason(err) {
			case parse.ReasonBadSyslog, parse.ReasonEmpty, parse.ReasonInvalidUTF8, parse.ReasonOversized:
			default:
				t.Fatalf("Parse(%q): unexpected reason %q: %v", msg, parse.Reason(err), err)
			}
			return
		}
		if !strings.HasPrefix(string(msg), ev.Original) || ev.Original == "" {
			t.Fatalf("Original %q is not the message %q", ev.Original, msg)
		}
		if ev.Timestamp.IsZero() || ev.Input != schema.InputSyslog {
			t.Fatalf("incomplete event %+v", ev)
		}
		for _, s := range []string{ev.Message, ev.Host.Name, ev.Process.Name, ev.User.Name, ev.Source.IP} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q from %q", s, msg)
			}
		}
		if ev.Log.Syslog.Present && (ev.Log.Syslog.Facility > 23 || ev.Log.Syslog.Severity > 7) {
			t.Fatalf("bad priority %+v", ev.Log.Syslog)
		}
	})
}
