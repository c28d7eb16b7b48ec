package syslognet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/vigil-soc/vigil/internal/parse"
)

const (
	// maxCountDigits is the longest MSG-LEN an octet-counted frame may carry.
	// Ten digits allow counts up to 9,999,999,999: any honest sender fits,
	// and an oversized frame is still skipped exactly.
	maxCountDigits = 10
	// headerRoom is the buffer space kept beyond MaxMessage for an
	// octet-counting header or a CR LF terminator.
	headerRoom = maxCountDigits + 6
	// rawKeep is how much of a rejected oversized frame a reject carries.
	rawKeep = 1024
	// minFrameBuf is a connection's initial buffer; it grows to
	// MaxMessage+headerRoom when a frame needs it.
	minFrameBuf = 4096
	// maxEmptyReads is how many (0, nil) reads in a row the reader accepts
	// before it gives up with io.ErrNoProgress.
	maxEmptyReads = 100
)

// frameError is a malformed or oversized frame. It is not fatal: the
// reader has already skipped the frame, so the caller records a reject and
// calls Next again.
type frameError struct {
	reason string // parse.Reason* code
	detail string
	raw    []byte // a copy of (the start of) the frame
}

// Error returns "reason: detail".
func (e *frameError) Error() string { return e.reason + ": " + e.detail }

func newFrameError(reason string, raw []byte, format string, args ...any) *frameError {
	if len(raw) > rawKeep {
		raw = raw[:rawKeep]
	}
	return &frameError{reason: reason, detail: fmt.Sprintf(format, args...), raw: bytes.Clone(raw)}
}

// errBlank reports a blank non-transparent frame, which Next skips.
var errBlank = errors.New("blank frame")

// frameReader splits a TCP or TLS byte stream into syslog messages as RFC
// 6587 describes, detecting the framing of every frame on its own: a frame
// that starts with a run of at most maxCountDigits digits and a space is
// octet-counted ("MSG-LEN SP MSG"), any other frame is non-transparent and
// ends at LF (a CR before it is dropped) or at NUL. Blank lines between
// frames are skipped. A wrong count is resynchronised on naturally: the
// bytes after the counted ones start the next frame. The frames and
// rejects are the same however the stream is split into reads.
//
// Next is restartable: when the underlying Read fails with a timeout, Next
// returns that error with all state kept, and a later call continues where
// the last one stopped. Any other read error is sticky.
type frameReader struct {
	r     io.Reader
	max   int // largest message accepted
	limit int // largest buffer: max + headerRoom
	buf   []byte
	head  int // buffered, unconsumed bytes are buf[head:tail]
	tail  int
	err   error // sticky read error (io.EOF, connection closed, ...)

	// State of an oversized frame being discarded across calls.
	skip     int64       // octet-counted bytes still to drop
	skipLine bool        // dropping a non-transparent frame up to its terminator
	pending  *frameError // reported once the discarding is done
}

// newFrameReader returns a reader of frames of at most max bytes from r.
func newFrameReader(r io.Reader, max int) *frameReader {
	limit := max + headerRoom
	return &frameReader{r: r, max: max, limit: limit, buf: make([]byte, min(minFrameBuf, limit))}
}

