package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// CompileFunc turns one STIX pattern into indicators; it is how the
// OpenCTI source uses the STIX pattern compiler without importing it.
type CompileFunc func(pattern string) ([]intel.Indicator, error)

// DefaultOpenCTIPageSize is the "first" of each OpenCTI GraphQL page.
const DefaultOpenCTIPageSize = 500

// maxOpenCTIPages bounds the pages of one fetch.
const maxOpenCTIPages = 100000

// openCTIQuery asks for one page of indicators, oldest update first.
const openCTIQuery = `query VigilIndicators($first: Int!, $after: ID, $filters: FilterGroup) {
  indicators(first: $first, after: $after, filters: $filters, orderBy: updated_at, orderMode: asc) {
    edges {
      cursor
      node {
        id
        standard_id
        name
        description
        pattern
        pattern_type
        valid_from
        valid_until
        revoked
        confidence
        x_opencti_score
        indicator_types
        updated_at
        objectLabel { value }
      }
    }
    pageInfo { endCursor hasNextPage }
  }
}`

// OpenCTI is a Source over the indicators of an OpenCTI platform through
// its GraphQL API (POST <url>/graphql with a bearer token). It pages with
// first/after, oldest update first, and compiles each STIX pattern with
// Compile; indicators of other pattern types (sigma, yara, ...) become
// Problems. The cursor is the newest updated_at delivered: the first fetch
// reads every indicator as a Full batch, later ones only those updated
// since (revocations and new validity included) as incremental batches.
// OpenCTI filter groups (version 5.12 and later) are used.
type OpenCTI struct {
	// URL is the platform's base URL; the API is at URL + "/graphql".
	URL string
	// PageSize is "first"; 0 means DefaultOpenCTIPageSize.
	PageSize int
	HTTP     *HTTP
	Compile  CompileFunc
	Logger   *slog.Logger
}

// openCTINode is one indicator of the GraphQL answer.
type openCTINode struct {
	ID             string   `json:"id"`
	StandardID     string   `json:"standard_id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     string   `json:"valid_until"`
	Revoked        bool     `json:"revoked"`
	Confidence     *int     `json:"confidence"`
	Score          *int     `json:"x_opencti_score"`
	IndicatorTypes []string `json:"indicator_types"`
	UpdatedAt      string   `json:"updated_at"`
	ObjectLabel    []struct {
		Value string `json:"value"`
	} `json:"objectLabel"`
}

// openCTIAnswer is a GraphQL answer to openCTIQuery.
type openCTIAnswer struct {
	Data struct {
		Indicators struct {
			Edges []struct {
				Node json.RawMessage `json:"node"`
			} `json:"edges"`
			PageInfo struct {
				EndCursor   string `json:"endCursor"`
				HasNextPage bool   `json:"hasNextPage"`
			} `json:"pageInfo"`
		} `json:"indicators"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// Fetch implements intel.Source.
func (o *OpenCTI) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	if o.Compile == nil {
		return intel.Batch{}, errors.New("opencti: no STIX pattern compiler configured")
	}
	endpoint, err := url.JoinPath(o.URL, "graphql")
	if err != nil {
		return intel.Batch{}, fmt.Errorf("opencti url %q: %w", o.URL, err)
	}
	b := intel.Batch{Full: cursor == "", Cursor: cursor}
	after := ""
	for page := 0; page < maxOpenCTIPages; page++ {
		ans, err := o.page(ctx, endpoint, cursor, after)
		if err != nil {
			return intel.Batch{}, err
		}
		for _, e := range ans.Data.Indicators.Edges {
			o.node(e.Node, &b)
		}
		pi := ans.Data.Indicators.PageInfo
		if !pi.HasNextPage || len(ans.Data.Indicators.Edges) == 0 {
			o.logger().Debug("opencti fetched", "url", endpoint, "pages", page+1, "indicators", len(b.Indicators),
				"problems", len(b.Problems), "cursor", b.Cursor)
			return b, nil
		}
		if pi.EndCursor == "" || pi.EndCursor == after {
			return intel.Batch{}, fmt.Errorf("opencti %s: hasNextPage without a new endCursor", endpoint)
		}
		after = pi.EndCursor
	}
	return intel.Batch{}, fmt.Errorf("opencti %s: more than %d pages", endpoint, maxOpenCTIPages)
}

