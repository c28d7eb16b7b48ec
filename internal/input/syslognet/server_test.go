package syslognet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse/syslog"
	"github.com/vigil-soc/vigil/internal/schema"
)

const (
	msg5424   = "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed for lonvick"
	msg3164   = "<13>Oct 11 22:14:15 host2 app[42]: hello world"
	msgNoHost = "<13>1 2024-01-02T03:04:05Z - myapp - - - no hostname here"
	msgBad    = "<999>not syslog"
)

// wantEvent is what a test checks of one event.
type wantEvent struct {
	host, app, msg string
}

func eventOf(ev schema.Event) wantEvent {
	return wantEvent{host: ev.Host.Name, app: ev.Log.Logger, msg: ev.Message}
}

var (
	ev5424   = wantEvent{"mymachine", "su", "'su root' failed for lonvick"}
	ev3164   = wantEvent{"host2", "app", "hello world"}
	evNoHost = wantEvent{"127.0.0.1", "myapp", "no hostname here"}
)

func TestTCPEndToEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		chunks  []string // written with a pause between them
		max     int
		want    []wantEvent
		rejects []string // reasons
	}{
		{name: "LF", chunks: []string{msg5424 + "\n" + msg3164 + "\n" + msgNoHost + "\n"},
			want: []wantEvent{ev5424, ev3164, evNoHost}},
		{name: "CRLF and NUL", chunks: []string{msg5424 + "\r\n" + msg3164 + "\x00" + msgNoHost + "\r\n"},
			want: []wantEvent{ev5424, ev3164, evNoHost}},
		{name: "octet counting", chunks: []string{oc(msg5424) + oc(msg3164) + oc(msgNoHost)},
			want: []wantEvent{ev5424, ev3164, evNoHost}},
		{name: "mixed", chunks: []string{oc(msg5424) + msg3164 + "\n" + oc(msgNoHost)},
			want: []wantEvent{ev5424, ev3164, evNoHost}},
		{name: "split across packets",
			chunks: []string{oc(msg5424)[:1], oc(msg5424)[1:5], oc(msg5424)[5:40], oc(msg5424)[40:] + msg3164[:10],
				msg3164[10:], "\r", "\n", oc(msgNoHost)[:3], oc(msgNoHost)[3:]},
			want: []wantEvent{ev5424, ev3164, evNoHost}},
		{name: "bad message kept apart", chunks: []string{msg5424 + "\n" + msgBad + "\n" + msg3164 + "\n"},
			want: []wantEvent{ev5424, ev3164}, rejects: []string{"bad_syslog"}},
		{name: "oversized frames skipped", max: 100,
			chunks: []string{oc(msg5424) + oc(strings.Repeat("a", 300)) + strings.Repeat("b", 300) + "\n" + oc(msg3164)},
			want:   []wantEvent{ev5424, ev3164}, rejects: []string{"oversized", "oversized"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &collectSink{}
			rec := &rejectLog{}
			cfg := localCfg()
			cfg.MaxMessage = tc.max
			r := startServer(t, cfg, sink, rec)
			conn, err := net.Dial("tcp", r.tcp.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.chunks {
				if _, err := io.WriteString(conn, c); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			conn.Close()
			st := waitSettled(t, r.s, uint64(len(tc.want)+len(tc.rejects)))
			if st.Accepted != uint64(len(tc.want)) || st.Rejected != uint64(len(tc.rejects)) {
				t.Errorf("stats %+v", st)
			}
			checkEvents(t, sink.events(), tc.want)
			checkRejects(t, rec.all(), tc.rejects)
		})
	}
}

func checkEvents(t *testing.T, evs []schema.Event, want []wantEvent) {
	t.Helper()
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if got := eventOf(ev); got != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, got, want[i])
		}
		if ev.Input != schema.InputSyslog || ev.Received.IsZero() || ev.Original == "" {
			t.Errorf("event %d: input %q, received %v, original %q", i, ev.Input, ev.Received, ev.Original)
		}
	}
}

func checkRejects(t *testing.T, rs []ingest.Reject, want []string) {
	t.Helper()
	if len(rs) != len(want) {
		t.Fatalf("got %d rejects (%+v), want %d", len(rs), rs, len(want))
	}
	for i, r := range rs {
		if r.Reason != want[i] || r.Source != "127.0.0.1" || r.Input != "syslog" || r.Detail == "" ||
			(len(r.Raw) == 0) != (r.Reason == "empty") {
			t.Errorf("reject %d: %+v, want reason %s from 127.0.0.1", i, r, want[i])
		}
	}
}

func TestTimestampsAndFields(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	r := startServer(t, localCfg(), sink, nil)
	conn, err := net.Dial("udp", r.udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, msg5424+"\n"); err != nil {
		t.Fatal(err)
	}
	waitSettled(t, r.s, 1)
	evs := sink.events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	want := time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC)
	if !ev.Timestamp.Equal(want) || ev.Original != msg5424 || !ev.Log.Syslog.Present ||
		ev.Log.Syslog.Facility != 4 || ev.Log.Syslog.Severity != 2 {
		t.Errorf("event %+v", ev)
	}
}

