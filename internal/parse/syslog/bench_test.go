package syslog

import (
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/schema"
)

func benchParse(b *testing.B, msg string) {
	p := NewParser(Options{})
	in := []byte(msg)
	received := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var ev schema.Event
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := p.Parse(in, received, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse5424 parses a logger --rfc5424 message with structured data.
func BenchmarkParse5424(b *testing.B) {
	benchParse(b, `<13>1 2026-11-20T10:30:00.418862+00:00 web01 alice 4242 ID7 [timeQuality tzKnown="1" isSynced="1" syncAccuracy="383500"] hello from logger`)
}

// BenchmarkParse3164SSHD parses an RFC 3164 sshd failed-login line.
func BenchmarkParse3164SSHD(b *testing.B) {
	benchParse(b, "<38>Nov 20 10:00:05 web01 sshd[2390]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2")
}

// BenchmarkParseFileLineSSHD parses the same line as written to auth.log
// (no PRI: the hand parser).
func BenchmarkParseFileLineSSHD(b *testing.B) {
	benchParse(b, "Nov 20 10:00:05 web01 sshd[2390]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2")
}
