package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphQLServer is a small OpenCTI-like GraphQL endpoint for the tests:
// POST /graphql with a bearer token, answering the indicators query with
// first/after paging over indicators ordered by updated_at, and the
// updated_at "gt" filter of OpenCTI filter groups.
type graphQLServer struct {
	token string

	mu    sync.Mutex
	nodes []map[string]any
	posts int
}

// put adds or replaces an indicator node by id.
func (s *graphQLServer) put(node map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, n := range s.nodes {
		if n["id"] == node["id"] {
			s.nodes[i] = node
			return
		}
	}
	s.nodes = append(s.nodes, node)
}

func (s *graphQLServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		http.Error(w, `{"errors":[{"message":"You must be logged in to do this."}]}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	first, start, since, msg := parseIndicatorsQuery(r)
	if msg != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"message": msg}}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts++
	var match []map[string]any
	for _, n := range s.nodes {
		u, _ := time.Parse(time.RFC3339Nano, n["updated_at"].(string))
		if u.After(since) {
			match = append(match, n)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i]["updated_at"].(string) < match[j]["updated_at"].(string) })
	end := min(start+first, len(match))
	edges := []map[string]any{}
	for i := min(start, end); i < end; i++ {
		edges = append(edges, map[string]any{"cursor": "cursor-" + strconv.Itoa(i), "node": match[i]})
	}
	endCursor := ""
	if end > start {
		endCursor = "cursor-" + strconv.Itoa(end-1)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"indicators": map[string]any{
		"edges": edges, "pageInfo": map[string]any{"endCursor": endCursor, "hasNextPage": end < len(match)}}}})
}

// parseIndicatorsQuery reads the indicators query of a request: the page
// size, the index of the first node (after the "after" cursor) and the
// updated_at filter; msg is a GraphQL error message for a bad request.
func parseIndicatorsQuery(r *http.Request) (first, start int, since time.Time, msg string) {
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			First   int     `json:"first"`
			After   *string `json:"after"`
			Filters *struct {
				Filters []struct {
					Key      []string `json:"key"`
					Values   []string `json:"values"`
					Operator string   `json:"operator"`
				} `json:"filters"`
			} `json:"filters"`
		} `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
		return 0, 0, since, "bad request"
	}
	if !strings.Contains(req.Query, "indicators(first: $first, after: $after") || req.Variables.First < 1 {
		return 0, 0, since, "unknown query or missing first"
	}
	if f := req.Variables.Filters; f != nil {
		if len(f.Filters) != 1 || len(f.Filters[0].Key) != 1 || f.Filters[0].Key[0] != "updated_at" ||
			f.Filters[0].Operator != "gt" || len(f.Filters[0].Values) != 1 {
			return 0, 0, since, "unsupported filter"
		}
		var err error
		if since, err = time.Parse(time.RFC3339Nano, f.Filters[0].Values[0]); err != nil {
			return 0, 0, since, "bad date"
		}
	}
	if req.Variables.After != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*req.Variables.After, "cursor-"))
		if err != nil || n < 0 {
			return 0, 0, since, "bad cursor"
		}
		start = n + 1
	}
	return req.Variables.First, start, since, ""
}

// octiNode builds an OpenCTI indicator node.
func octiNode(n int, pattern, patternType, updated string) map[string]any {
	id := fmt.Sprintf("%012d", n)
	return map[string]any{"id": "internal-" + id, "standard_id": "indicator--00000000-0000-4000-8000-" + id,
		"name": pattern, "description": "", "pattern": pattern, "pattern_type": patternType,
		"valid_from": "2024-01-01T00:00:00.000Z", "valid_until": "2030-01-01T00:00:00.000Z", "revoked": false,
		"confidence": 70, "x_opencti_score": 50, "indicator_types": []string{"malicious-activity"},
		"updated_at": updated, "objectLabel": []map[string]string{{"value": "c2"}}}
}

