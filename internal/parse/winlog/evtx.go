package winlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"www.velocidex.com/golang/evtx"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/schema"
)

// EVTX layout constants (MS-EVEN6 / libevtx documentation).
const (
	fileMagic      = "ElfFile\x00"
	chunkMagic     = "ElfChnk\x00"
	recordMagic    = "\x2a\x2a\x00\x00"
	chunkSize      = evtx.EVTX_CHUNK_SIZE
	chunkHeaderLen = evtx.EVTX_CHUNK_HEADER_SIZE
	minRecordSize  = recordHeader + 4 // header, empty body, size copy
	freeSpaceOff   = 0x30             // chunk header: offset of free space
)

// ReadEVTX calls fn for every record of an .evtx file; a record that cannot
// be decoded is reported through bad(err) (a *parse.Error with
// ReasonBadEVTX) and skipped. It returns a *parse.Error when r is not an
// EVTX file, the error of fn when fn fails, ctx's error when ctx ends, and
// other errors for I/O failures.
func ReadEVTX(ctx context.Context, r io.ReadSeeker, received time.Time,
	fn func(ev *schema.Event) error, bad func(err error)) error {
	var hdr evtx.EVTXHeader
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("evtx: seek: %w", err)
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return parse.Errorf(parse.ReasonBadEVTX, "evtx: file too short for an EVTX header")
		}
		return fmt.Errorf("evtx: read header: %w", err)
	}
	if string(hdr.Magic[:]) != fileMagic {
		return parse.Errorf(parse.ReasonBadEVTX, "evtx: not an EVTX file (no ElfFile signature)")
	}
	if hdr.MajorVersion != 3 || hdr.MinorVersion > 2 {
		return parse.Errorf(parse.ReasonBadEVTX, "evtx: unsupported version %d.%d", hdr.MajorVersion, hdr.MinorVersion)
	}
	cr := chunkReader{received: received, fn: fn, bad: bad}
	buf := make([]byte, chunkSize)
	for off := int64(hdr.HeaderBlockSize); ; off += chunkSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("evtx: seek chunk at %d: %w", off, err)
		}
		n, err := io.ReadFull(r, buf)
		if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("evtx: read chunk at %d: %w", off, err)
		}
		clear(buf[n:])
		if err := cr.chunk(buf, n, off); err != nil {
			return err
		}
		if n < chunkSize {
			return nil
		}
	}
}

// chunkReader decodes the chunks of one file.
type chunkReader struct {
	received time.Time
	fn       func(ev *schema.Event) error
	bad      func(err error)
}

func (cr *chunkReader) reject(format string, args ...any) {
	if cr.bad != nil {
		cr.bad(parse.Errorf(parse.ReasonBadEVTX, format, args...))
	}
}

// chunk decodes one chunk; buf holds n bytes of data (zero padded).
func (cr *chunkReader) chunk(buf []byte, n int, fileOff int64) error {
	if string(buf[:8]) != chunkMagic {
		if !allZero(buf[:n]) {
			cr.reject("evtx: chunk at offset %d has no ElfChnk signature", fileOff)
		}
		return nil
	}
	var hdr evtx.ChunkHeader
	_ = binary.Read(bytes.NewReader(buf), binary.LittleEndian, &hdr)
	limit := min(n, chunkSize)
	if fs := int(binary.LittleEndian.Uint32(buf[freeSpaceOff:])); fs >= chunkHeaderLen && fs < limit {
		limit = fs
	}
	w := newWalker(buf, n)
	starts, ok := cr.scanRecords(buf, limit, fileOff)
	if want := hdr.LastEventRecNumber - hdr.FirstEventRecNumber + 1; ok && hdr.LastEventRecNumber >= hdr.FirstEventRecNumber &&
		want > uint64(len(starts)) && want < chunkSize/minRecordSize {
		cr.reject("evtx: chunk at offset %d announces %d records, %d are readable", fileOff, want, len(starts))
	}
	blank := make([]bool, len(starts))
	for i, s := range starts {
		size := int(binary.LittleEndian.Uint32(buf[s+4:]))
		if err := w.record(s, s+size); err != nil {
			blank[i] = true
			buf[s+recordHeader] = 0 // the decoder sees an empty record
			cr.reject("evtx: record %d (chunk at offset %d): %v", binary.LittleEndian.Uint64(buf[s+8:]), fileOff, err)
		}
	}
	if len(starts) == 0 {
		return nil
	}
	records, err := decodeChunk(buf, hdr, len(starts))
	if err != nil {
		cr.reject("evtx: chunk at offset %d: %v", fileOff, err)
		return nil
	}
	if len(records) < len(starts) {
		cr.reject("evtx: chunk at offset %d: the decoder returned %d of %d records", fileOff, len(records), len(starts))
	}
	conv := treeConv{types: w.types}
	for i, rec := range records {
		if i >= len(blank) || blank[i] {
			continue
		}
		if err := cr.emit(&conv, rec); err != nil {
			return err
		}
	}
	return nil
}

// scanRecords returns the offsets of the records of a chunk, in order,
// stopping at the first one whose header is not sound. ok is false when it
// stopped early.
func (cr *chunkReader) scanRecords(buf []byte, limit int, fileOff int64) ([]int, bool) {
	var starts []int
	for off := chunkHeaderLen; off+minRecordSize <= limit; {
		if string(buf[off:off+4]) != recordMagic {
			if !allZero(buf[off:limit]) {
				cr.reject("evtx: chunk at offset %d: no record signature at 0x%x", fileOff, off)
				return starts, false
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(buf[off+4:]))
		if size < minRecordSize || off+size > limit || int(binary.LittleEndian.Uint32(buf[off+size-4:])) != size {
			cr.reject("evtx: chunk at offset %d: record at 0x%x has a bad size %d", fileOff, off, size)
			return starts, false
		}
		starts = append(starts, off)
		off += size
	}
	return starts, true
}

// decodeChunk runs the velocidex decoder over the first n records of the
// prepared chunk. A panic in the decoder is turned into an error.
func decodeChunk(buf []byte, hdr evtx.ChunkHeader, n int) (recs []*evtx.EventRecord, err error) {
	defer func() {
		if p := recover(); p != nil {
			recs, err = nil, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	hdr.FirstEventRecNumber, hdr.LastEventRecNumber = 1, uint64(n)
	c := &evtx.Chunk{Header: hdr, Offset: 0, Fd: bytes.NewReader(buf)}
	return c.Parse(0)
}

// emit converts one decoded record and hands it to fn.
func (cr *chunkReader) emit(conv *treeConv, rec *evtx.EventRecord) error {
	r, err := conv.record(rec.Event)
	var ev schema.Event
	if err == nil {
		err = r.build(&ev, schema.InputEVTX, cr.received, "")
	}
	if err != nil {
		cr.reject("evtx: record %d: %v", rec.Header.RecordID, err)
		return nil
	}
	if err := cr.fn(&ev); err != nil {
		return fmt.Errorf("evtx: record %d: %w", rec.Header.RecordID, err)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
