package feed

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// taxiiServer is a small TAXII 2.1 server for the tests: a discovery
// document, one API root, a collection list and the objects endpoint with
// added_after, limit, next/more, match[type] and the X-TAXII-Date-Added
// headers, behind basic or bearer authentication. Objects are kept in the
// order they were added, with their date added.
type taxiiServer struct {
	// root is the API root path ("/api1/", or "/taxii2/root/" for the
	// OpenCTI layout).
	root string
	// user/pass or token are the credentials it accepts.
	user, pass, token string
	// maxPage caps the page size whatever the client asks.
	maxPage int
	// noNext leaves "next" out, as servers that expect the client to go
	// on with added_after do.
	noNext bool

	mu       sync.Mutex
	objects  []taxiiObject
	requests []string
}

// taxiiObject is one stored object with its date added.
type taxiiObject struct {
	added time.Time
	typ   string
	raw   json.RawMessage
}

// Fixture collection ids.
const (
	taxiiCollection  = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	taxiiWriteOnly   = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
	taxiiTimeLayout  = "2006-01-02T15:04:05.000Z"
	taxiiContentType = "application/taxii+json;version=2.1"
)

// add stores an object added at t.
func (s *taxiiServer) add(t time.Time, obj map[string]any) {
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(err) // fixture objects always marshal
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = append(s.objects, taxiiObject{added: t.UTC(), typ: obj["type"].(string), raw: raw})
	sort.SliceStable(s.objects, func(i, j int) bool { return s.objects[i].added.Before(s.objects[j].added) })
}

// log returns the requests served so far.
func (s *taxiiServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// indicatorObject builds a STIX indicator.
func indicatorObject(id, pattern string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--" + id,
		"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "pattern": pattern,
		"pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", "labels": []string{"malicious-activity"}}
}

func (s *taxiiServer) authorized(r *http.Request) bool {
	if s.token != "" {
		return r.Header.Get("Authorization") == "Bearer "+s.token
	}
	u, p, ok := r.BasicAuth()
	return ok && u == s.user && p == s.pass
}

func (s *taxiiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	s.mu.Unlock()
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="taxii"`)
		writeTAXIIError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/taxii+json") || !strings.Contains(a, "version=2.1") {
		writeTAXIIError(w, http.StatusNotAcceptable, "only "+taxiiContentType)
		return
	}
	switch r.URL.Path {
	case "/taxii2/":
		s.write(w, nil, map[string]any{"title": "Vigil test TAXII", "default": s.root,
			"api_roots": []string{s.root, "/other-root/"}})
	case s.root:
		s.write(w, nil, map[string]any{"title": "Test root", "versions": []string{taxiiContentType},
			"max_content_length": 10 << 20})
	case s.root + "collections/":
		s.write(w, nil, map[string]any{"collections": []map[string]any{
			{"id": taxiiCollection, "title": "Indicators", "can_read": true, "can_write": false},
			{"id": taxiiWriteOnly, "title": "Submissions", "can_read": false, "can_write": true},
		}})
	case s.root + "collections/" + taxiiCollection + "/objects/":
		s.objectsPage(w, r)
	default:
		writeTAXIIError(w, http.StatusNotFound, "no such resource")
	}
}

// objectsPage serves one page of the collection's objects.
func (s *taxiiServer) objectsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after time.Time
	if v := q.Get("added_after"); v != "" {
		var err error
		if after, err = time.Parse(time.RFC3339Nano, v); err != nil {
			writeTAXIIError(w, http.StatusBadRequest, "bad added_after")
			return
		}
	}
	limit := s.maxPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeTAXIIError(w, http.StatusBadRequest, "bad limit")
			return
		}
		limit = min(n, s.maxPage)
	}
	offset := 0
	if v := q.Get("next"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "page-"))
		if err != nil || n < 0 {
			writeTAXIIError(w, http.StatusBadRequest, "bad next")
			return
		}
		offset = n
	}
	types := map[string]bool{}
	for _, t := range strings.Split(q.Get("match[type]"), ",") {
		if t != "" {
			types[t] = true
		}
	}
	s.mu.Lock()
	var match []taxiiObject
	for _, o := range s.objects {
		if o.added.After(after) && (len(types) == 0 || types[o.typ]) {
			match = append(match, o)
		}
	}
	s.mu.Unlock()
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	env := map[string]any{"more": offset+limit < len(match)}
	if offset+limit < len(match) && !s.noNext {
		env["next"] = fmt.Sprintf("page-%d", offset+limit)
	}
	objs := make([]json.RawMessage, len(page))
	hdr := http.Header{}
	for i, o := range page {
		objs[i] = o.raw
	}
	if len(page) > 0 {
		env["objects"] = objs
		hdr.Set("X-TAXII-Date-Added-First", page[0].added.Format(taxiiTimeLayout))
		hdr.Set("X-TAXII-Date-Added-Last", page[len(page)-1].added.Format(taxiiTimeLayout))
	}
	s.write(w, hdr, env)
}

func (s *taxiiServer) write(w http.ResponseWriter, hdr http.Header, v any) {
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", taxiiContentType)
	_ = json.NewEncoder(w).Encode(v)
}

func writeTAXIIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", taxiiContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "description": msg})
}

// newTAXIIFixture returns a server holding five objects added a minute
// apart from t0: three readable indicators, one malware object and one
// indicator whose pattern the test converter does not read.
func newTAXIIFixture(t *testing.T, root, token string) *taxiiServer {
	t.Helper()
	s := &taxiiServer{root: root, user: "analyst", pass: "pw", token: token, maxPage: 2}
	t0 := time.Date(2024, 11, 1, 12, 0, 0, 0, time.UTC)
	s.add(t0, indicatorObject("00000000-0000-4000-8000-000000000001", "[ipv4-addr:value = '192.0.2.1']"))
	s.add(t0.Add(time.Minute), indicatorObject("00000000-0000-4000-8000-000000000002", "[domain-name:value = 'evil.example']"))
	s.add(t0.Add(2*time.Minute), map[string]any{"type": "malware", "spec_version": "2.1",
		"id": "malware--00000000-0000-4000-8000-000000000003", "name": "Poison Ivy", "is_family": true})
	s.add(t0.Add(3*time.Minute), indicatorObject("00000000-0000-4000-8000-000000000004",
		"[file:hashes.'SHA-256' = 'aa'] AND [process:name = 'x']"))
	s.add(t0.Add(4*time.Minute), indicatorObject("00000000-0000-4000-8000-000000000005", "[url:value = 'http://evil.example/x']"))
	return s
}
