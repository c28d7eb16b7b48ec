package syslognet

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

const benchLine = "<86>1 2024-05-06T07:08:09.123456Z bastion sshd 812 - - Accepted publickey for deploy from 10.1.2.3 port 50022 ssh2"

// BenchmarkFraming measures splitting a mixed stream into frames.
func BenchmarkFraming(b *testing.B) {
	var stream bytes.Buffer
	for i := range 1000 {
		if i%2 == 0 {
			stream.WriteString(oc(benchLine))
		} else {
			stream.WriteString(benchLine + "\n")
		}
	}
	data := stream.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fr := newFrameReader(bytes.NewReader(data), DefaultMaxMessage)
		for {
			if _, err := fr.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkTCPThroughput measures messages from a loopback TCP client to
// the sink: framing, parsing and batching, with a sink that only counts.
func BenchmarkTCPThroughput(b *testing.B) {
	sink := &collectSink{countOnly: true}
	r := startServer(b, Config{TCP: "127.0.0.1:0"}, sink, nil)
	conn, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte(oc(benchLine)), 1000)
	b.SetBytes(int64(len(payload)))
	start := time.Now()
	var want uint64
	for b.Loop() {
		if _, err := conn.Write(payload); err != nil {
			b.Fatal(err)
		}
		want += 1000
	}
	conn.Close()
	for r.s.Stats().Accepted < want {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "msgs/s")
}
