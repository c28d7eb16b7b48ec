package simulate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// In-test stand-ins for Vigil's listeners. They check the wire format
// themselves, so the tests prove what the simulator puts on the wire.

// tcpFrame is one octet-counted frame the fake TCP listener read.
type tcpFrame struct {
	conn int // index of the connection, in accept order
	data string
}

// fakeTCP is a syslog TCP listener reading RFC 6587 octet-counted frames.
// With closeAfter > 0 it closes the first connection of every host after
// that many frames, to exercise reconnection.
type fakeTCP struct {
	ln         net.Listener
	closeAfter int

	mu     sync.Mutex
	frames []tcpFrame
	errs   []error
	hosts  map[string][]int // connections a host used
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startFakeTCP(t *testing.T, closeAfter int) *fakeTCP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeTCP{ln: ln, closeAfter: closeAfter, hosts: map[string][]int{}}
	f.wg.Go(f.accept)
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeTCP) addr() string { return f.ln.Addr().String() }

func (f *fakeTCP) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		id := len(f.conns)
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		f.wg.Go(func() { f.read(c, id) })
	}
}

// readOctetFrame reads "MSG-LEN SP MSG" as RFC 6587 section 3.4.1 defines it.
func readOctetFrame(r *bufio.Reader) (string, error) {
	head, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	digits := strings.TrimSuffix(head, " ")
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 || len(digits) > 10 || digits[0] == '0' {
		return "", fmt.Errorf("bad MSG-LEN %q", head)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("frame of %d octets: %w", n, err)
	}
	return string(buf), nil
}

func (f *fakeTCP) read(c net.Conn, id int) {
	defer c.Close()
	r := bufio.NewReader(c)
	count := 0
	for {
		frame, err := readOctetFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				f.mu.Lock()
				f.errs = append(f.errs, err)
				f.mu.Unlock()
			}
			return
		}
		count++
		host := ""
		if fs := strings.Fields(frame); len(fs) > 2 {
			host = fs[2]
		}
		f.mu.Lock()
		f.frames = append(f.frames, tcpFrame{conn: id, data: frame})
		used := f.hosts[host]
		if len(used) == 0 || used[len(used)-1] != id {
			f.hosts[host] = append(used, id)
		}
		first := f.hosts[host][0] == id
		f.mu.Unlock()
		if f.closeAfter > 0 && first && count >= f.closeAfter {
			return
		}
	}
}

func (f *fakeTCP) snapshot() ([]tcpFrame, []error, map[string][]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hosts := map[string][]int{}
	for h, c := range f.hosts {
		hosts[h] = append([]int(nil), c...)
	}
	return append([]tcpFrame(nil), f.frames...), append([]error(nil), f.errs...), hosts
}

func (f *fakeTCP) contains(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range f.frames {
		if strings.Contains(fr.data, s) {
			return true
		}
	}
	return false
}

// udpMsg is one datagram and its source.
type udpMsg struct{ from, data string }

// fakeUDP is a syslog UDP listener.
type fakeUDP struct {
	pc   net.PacketConn
	mu   sync.Mutex
	msgs []udpMsg
}

func startFakeUDP(t *testing.T) *fakeUDP {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeUDP{pc: pc}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.msgs = append(f.msgs, udpMsg{from: from.String(), data: string(buf[:n])})
			f.mu.Unlock()
		}
	})
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return f
}

func (f *fakeUDP) addr() string { return f.pc.LocalAddr().String() }

func (f *fakeUDP) snapshot() []udpMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]udpMsg(nil), f.msgs...)
}

// bulkReq is one request the fake bulk API answered.
type bulkReq struct {
	status int
	body   []byte
	at     time.Time
}

// fakeBulk implements POST /_bulk: it answers the first request with 429
// and Retry-After: 1, every later one with 200 and an Elasticsearch
// response.
type fakeBulk struct {
	srv   *httptest.Server
	token string
	mu    sync.Mutex
	reqs  []bulkReq
	bad   []string // protocol problems seen
}

func startFakeBulk(t *testing.T, token string) *fakeBulk {
	t.Helper()
	f := &fakeBulk{token: token}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBulk) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil:
		f.bad = append(f.bad, "reading body: "+err.Error())
	case r.Method != http.MethodPost || r.URL.Path != "/_bulk":
		f.bad = append(f.bad, r.Method+" "+r.URL.Path)
		http.NotFound(w, r)
		return
	case r.Header.Get("Authorization") != "Bearer "+f.token:
		f.bad = append(f.bad, "authorization "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	case r.Header.Get("Content-Type") != "application/x-ndjson":
		f.bad = append(f.bad, "content type "+r.Header.Get("Content-Type"))
	}
	if len(f.reqs) == 0 {
		f.reqs = append(f.reqs, bulkReq{status: http.StatusTooManyRequests, body: body, at: time.Now()})
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"type":"es_rejected_execution_exception"},"status":429}`))
		return
	}
	f.reqs = append(f.reqs, bulkReq{status: http.StatusOK, body: body, at: time.Now()})
	n := bytes.Count(body, []byte{'\n'}) / 2
	items := strings.Repeat(`{"create":{"_index":"winlogbeat","status":201,"result":"created"}},`, n)
	_, _ = fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.TrimSuffix(items, ","))
}

func (f *fakeBulk) snapshot() ([]bulkReq, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bulkReq(nil), f.reqs...), append([]string(nil), f.bad...)
}

// acceptedAfter429 reports that a request was throttled and a later one
// accepted.
func (f *fakeBulk) acceptedAfter429() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs) >= 2 && f.reqs[0].status == http.StatusTooManyRequests && f.reqs[1].status == http.StatusOK
}

// lockedBuffer collects the simulator's log for assertions.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
