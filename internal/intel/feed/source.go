package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-soc/vigil/internal/intel"
)

// ReadFunc reads one document of a feed; name locates its Problems.
type ReadFunc func(r io.Reader, name string) ([]intel.Indicator, []intel.Problem, error)

// ListReader returns the ReadFunc of plain lists with a fixed type ("" to
// detect it per line).
func ListReader(t intel.Type) ReadFunc {
	return func(r io.Reader, name string) ([]intel.Indicator, []intel.Problem, error) {
		return ReadList(r, ListOptions{Name: name, Type: t})
	}
}

// CSVReader returns the ReadFunc of CSV feeds with opts (its Name is set
// per document).
func CSVReader(opts CSVOptions) ReadFunc {
	return func(r io.Reader, name string) ([]intel.Indicator, []intel.Problem, error) {
		o := opts
		o.Name = name
		return ReadCSV(r, o)
	}
}

// MISPEventReader is the ReadFunc of single MISP event files.
func MISPEventReader(r io.Reader, name string) ([]intel.Indicator, []intel.Problem, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return ReadMISPEvent(data, name)
}

// DocumentSource is a Source over one document (a plain list, a CSV file,
// a MISP event) read whole on every change. Every batch is Full. The
// cursor holds the document's HTTP validators (ETag, Last-Modified), file
// modification time and size, and content hash: when the server answers
// 304, the file is untouched or the content is byte-identical, the batch
// is empty, not Full, and keeps the cursor.
//
// A document in which no line gives an indicator but some give Problems
// (an HTML error page served with status 200, a wrong column mapping) is
// an error rather than a Full batch that would withdraw every indicator.
type DocumentSource struct {
	Doc  *Document
	Read ReadFunc
}

// Fetch implements intel.Source.
func (s *DocumentSource) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	body, cur, err := s.Doc.Fetch(ctx, cursor)
	if errors.Is(err, ErrUnchanged) {
		s.Doc.HTTP.logger().Debug("intel feed unchanged", "feed", s.Doc.Name())
		return intel.Batch{Cursor: cur}, nil
	}
	if err != nil {
		return intel.Batch{}, err
	}
	ins, probs, err := s.Read(bytes.NewReader(body), s.Doc.Name())
	if err != nil {
		return intel.Batch{}, err
	}
	if len(ins) == 0 && len(probs) > 0 {
		return intel.Batch{}, fmt.Errorf("intel feed %s: no valid indicator, %d problems, the first %s",
			s.Doc.Name(), len(probs), probs[0])
	}
	s.Doc.HTTP.logger().Debug("intel feed read", "feed", s.Doc.Name(), "indicators", len(ins), "problems", len(probs))
	return intel.Batch{Indicators: ins, Problems: probs, Full: true, Cursor: cur}, nil
}

// Defaults fill in what a feed's records leave out.
type Defaults struct {
	// Confidence replaces an unknown (-1) confidence when it is 0..100;
	// -1 leaves it unknown.
	Confidence int
	// Threat fills an empty Threat.
	Threat string
	// Tags are added to every indicator.
	Tags []string
}

// WithDefaults wraps src so that every indicator it delivers gets d.
func WithDefaults(src intel.Source, d Defaults) intel.Source {
	if d.Confidence < 0 && d.Threat == "" && len(d.Tags) == 0 {
		return src
	}
	return &defaulted{src: src, d: d}
}

// defaulted applies Defaults to a source's batches.
type defaulted struct {
	src intel.Source
	d   Defaults
}

// Fetch implements intel.Source.
func (s *defaulted) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	b, err := s.src.Fetch(ctx, cursor)
	if err != nil {
		return b, err
	}
	for i := range b.Indicators {
		in := &b.Indicators[i]
		if in.Confidence < 0 && s.d.Confidence >= 0 {
			in.Confidence = s.d.Confidence
		}
		if in.Threat == "" {
			in.Threat = s.d.Threat
		}
		if len(s.d.Tags) > 0 {
			in.Tags = append([]string(nil), in.Tags...) // never write into a slice the reader may share
			for _, t := range s.d.Tags {
				in.Tags = appendTag(in.Tags, t)
			}
		}
	}
	return b, nil
}