func (o *OpenCTI) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// page asks for one page of indicators updated after since.
func (o *OpenCTI) page(ctx context.Context, endpoint, since, after string) (*openCTIAnswer, error) {
	first := o.PageSize
	if first <= 0 {
		first = DefaultOpenCTIPageSize
	}
	vars := map[string]any{"first": first}
	if after != "" {
		vars["after"] = after
	}
	if since != "" {
		vars["filters"] = map[string]any{
			"mode": "and", "filterGroups": []any{},
			"filters": []any{map[string]any{"key": []string{"updated_at"}, "values": []string{since},
				"operator": "gt", "mode": "or"}},
		}
	}
	body, err := json.Marshal(map[string]any{"query": openCTIQuery, "variables": vars})
	if err != nil {
		return nil, fmt.Errorf("opencti: encoding query: %w", err)
	}
	resp, err := o.HTTP.Do(ctx, http.MethodPost, endpoint, body,
		http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}})
	if err != nil {
		return nil, fmt.Errorf("opencti: %w", err)
	}
	var ans openCTIAnswer
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		return nil, fmt.Errorf("opencti %s: bad JSON answer: %w", endpoint, err)
	}
	if len(ans.Errors) > 0 {
		msgs := make([]string, len(ans.Errors))
		for i, e := range ans.Errors {
			msgs[i] = e.Message
		}
		return nil, fmt.Errorf("opencti %s: %s", endpoint, strings.Join(msgs, "; "))
	}
	return &ans, nil
}

// node converts one indicator node into b.
func (o *OpenCTI) node(raw json.RawMessage, b *intel.Batch) {
	var n openCTINode
	if err := json.Unmarshal(raw, &n); err != nil {
		b.Problems = append(b.Problems, intel.Problem{Where: "opencti indicator", Reason: "bad node: " + err.Error()})
		return
	}
	if n.UpdatedAt != "" && laterTime(n.UpdatedAt, b.Cursor) {
		b.Cursor = n.UpdatedAt
	}
	id := n.StandardID
	if id == "" {
		id = n.ID
	}
	fail := func(format string, args ...any) {
		b.Problems = append(b.Problems, intel.Problem{Where: "opencti " + id, Reason: fmt.Sprintf(format, args...)})
	}
	if !strings.EqualFold(n.PatternType, "stix") {
		fail("pattern_type %q is not supported (only stix)", n.PatternType)
		return
	}
	ins, err := o.Compile(n.Pattern)
	if err != nil {
		fail("pattern %q: %v", n.Pattern, err)
		return
	}
	var from, until time.Time
	if from, err = optTime(n.ValidFrom); err != nil {
		fail("valid_from: %v", err)
		return
	}
	if until, err = optTime(n.ValidUntil); err != nil {
		fail("valid_until: %v", err)
		return
	}
	conf := -1
	switch {
	case n.Confidence != nil:
		conf = min(max(*n.Confidence, 0), 100)
	case n.Score != nil:
		conf = min(max(*n.Score, 0), 100)
	}
	desc := n.Description
	if desc == "" {
		desc = n.Name
	}
	for _, in := range ins {
		in.ID, in.Confidence, in.ValidFrom, in.ValidUntil, in.Revoked = id, conf, from, until, n.Revoked
		in.Description = desc
		for _, t := range n.IndicatorTypes {
			in.Tags = appendTag(in.Tags, t)
		}
		for _, l := range n.ObjectLabel {
			in.Tags = appendTag(in.Tags, l.Value)
		}
		b.Indicators = append(b.Indicators, in)
	}
}

// optTime parses an RFC 3339 time; "" is the zero time.
func optTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t.UTC(), nil
}
