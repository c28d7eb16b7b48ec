package flowcollect

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/flow"
	"github.com/vigil-soc/vigil/internal/schema"
)

// Integration tests with real exporters from Debian packages (softflowd,
// pmacct), started by the test on the loopback interface. They capture
// traffic the test makes and export it to a collector on 127.0.0.1; the
// flows that arrive must agree with the exporter's own counters.
//
// Capture note: on some kernels the TPACKET_V3 ring libpcap uses hands
// packets to the exporter only when a ring block fills, not after its
// timeout. The tests therefore send "filler" datagrams to a third port
// after their traffic until the exporter reports a filler flow: the ring
// is in order, so by then every earlier packet was processed.

// requireExporter skips the test unless the exporter binary is installed
// and packets can be captured.
func requireExporter(t *testing.T, bins ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a real flow exporter; skipped in -short mode")
	}
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", bin)); err != nil {
				t.Skipf("%s is not installed (Debian packages softflowd and pmacct); skipping", bin)
			}
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("capturing packets on lo needs root; skipping")
	}
}

// binPath finds an exporter binary on PATH or in /usr/sbin.
func binPath(bin string) string {
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	return filepath.Join("/usr/sbin", bin)
}

// dirKey is one direction of a flow on loopback.
type dirKey struct {
	sport, dport uint16
	proto        uint8
}

// counts are a direction's totals.
type counts struct{ bytes, pkts int64 }

// loopTraffic is traffic the test makes on loopback: a TCP transfer and
// UDP datagrams of known sizes, plus filler datagrams to a third port.
type loopTraffic struct {
	tcp                         net.Listener
	udp, fill                   *net.UDPConn
	tcpPort, udpPort, fillPort  uint16
	tcpBytes, udpCount, udpSize int
	mu                          sync.Mutex
	udpGot                      int
	tcpGot                      chan int64
}

func newLoopTraffic(t *testing.T) *loopTraffic {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	fill, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l := &loopTraffic{tcp: ln, udp: udp, fill: fill, tcpBytes: 100_000, udpCount: 10, udpSize: 200,
		tcpPort:  uint16(ln.Addr().(*net.TCPAddr).Port),
		udpPort:  uint16(udp.LocalAddr().(*net.UDPAddr).Port),
		fillPort: uint16(fill.LocalAddr().(*net.UDPAddr).Port), tcpGot: make(chan int64, 1)}
	t.Cleanup(func() { ln.Close(); udp.Close(); fill.Close() })
	go l.drain(udp, true)
	go l.drain(fill, false)
	return l
}

func (l *loopTraffic) drain(c *net.UDPConn, count bool) {
	buf := make([]byte, 2048)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
		if count {
			l.mu.Lock()
			l.udpGot++
			l.mu.Unlock()
		}
	}
}

// filter is the BPF filter for the exporter.
func (l *loopTraffic) filter() string {
	return fmt.Sprintf("port %d or port %d or port %d", l.tcpPort, l.udpPort, l.fillPort)
}

// ours reports whether a direction belongs to the test's TCP or UDP
// traffic (not the filler).
func (l *loopTraffic) ours(k dirKey) bool {
	for _, p := range []uint16{l.tcpPort, l.udpPort} {
		if k.sport == p || k.dport == p {
			return true
		}
	}
	return false
}

