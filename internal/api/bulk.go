package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-soc/vigil/internal/parse"
	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
)

// The Elasticsearch bulk API, as Beats, Fluent Bit, Vector and Logstash
// speak it: NDJSON pairs of an action line and a document line. index and
// create are accepted; update and delete make no sense for an append-only
// event log and get per-item errors, as do malformed lines. The response
// has Elasticsearch's shape, items in request order.

type bulkItemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

type bulkItem struct {
	Index   string         `json:"_index"`
	ID      string         `json:"_id"`
	Version int            `json:"_version,omitempty"`
	Result  string         `json:"result,omitempty"`
	Status  int            `json:"status"`
	Error   *bulkItemError `json:"error,omitempty"`
}

type bulkResponse struct {
	Took   int64                 `json:"took"`
	Errors bool                  `json:"errors"`
	Items  []map[string]bulkItem `json:"items"`
}

// bulkAction is one parsed action line.
type bulkAction struct {
	op, index, id string
}

func parseAction(p *fastjson.Parser, line []byte, defIndex string) (bulkAction, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		return bulkAction{}, parse.Errorf(parse.ReasonBadBulkAction, "action line is not JSON: %v", err)
	}
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return bulkAction{}, parse.Errorf(parse.ReasonBadBulkAction, "action line must be an object with one key")
	}
	var a bulkAction
	o.Visit(func(k []byte, meta *fastjson.Value) {
		a.op = string(k)
		a.index = string(meta.GetStringBytes("_index"))
		a.id = string(meta.GetStringBytes("_id"))
	})
	if a.index == "" {
		a.index = defIndex
	}
	switch a.op {
	case "index", "create", "update", "delete":
		return a, nil
	}
	return a, parse.Errorf(parse.ReasonBadBulkAction, "unknown bulk action %q", a.op)
}

func newDocID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// handleBulk serves POST /_bulk and POST /{index}/_bulk.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	const input = schema.InputBulk
	start := time.Now()
	if s.sink.Overloaded() {
		s.inputs.Refused.WithLabelValues(input).Inc()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, esError("es_rejected_execution_exception", "consumers are behind; retry later", 429))
		return
	}
	body, err := s.readBody(r)
	if err != nil {
		s.rejectBody(w, r, input, err)
		return
	}
	lines := bytes.Split(body, []byte{'\n'})
	resp := bulkResponse{Items: make([]map[string]bulkItem, 0, len(lines)/2)}
	evs := make([]schema.Event, 0, len(lines)/2)
	var p fastjson.Parser
	m := s.mappers.Get().(*auto.Mapper)
	defer s.mappers.Put(m)
	received := time.Now().UTC()
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		s.inputs.Received.WithLabelValues(input).Inc()
		a, err := parseAction(&p, line, r.PathValue("index"))
		if err != nil {
			s.bulkReject(r, &resp, a, line, i+1, err)
			continue
		}
		if a.op == "delete" {
			s.bulkReject(r, &resp, a, line, i+1, parse.Errorf(parse.ReasonBadBulkAction, "delete is not supported: the event log is append-only"))
			continue
		}
		i++ // the document line
		var doc []byte
		if i < len(lines) {
			doc = bytes.TrimSpace(lines[i])
		}
		if a.op == "update" {
			s.bulkReject(r, &resp, a, doc, i+1, parse.Errorf(parse.ReasonBadBulkAction, "update is not supported: the event log is append-only"))
			continue
		}
		evs = append(evs, schema.Event{})
		err = parse.CheckRecord(doc, s.cfg.MaxEventBytes)
		if err == nil {
			err = m.MapJSON(doc, auto.FormatAuto, input, "", received, &evs[len(evs)-1])
		}
		if err != nil {
			evs = evs[:len(evs)-1]
			s.bulkReject(r, &resp, a, doc, i+1, err)
			continue
		}
		if a.id == "" {
			a.id = newDocID()
		}
		resp.Items = append(resp.Items, map[string]bulkItem{a.op: {Index: a.index, ID: a.id, Version: 1,
			Result: "created", Status: http.StatusCreated}})
	}
	if !s.submit(r.Context(), w, input, r.Header.Get("Idempotency-Key"), evs) {
		return
	}
	resp.Took = time.Since(start).Milliseconds()
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) bulkReject(r *http.Request, resp *bulkResponse, a bulkAction, raw []byte, n int, err error) {
	var ir ingestResponse
	s.rejectLine(r, schema.InputBulk, raw, n, err, &ir)
	op := a.op
	if op == "" {
		op = "index"
	}
	typ := "mapper_parsing_exception"
	if parse.Reason(err) == parse.ReasonBadBulkAction {
		typ = "illegal_argument_exception"
	}
	resp.Errors = true
	resp.Items = append(resp.Items, map[string]bulkItem{op: {Index: a.index, ID: a.id, Status: http.StatusBadRequest,
		Error: &bulkItemError{Type: typ, Reason: err.Error()}}})
}

// esError is Elasticsearch's error body shape.
func esError(typ, reason string, status int) map[string]any {
	return map[string]any{"error": map[string]any{"type": typ, "reason": reason,
		"root_cause": []map[string]string{{"type": typ, "reason": reason}}}, "status": status}
}

// handleESInfo answers GET / the way Elasticsearch does, so shippers that
// check the cluster version before sending accept Vigil.
func (s *Server) handleESInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "vigil", "cluster_name": "vigil", "cluster_uuid": "vigil",
		"version": map[string]any{"number": "8.11.0", "build_flavor": "default",
			"lucene_version": "9.8.0", "minimum_wire_compatibility_version": "7.17.0",
			"minimum_index_compatibility_version": "7.0.0"},
		"tagline": "You Know, for Search",
	})
}

// handleESAccept answers the setup calls shippers make (index templates,
// ILM policies, ingest pipelines, licence checks) with success: Vigil
// normalises events itself and needs none of them.
func (s *Server) handleESAccept(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
}