func TestOpenCTIGraphQL(t *testing.T) {
	t.Parallel()
	gs := &graphQLServer{token: "octi-token"}
	gs.put(octiNode(1, "[ipv4-addr:value = '192.0.2.1']", "stix", "2024-11-01T10:00:00.000Z"))
	gs.put(octiNode(2, "[domain-name:value = 'evil.example']", "stix", "2024-11-01T10:00:01.000Z"))
	gs.put(octiNode(3, "title: x\ndetection: y", "sigma", "2024-11-01T10:00:02.000Z"))
	gs.put(octiNode(4, "[process:name = 'x']", "stix", "2024-11-01T10:00:03.000Z"))
	scoreOnly := octiNode(5, "[url:value = 'http://evil.example/a']", "stix", "2024-11-01T10:00:04.000Z")
	scoreOnly["confidence"] = nil
	gs.put(scoreOnly)
	srv := httptest.NewServer(gs)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	newSrc := func(token string) *OpenCTI {
		src, err := New(Config{Name: "octi", Kind: KindOpenCTI, URL: srv.URL + "/", Token: token, PageSize: 2},
			Options{Client: srv.Client(), CompilePattern: compileTestPattern})
		if err != nil {
			t.Fatal(err)
		}
		return src.(*OpenCTI)
	}
	if _, err := newSrc("wrong").Fetch(ctx, ""); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("wrong token: %v", err)
	}
	src := newSrc("octi-token")
	b1, err := src.Fetch(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip:192.0.2.1", "domain:evil.example", "url:http://evil.example/a"}
	if !b1.Full || !slices.Equal(values(b1.Indicators), want) || b1.Cursor != "2024-11-01T10:00:04.000Z" || len(b1.Problems) != 2 {
		t.Fatalf("first fetch %+v", b1)
	}
	if !strings.Contains(b1.Problems[0].Reason, `pattern_type "sigma"`) || !strings.Contains(b1.Problems[1].Reason, "unsupported pattern") {
		t.Errorf("problems %v", b1.Problems)
	}
	ip := b1.Indicators[0]
	if ip.ID != "indicator--00000000-0000-4000-8000-000000000001" || ip.Confidence != 70 ||
		!ip.ValidUntil.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!slices.Equal(ip.Tags, []string{"malicious-activity", "c2"}) || !ip.C2() || b1.Indicators[2].Confidence != 50 {
		t.Errorf("indicator details %+v / %+v", ip, b1.Indicators[2])
	}
	b2, err := src.Fetch(ctx, b1.Cursor)
	if err != nil || b2.Full || len(b2.Indicators)+len(b2.Problems) != 0 || b2.Cursor != b1.Cursor {
		t.Fatalf("unchanged fetch %+v, %v", b2, err)
	}
	revoked := octiNode(1, "[ipv4-addr:value = '192.0.2.1']", "stix", "2024-11-02T00:00:00.000Z")
	revoked["revoked"] = true
	gs.put(revoked)
	b3, err := src.Fetch(ctx, b2.Cursor)
	if err != nil || b3.Full || len(b3.Indicators) != 1 || !b3.Indicators[0].Revoked || b3.Cursor != "2024-11-02T00:00:00.000Z" {
		t.Fatalf("update fetch %+v, %v", b3, err)
	}
	gs.mu.Lock()
	posts := gs.posts
	gs.mu.Unlock()
	if posts != 5 { // 3 pages of 2, then 1 empty page, then 1 page
		t.Errorf("%d GraphQL posts, want 5", posts)
	}
}

func TestOpenCTIGraphQLErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":null,"errors":[{"message":"Unknown argument orderBy"}]}`))
	}))
	t.Cleanup(srv.Close)
	src := &OpenCTI{URL: srv.URL, HTTP: &HTTP{Client: srv.Client(), Token: "x"}, Compile: compileTestPattern}
	if _, err := src.Fetch(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "Unknown argument orderBy") {
		t.Errorf("GraphQL error: %v", err)
	}
	if _, err := (&OpenCTI{URL: srv.URL, HTTP: &HTTP{}}).Fetch(context.Background(), ""); err == nil {
		t.Error("a source without a compiler fetched")
	}
}