// run makes the traffic and waits until the receivers have it all.
func (l *loopTraffic) run(t *testing.T) {
	t.Helper()
	go func() {
		c, err := l.tcp.Accept()
		if err != nil {
			l.tcpGot <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		l.tcpGot <- n
	}()
	c, err := net.Dial("tcp", l.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, l.tcpBytes)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case n := <-l.tcpGot:
		if n != int64(l.tcpBytes) {
			t.Fatalf("TCP server read %d bytes, want %d", n, l.tcpBytes)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("TCP transfer did not finish")
	}
	u, err := net.DialUDP("udp", nil, l.udp.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for range l.udpCount {
		if _, err := u.Write(make([]byte, l.udpSize)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the UDP datagrams", 10*time.Second, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.udpGot == l.udpCount
	})
}

// pumpUntil sends filler datagrams until done reports true.
func (l *loopTraffic) pumpUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	u, err := net.DialUDP("udp", nil, l.fill.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	waitFor(t, what, 15*time.Second, func() bool {
		for range 200 {
			u.Write([]byte{0})
		}
		time.Sleep(50 * time.Millisecond)
		return done()
	})
}

// collectorTotals sums the sink's flows of one dataset by direction,
// scaled already by the sampling rate.
func collectorTotals(evs []schema.Event, dataset string) (map[dirKey]counts, int) {
	out := map[dirKey]counts{}
	n := 0
	for i := range evs {
		var r flow.Record
		if evs[i].Event.Dataset != dataset || !flow.FromEvent(&evs[i], &r) {
			continue
		}
		n++
		k := dirKey{r.SrcPort, r.DstPort, r.Proto}
		c := out[k]
		c.bytes, c.pkts = c.bytes+r.BytesOut, c.pkts+r.PktsOut
		out[k] = c
		if r.BytesIn > 0 || r.PktsIn > 0 {
			rk := dirKey{r.DstPort, r.SrcPort, r.Proto}
			rc := out[rk]
			rc.bytes, rc.pkts = rc.bytes+r.BytesIn, rc.pkts+r.PktsIn
			out[rk] = rc
		}
	}
	return out, n
}

// hasFiller reports whether a filler flow is among m.
func (l *loopTraffic) hasFiller(m map[dirKey]counts) bool {
	for k := range m {
		if k.dport == l.fillPort {
			return true
		}
	}
	return false
}

// oursOnly keeps the test's directions.
func (l *loopTraffic) oursOnly(m map[dirKey]counts) map[dirKey]counts {
	out := map[dirKey]counts{}
	for k, v := range m {
		if l.ours(k) {
			out[k] = v
		}
	}
	return out
}

// checkSent checks exporter totals against what the test sent: the UDP
// datagrams exactly (IP and UDP headers are 28 bytes), the TCP payload as
// a lower bound.
func (l *loopTraffic) checkSent(t *testing.T, m map[dirKey]counts) {
	t.Helper()
	var udp, tcp counts
	for k, v := range m {
		switch {
		case k.proto == flow.ProtoUDP && k.dport == l.udpPort:
			udp.bytes, udp.pkts = udp.bytes+v.bytes, udp.pkts+v.pkts
		case k.proto == flow.ProtoTCP && k.dport == l.tcpPort:
			tcp.bytes, tcp.pkts = tcp.bytes+v.bytes, tcp.pkts+v.pkts
		}
	}
	if want := (counts{int64(l.udpCount * (l.udpSize + 28)), int64(l.udpCount)}); udp != want {
		t.Errorf("UDP to port %d: %+v, want %+v", l.udpPort, udp, want)
	}
	if tcp.bytes < int64(l.tcpBytes) || tcp.bytes > int64(l.tcpBytes)+60*tcp.pkts {
		t.Errorf("TCP to port %d: %d bytes in %d packets for %d bytes of payload", l.tcpPort, tcp.bytes, tcp.pkts, l.tcpBytes)
	}
}

// runCmd runs a command and returns its output.
func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// startDaemon starts an exporter in the foreground, stopped with SIGTERM
// (or killed) when the test ends; stop stops it earlier.
func startDaemon(t *testing.T, name string, args ...string) (stop func(), output *syncBuffer) {
	t.Helper()
	cmd := exec.Command(binPath(name), args...)
	output = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start %s: %v; skipping", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, output.String())
		}
	})
	return stop, output
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// atoi parses a decimal field of exporter output.
func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("exporter output: %v", err)
	}
	return n
}