// Next returns the next message, without its framing. The slice is valid
// until the next call. A *frameError means a frame was rejected and
// skipped; any other error comes from the underlying reader (io.EOF at the
// end of the stream).
func (f *frameReader) Next() ([]byte, error) {
	for {
		if f.skip > 0 || f.skipLine {
			if err := f.discard(); err != nil {
				return nil, err
			}
			e := f.pending
			f.pending = nil
			return nil, e
		}
		if f.head == f.tail {
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		frame, err := f.frame()
		if err == errBlank {
			continue
		}
		return frame, err
	}
}

// frame reads the frame that starts at f.head, choosing its framing.
func (f *frameReader) frame() ([]byte, error) {
	for {
		b := f.buf[f.head:f.tail]
		if b[0] < '0' || b[0] > '9' {
			return f.line()
		}
		digits := 0
		for digits < len(b) && b[digits] >= '0' && b[digits] <= '9' {
			digits++
		}
		switch {
		case digits > maxCountDigits:
			return f.line() // too long for a count: the frame is a line
		case digits < len(b) && b[digits] != ' ':
			return f.line()
		case digits < len(b):
			return f.octets(parseCount(b[:digits]), digits+1)
		}
		if err := f.fill(); err != nil {
			if err == io.EOF {
				return f.line()
			}
			return nil, err
		}
	}
}

// parseCount reads a run of at most maxCountDigits decimal digits.
func parseCount(d []byte) int64 {
	var n int64
	for _, c := range d {
		n = n*10 + int64(c-'0')
	}
	return n
}

// octets reads an octet-counted frame of n bytes after a header of hdr
// bytes.
func (f *frameReader) octets(n int64, hdr int) ([]byte, error) {
	if n == 0 {
		f.head += hdr
		return nil, newFrameError(parse.ReasonEmpty, nil, "octet-counted frame of length 0")
	}
	if n > int64(f.max) {
		f.head += hdr
		end := f.head + int(min(n, rawKeep))
		f.pending = newFrameError(parse.ReasonOversized, f.buf[f.head:min(f.tail, end)],
			"octet-counted frame of %d bytes exceeds the limit of %d", n, f.max)
		f.skip = n
		return nil, errBlank // Next discards the frame and reports f.pending
	}
	size := hdr + int(n)
	for f.tail-f.head < size {
		if err := f.fill(); err != nil {
			if err != io.EOF {
				return nil, err
			}
			got := f.tail - f.head - hdr
			raw := f.buf[f.head+hdr : f.tail]
			f.head = f.tail
			return nil, newFrameError(parse.ReasonBadSyslog, raw,
				"stream ended inside an octet-counted frame after %d of %d bytes", got, n)
		}
	}
	frame := trimTrailer(f.buf[f.head+hdr : f.head+size])
	f.head += size
	if len(frame) == 0 {
		return nil, newFrameError(parse.ReasonEmpty, nil, "octet-counted frame holds only a line terminator")
	}
	return frame, nil
}

// line reads a non-transparent frame, ending at LF or NUL or, for the last
// frame of a stream, at its end.
func (f *frameReader) line() ([]byte, error) {
	scanned := 0
	for {
		b := f.buf[f.head:f.tail]
		if i := indexTerm(b[scanned:]); i >= 0 {
			end := scanned + i
			f.head += end + 1
			return f.checkLine(trimCR(b[:end]))
		}
		scanned = len(b)
		if len(b) > f.max+1 {
			f.pending = newFrameError(parse.ReasonOversized, b,
				"frame exceeds the limit of %d bytes with no line terminator", f.max)
			f.head = f.tail
			f.skipLine = true
			return nil, errBlank // Next discards the rest and reports f.pending
		}
		if err := f.fill(); err != nil {
			if err == io.EOF && len(b) > 0 {
				f.head = f.tail
				return f.checkLine(trimCR(b))
			}
			return nil, err
		}
	}
}

// checkLine applies the size limit to a terminated line; blank lines are
// skipped.
func (f *frameReader) checkLine(b []byte) ([]byte, error) {
	switch {
	case len(b) == 0:
		return nil, errBlank
	case len(b) > f.max:
		return nil, newFrameError(parse.ReasonOversized, b,
			"frame of %d bytes exceeds the limit of %d", len(b), f.max)
	}
	return b, nil
}

// discard drops the rest of an oversized frame.
func (f *frameReader) discard() error {
	for f.skip > 0 || f.skipLine {
		if f.head == f.tail {
			f.head, f.tail = 0, 0
			if err := f.fill(); err != nil {
				if err == io.EOF {
					f.skip, f.skipLine = 0, false
					return nil
				}
				return err
			}
		}
		b := f.buf[f.head:f.tail]
		if f.skip > 0 {
			k := min(int64(len(b)), f.skip)
			f.head += int(k)
			f.skip -= k
			continue
		}
		if i := indexTerm(b); i >= 0 {
			f.head += i + 1
			f.skipLine = false
		} else {
			f.head = f.tail
		}
	}
	return nil
}

// fill reads more data into the buffer, making room first. It returns nil
// when at least one byte arrived.
func (f *frameReader) fill() error {
	if f.err != nil {
		return f.err
	}
	if f.tail == len(f.buf) {
		if err := f.makeRoom(); err != nil {
			return err
		}
	}
	for range maxEmptyReads {
		n, err := f.r.Read(f.buf[f.tail:])
		f.tail += n
		if err != nil && !isTimeout(err) {
			f.err = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	f.err = io.ErrNoProgress
	return f.err
}

// makeRoom moves the buffered bytes to the front of the buffer or, when
// they already start there, grows it up to the limit.
func (f *frameReader) makeRoom() error {
	if f.head > 0 {
		n := copy(f.buf, f.buf[f.head:f.tail])
		f.head, f.tail = 0, n
		return nil
	}
	if len(f.buf) >= f.limit {
		return fmt.Errorf("syslog framing: buffer of %d bytes is full", len(f.buf))
	}
	nb := make([]byte, min(2*len(f.buf), f.limit))
	f.tail = copy(nb, f.buf[f.head:f.tail])
	f.head = 0
	f.buf = nb
	return nil
}

// indexTerm returns the index of the first LF or NUL in b, or -1.
func indexTerm(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	search := b
	if i >= 0 {
		search = b[:i]
	}
	if j := bytes.IndexByte(search, 0); j >= 0 {
		return j
	}
	return i
}

// trimCR drops one trailing CR.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// trimTrailer drops a trailing line terminator (LF, CR LF or NUL) that a
// sender included in an octet-counted frame or a datagram.
func trimTrailer(b []byte) []byte {
	if n := len(b); n > 0 && (b[n-1] == '\n' || b[n-1] == 0) {
		b = b[:n-1]
	}
	return trimCR(b)
}

// isTimeout reports whether err is a read deadline expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