func TestUDPRejects(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	rec := &rejectLog{}
	cfg := localCfg()
	cfg.MaxMessage = 100
	r := startServer(t, cfg, sink, rec)
	conn, err := net.Dial("udp", r.udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []string{msg3164, strings.Repeat("z", 101), msgBad, msgNoHost + "\n", "\n"} {
		if _, err := io.WriteString(conn, m); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "datagram", 5*time.Second, func() bool { st := r.s.Stats(); return st.Accepted+st.Rejected == st.Received })
		time.Sleep(2 * time.Millisecond)
	}
	st := waitSettled(t, r.s, 5)
	if st.Accepted != 2 || st.Rejected != 3 {
		t.Errorf("stats %+v", st)
	}
	r.stop()
	checkEvents(t, sink.events(), []wantEvent{ev3164, evNoHost})
	checkRejects(t, rec.all(), []string{"oversized", "bad_syslog", "empty"})
}

func TestBackpressureLosesNothing(t *testing.T) {
	t.Parallel()
	const n, batch, refusals = 23, 5, 3
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			sink := &collectSink{failFirst: refusals}
			cfg := localCfg()
			cfg.BatchSize, cfg.FlushInterval, cfg.UDPWorkers = batch, time.Hour, 1
			r := startServer(t, cfg, sink, nil)
			addr := r.tcp
			if transport == "udp" {
				addr = r.udp
			}
			conn, err := net.Dial(transport, addr.String())
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				fmt.Fprintf(conn, "<13>1 - h app - - - message %d\n", i)
				if transport == "udp" {
					// Pace datagrams so a backed-off worker cannot make
					// the queue overflow.
					time.Sleep(time.Millisecond)
				}
			}
			conn.Close()
			waitFor(t, "messages", 20*time.Second, func() bool { return r.s.Stats().Received == n })
			r.stop() // flushes UDP's last partial batch
			evs := sink.events()
			if len(evs) != n {
				t.Fatalf("got %d events, want %d", len(evs), n)
			}
			for i, ev := range evs {
				if want := fmt.Sprintf("message %d", i); ev.Message != want {
					t.Errorf("event %d: message %q, want %q", i, ev.Message, want)
				}
			}
			calls, batches, _ := sink.stats()
			if calls != refusals+5 || fmt.Sprint(batches) != "[5 5 5 5 3]" {
				t.Errorf("calls %d, batches %v; want %d calls, batches [5 5 5 5 3]", calls, batches, refusals+5)
			}
			if st := r.s.Stats(); st.Accepted != n || st.Lost != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestBlockedSinkStopsReads(t *testing.T) {
	t.Parallel()
	const n, batch = 60000, 10
	sink := &collectSink{countOnly: true, block: make(chan struct{}), entered: make(chan struct{}, 1)}
	cfg := localCfg()
	cfg.BatchSize = batch
	r := startServer(t, cfg, sink, nil)
	conn, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	line := "<13>1 2024-01-02T03:04:05.000001Z host app - - - " + strings.Repeat("p", 250) + "\n"
	var written atomic.Int64
	writerDone := make(chan error, 1)
	go func() {
		defer conn.Close()
		payload := bytes.Repeat([]byte(line), 100)
		for i := 0; i < n/100; i++ {
			if _, err := conn.Write(payload); err != nil {
				writerDone <- err
				return
			}
			written.Add(100)
		}
		writerDone <- nil
	}()
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("sink never called")
	}
	time.Sleep(300 * time.Millisecond)
	if got := r.s.Stats().Received; got != batch {
		t.Errorf("received %d messages while the sink was blocked, want %d", got, batch)
	}
	select {
	case err := <-writerDone:
		t.Fatalf("the writer finished (%v) although the server stopped reading", err)
	default:
	}
	t.Logf("sender had written %d of %d messages when it stalled", written.Load(), n)
	close(sink.block)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	waitSettled(t, r.s, n)
	if _, _, count := sink.stats(); count != n {
		t.Errorf("sink got %d events, want %d", count, n)
	}
}

