package syslognet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-soc/vigil/internal/golden"
)

// timeoutErr is a read deadline expiring, as net.Conn reports it.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// chunkReader returns its input in reads of at most size bytes and, when
// timeouts is set, a timeout error before every read that returns data,
// as a connection whose read deadline keeps expiring would.
type chunkReader struct {
	data     []byte
	size     int
	timeouts bool
	timedOut bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	if c.timeouts && !c.timedOut {
		c.timedOut = true
		return 0, timeoutErr{}
	}
	c.timedOut = false
	n := min(len(p), c.size, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readAllFrames runs a frameReader to the end of r and describes what it
// returned: "F:<frame>" for a frame, "E:<reason>" for a rejected one.
// Timeouts are retried, as serveConn does.
func readAllFrames(t testing.TB, r io.Reader, max int) []string {
	t.Helper()
	fr := newFrameReader(r, max)
	var out []string
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("frame reader does not terminate")
		}
		frame, err := fr.Next()
		var fe *frameError
		switch {
		case err == nil:
			if len(frame) == 0 || len(frame) > max {
				t.Fatalf("frame of %d bytes returned with max %d", len(frame), max)
			}
			out = append(out, "F:"+string(frame))
		case errors.As(err, &fe):
			out = append(out, "E:"+fe.reason)
		case isTimeout(err):
		case err == io.EOF:
			return out
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
}

// oc frames msg with octet counting.
func oc(msg string) string { return strconv.Itoa(len(msg)) + " " + msg }

func TestFraming(t *testing.T) {
	t.Parallel()
	const m5424 = "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed"
	const m3164 = "<13>Oct 11 22:14:15 host app[42]: hello"
	long := strings.Repeat("x", 40)
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"octet counting", oc(m5424) + oc(m3164), 1024, []string{"F:" + m5424, "F:" + m3164}},
		{"LF", m5424 + "\n" + m3164 + "\n", 1024, []string{"F:" + m5424, "F:" + m3164}},
		{"CRLF", m5424 + "\r\n" + m3164 + "\r\n", 1024, []string{"F:" + m5424, "F:" + m3164}},
		{"NUL", m5424 + "\x00" + m3164 + "\x00", 1024, []string{"F:" + m5424, "F:" + m3164}},
		{"mixed", oc(m5424) + m3164 + "\n" + oc(m3164) + m5424 + "\r\n" + oc("<1>x") + "<2>y\x00",
			1024, []string{"F:" + m5424, "F:" + m3164, "F:" + m3164, "F:" + m5424, "F:<1>x", "F:<2>y"}},
		{"octet frame with its own LF", oc("<13>a\n") + oc("<13>b\r\n"), 1024, []string{"F:<13>a", "F:<13>b"}},
		{"LF after octet frames", oc("<13>a") + "\n" + oc("<13>b") + "\n", 1024, []string{"F:<13>a", "F:<13>b"}},
		{"blank lines skipped", "\n\r\n\x00\n<13>a\n\n", 1024, []string{"F:<13>a"}},
		{"CR inside a line kept", "<13>a\rb\n", 1024, []string{"F:<13>a\rb"}},
		{"last line unterminated", "<13>a\n<13>b", 1024, []string{"F:<13>a", "F:<13>b"}},
		{"digits without space", "2024-01-01T00:00:00Z host app: x\n", 1024,
			[]string{"F:2024-01-01T00:00:00Z host app: x"}},
		{"digits at end of stream", "<13>a\n123", 1024, []string{"F:<13>a", "F:123"}},
		{"count too short resyncs", "5 <34>1 hello\n<13>b\n", 1024, []string{"F:<34>1", "F: hello", "F:<13>b"}},
		{"count too long for a count", "12345678901 x\n<13>b\n", 1024, []string{"F:12345678901 x", "F:<13>b"}},
		{"count zero", "0 <13>a\n", 1024, []string{"E:empty", "F:<13>a"}},
		{"count of a bare LF", "1 \n<13>a\n", 1024, []string{"E:empty", "F:<13>a"}},
		{"stream ends inside octet frame", oc("<13>a") + "50 <13>short", 1024, []string{"F:<13>a", "E:bad_syslog"}},
		{"octet frame at max", oc(long[:20]) + oc("<1>x"), 20, []string{"F:" + long[:20], "F:<1>x"}},
		{"octet frame oversized", oc(long[:21]) + oc("<1>x"), 20, []string{"E:oversized", "F:<1>x"}},
		{"octet frame far oversized", oc(long+long+long) + oc("<1>x"), 20, []string{"E:oversized", "F:<1>x"}},
		{"octet oversized at end", "9999 " + long, 20, []string{"E:oversized"}},
		{"line at max", long[:20] + "\r\n<1>x\n", 20, []string{"F:" + long[:20], "F:<1>x"}},
		{"line oversized", long[:21] + "\n<1>x\n", 20, []string{"E:oversized", "F:<1>x"}},
		{"line far oversized", long + long + "\r\n<1>x\n", 20, []string{"E:oversized", "F:<1>x"}},
		{"line oversized at end", long + long, 20, []string{"E:oversized"}},
		{"long digit line oversized", strings.Repeat("7", 60) + " x\n<1>x\n", 20, []string{"E:oversized", "F:<1>x"}},
		{"empty stream", "", 20, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []*chunkReader{
				{data: []byte(tc.in), size: 1 << 20},
				{data: []byte(tc.in), size: 1},
				{data: []byte(tc.in), size: 3, timeouts: true},
				{data: []byte(tc.in), size: 7},
			} {
				got := readAllFrames(t, r, tc.max)
				if !equalStrings(got, tc.want) {
					t.Errorf("reads of %d bytes (timeouts %v):\n got %q\nwant %q", r.size, r.timeouts, got, tc.want)
				}
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFramingGolden frames the mixed streams in testdata/framing/*.stream
// and compares the result with the .golden files beside them. Run with
// -update or VIGIL_UPDATE_GOLDEN=1 to rewrite them.
func TestFramingGolden(t *testing.T) {
	t.Parallel()
	golden.CheckFiles(t, filepath.Join("testdata", "framing", "*.stream"), func(t *testing.T, path string) []byte {
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, f := range readAllFrames(t, &chunkReader{data: in, size: 5}, 256) {
			fmt.Fprintf(&b, "%q\n", f)
		}
		return b.Bytes()
	})
}

// FuzzFraming checks that the frame reader never panics or loops, returns
// only frames within the limit, and yields the same frames and rejects
// however the stream is split into reads.
func FuzzFraming(f *testing.F) {
	f.Add([]byte(oc("<13>a")+"<13>b\n"+oc("<13>c")), uint16(64), uint8(3))
	f.Add([]byte("5 <34>1 hello\n0 \n\r\n\x00"), uint16(8), uint8(1))
	f.Add([]byte("99999 "+strings.Repeat("y", 100)+"\n<1>z"), uint16(16), uint8(7))
	f.Add([]byte(strings.Repeat("7", 40)+" x\n"), uint16(10), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, max uint16, chunk uint8) {
		limit := int(max%2048) + 1
		whole := readAllFrames(t, &chunkReader{data: in, size: len(in) + 1}, limit)
		split := readAllFrames(t, &chunkReader{data: in, size: int(chunk%16) + 1, timeouts: chunk&1 == 1}, limit)
		if !equalStrings(whole, split) {
			t.Fatalf("framing depends on read sizes:\nwhole %q\nsplit %q", whole, split)
		}
		total := 0
		for _, s := range whole {
			if strings.HasPrefix(s, "F:") {
				total += len(s) - 2
			}
		}
		if total > len(in) {
			t.Fatalf("frames hold %d bytes from an input of %d", total, len(in))
		}
	})
}
