package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-soc/vigil/internal/ingest"
	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
)

// maxReportedErrors caps the per-line errors echoed in an ingest response.
const maxReportedErrors = 100

// lineError is one rejected line in an ingest response.
type lineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

type ingestResponse struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Errors   []lineError `json:"errors,omitempty"`
}

// readBody reads a request body, gunzipping it when it says so, capped at
// the configured size. Errors are *parse.Error with the reason to count.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxBodyBytes
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, limit+1)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, parse.Errorf(parse.ReasonBadGzip, "body is not valid gzip: %v", err)
		}
		defer zr.Close()
		rd = zr
	}
	body, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, parse.Errorf(parse.ReasonOversized, "body exceeds %d bytes", limit)
		case r.Header.Get("Content-Encoding") == "gzip":
			return nil, parse.Errorf(parse.ReasonBadGzip, "body is not valid gzip: %v", err)
		}
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, parse.Errorf(parse.ReasonOversized, "body exceeds %d bytes", limit)
	}
	return body, nil
}

func peerHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// rejectBody counts and records a request whose body could not be read.
func (s *Server) rejectBody(w http.ResponseWriter, r *http.Request, input string, err error) {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.rejects.Record(ingest.Reject{Time: time.Now().UTC(), Input: input, Source: peerHost(r),
		Reason: pe.Reason, Detail: pe.Error()})
	status := http.StatusBadRequest
	if pe.Reason == parse.ReasonOversized {
		status = http.StatusRequestEntityTooLarge
	}
	writeError(w, status, err)
}

// submit makes evs durable and maps the outcome to an HTTP status: 0 when
// they are durable, 429 under backpressure, 503 otherwise.
func (s *Server) submit(ctx context.Context, w http.ResponseWriter, input, key string, evs []schema.Event) bool {
	err := s.sink.SubmitID(ctx, key, evs)
	switch {
	case err == nil:
		s.inputs.Accepted.WithLabelValues(input).Add(float64(len(evs)))
		return true
	case errors.Is(err, ingest.ErrBackpressure):
		s.inputs.Refused.WithLabelValues(input).Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, err)
	default:
		s.log.Error("ingest failed", "input", input, "err", err)
		writeError(w, http.StatusServiceUnavailable, errors.New("ingest log unavailable; retry later"))
	}
	return false
}

// handleEvents takes NDJSON: one JSON object per line, in any shape Vigil
// recognises (generic/ECS, Winlogbeat, Suricata EVE, Zeek JSON). The
// response comes after every accepted event is durable.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	const input = schema.InputNDJSON
	if s.sink.Overloaded() {
		s.inputs.Refused.WithLabelValues(input).Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, ingest.ErrBackpressure)
		return
	}
	body, err := s.readBody(r)
	if err != nil {
		s.rejectBody(w, r, input, err)
		return
	}
	m := s.mappers.Get().(*auto.Mapper)
	defer s.mappers.Put(m)
	received := time.Now().UTC()
	evs := make([]schema.Event, 0, bytes.Count(body, []byte{'\n'})+1)
	var resp ingestResponse
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		s.inputs.Received.WithLabelValues(input).Inc()
		evs = append(evs, schema.Event{})
		err := parse.CheckRecord(line, s.cfg.MaxEventBytes)
		if err == nil {
			err = m.MapJSON(line, auto.FormatAuto, input, "", received, &evs[len(evs)-1])
		}
		if err != nil {
			evs = evs[:len(evs)-1]
			s.rejectLine(r, input, line, n, err, &resp)
		}
	}
	if !s.submit(r.Context(), w, input, r.Header.Get("Idempotency-Key"), evs) {
		return
	}
	resp.Accepted = len(evs)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) rejectLine(r *http.Request, input string, line []byte, n int, err error, resp *ingestResponse) {
	reason := parse.Reason(err)
	raw := line
	if len(raw) > 8<<10 {
		raw = raw[:8<<10]
	}
	s.rejects.Record(ingest.Reject{Time: time.Now().UTC(), Input: input, Source: peerHost(r),
		Reason: reason, Detail: "line " + strconv.Itoa(n) + ": " + err.Error(), Raw: append([]byte(nil), raw...)})
	resp.Rejected++
	if len(resp.Errors) < maxReportedErrors {
		resp.Errors = append(resp.Errors, lineError{Line: n, Reason: reason, Error: err.Error()})
	}
}