func TestUDPDropCount(t *testing.T) {
	t.Parallel()
	sink := &collectSink{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	cfg := localCfg()
	cfg.UDPQueue, cfg.UDPWorkers, cfg.BatchSize = 4, 1, 1
	r := startServer(t, cfg, sink, nil)
	conn, err := net.Dial("udp", r.udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(i int) {
		if _, err := fmt.Fprintf(conn, "<13>1 - h app - - - datagram %d", i); err != nil {
			t.Fatal(err)
		}
	}
	send(0)
	select {
	case <-sink.entered: // the only worker now waits in Submit
	case <-time.After(10 * time.Second):
		t.Fatal("sink never called")
	}
	for i := 1; i < 100; i++ {
		send(i)
	}
	waitFor(t, "100 datagrams", 10*time.Second, func() bool { return r.s.Stats().Received == 100 })
	if st := r.s.Stats(); st.UDPDropped != 95 {
		t.Errorf("dropped %d datagrams, want 95 (queue of 4, one in the worker): %+v", st.UDPDropped, st)
	}
	close(sink.block)
	st := waitSettled(t, r.s, 100)
	if st.Accepted != 5 {
		t.Errorf("accepted %d, want 5", st.Accepted)
	}
	evs := sink.events()
	for i, ev := range evs {
		if want := fmt.Sprintf("datagram %d", i); ev.Message != want {
			t.Errorf("event %d: %q, want %q", i, ev.Message, want)
		}
	}
}

func TestFlushIntervalKeepsConnection(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	cfg := localCfg()
	cfg.BatchSize, cfg.FlushInterval = 1000, 30*time.Millisecond
	r := startServer(t, cfg, sink, nil)
	conn, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for round := 1; round <= 3; round++ {
		fmt.Fprintf(conn, "%s\n%s\n", msg5424, msg3164)
		waitFor(t, "a timed flush", 5*time.Second, func() bool { return len(sink.events()) == 2*round })
	}
	if _, batches, _ := sink.stats(); fmt.Sprint(batches) != "[2 2 2]" {
		t.Errorf("batches %v, want [2 2 2]", batches)
	}
	if st := r.s.Stats(); st.Connections != 1 {
		t.Errorf("connections %d, want 1", st.Connections)
	}
}

func TestShutdownFlushes(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	cfg := localCfg()
	cfg.FlushInterval = time.Hour
	r := startServer(t, cfg, sink, nil)
	tcp, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp, err := net.Dial("udp", r.udp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	fmt.Fprintf(tcp, "%s\n%s\n", msg5424, msg3164)
	fmt.Fprintf(udp, "%s", msgNoHost)
	waitFor(t, "3 messages", 5*time.Second, func() bool { return r.s.Stats().Received == 3 })
	if len(sink.events()) != 0 {
		t.Fatal("events flushed before the interval")
	}
	r.stop()
	if got := len(sink.events()); got != 3 {
		t.Errorf("%d events after shutdown, want 3", got)
	}
	if st := r.s.Stats(); st.Accepted != 3 || st.Connections != 0 {
		t.Errorf("stats %+v", st)
	}
	if c, err := net.DialTimeout("tcp", r.tcp.String(), time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after Run returned")
	}
}

func TestShutdownCountsLost(t *testing.T) {
	t.Parallel()
	sink := &collectSink{failFirst: 1 << 30}
	cfg := localCfg()
	cfg.BatchSize, cfg.ShutdownTimeout = 2, 200*time.Millisecond
	r := startServer(t, cfg, sink, nil)
	conn, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s\n%s\n%s\n", msg5424, msg3164, msgNoHost)
	waitFor(t, "a refused batch", 5*time.Second, func() bool { c, _, _ := sink.stats(); return c >= 2 })
	start := time.Now()
	r.stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a shutdown timeout of 200ms", d)
	}
	if st := r.s.Stats(); st.Lost != 2 || st.Accepted != 0 {
		t.Errorf("stats %+v; want 2 lost (the third message was never read past the refused batch)", st)
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	sink := &collectSink{}
	cfg := localCfg()
	cfg.MaxConns = 1
	r := startServer(t, cfg, sink, nil)
	first, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	fmt.Fprintf(first, "%s\n", msg5424)
	waitFor(t, "first connection", 5*time.Second, func() bool { return len(sink.events()) == 1 })
	second, err := net.Dial("tcp", r.tcp.String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := second.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("second connection was served (n=%d, err=%v)", n, err)
	}
	if st := r.s.Stats(); st.Refused != 1 || st.Connections != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no listener", Config{}, "no listener"},
		{"negative", Config{TCP: ":0", BatchSize: -1}, "negative"},
		{"batch too big", Config{TCP: ":0", BatchSize: schema.MaxBatchEvents + 1}, "ingest batch limit"},
		{"half a key pair", Config{TLS: ":0", CertFile: "c.pem"}, "both CertFile and KeyFile"},
		{"TLS without cert", Config{TLS: ":0"}, "DataDir"},
		{"defaults", Config{UDP: ":0"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.cfg.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxMessage != DefaultMaxMessage || c.BatchSize != DefaultBatchSize || c.FlushInterval != DefaultFlushInterval ||
				c.UDPQueue != DefaultUDPQueue || c.MaxConns != DefaultMaxConns || c.UDPWorkers < 1 {
				t.Errorf("defaults not applied: %+v", c)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := syslog.NewParser(syslog.Options{})
	s, err := New(Config{UDP: "127.0.0.1:0", TCP: busy.Addr().String()}, &collectSink{}, nil, p, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("Run on a busy port: %v", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("second Run did not fail")
	}
	if _, err := New(Config{TCP: ":0"}, nil, nil, p, testLogger(t)); err == nil {
		t.Error("New without a sink did not fail")
	}
}
