package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	stdjson "encoding/json"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// TAXIIMediaType is the media type of TAXII 2.1 requests and answers.
const TAXIIMediaType = "application/taxii+json;version=2.1"

// DefaultTAXIIPageSize is the limit asked of each TAXII objects page.
const DefaultTAXIIPageSize = 1000

// maxTAXIIPages bounds the pages of one fetch, against servers that never
// stop saying "more".
const maxTAXIIPages = 100000

// ConvertFunc turns STIX 2.1 objects into indicators; it is how the
// TAXII source uses the STIX reader without importing it. The objects of
// one fetch are converted together, so relationships between them can be
// followed.
type ConvertFunc func(objects []stdjson.RawMessage) ([]intel.Indicator, []intel.Problem)

// TAXII is a Source over one TAXII 2.1 collection. It finds the API root
// (from the discovery document unless APIRoot is given) and the
// collection (by id or title) on the first fetch, then pages through the
// collection's objects added after the cursor (the newest
// X-TAXII-Date-Added-Last seen), following "next" while "more" is true,
// and converts them with Convert. The first fetch (cursor "" and no
// Since) delivers the whole collection as a Full batch; later fetches
// deliver additions and new versions as incremental batches, empty when
// nothing was added.
type TAXII struct {
	// Discovery is the discovery URL (https://host/taxii2/).
	Discovery string
	// APIRoot is the API root URL, absolute or relative to Discovery; ""
	// means the discovery document's default root, or its only one.
	APIRoot string
	// Collection is the collection id or title.
	Collection string
	// PageSize is the limit parameter; 0 means DefaultTAXIIPageSize.
	PageSize int
	// Types, when set, asks only for these STIX types (match[type]).
	Types []string
	// Since is the added_after of the first fetch ("" for everything).
	Since   string
	HTTP    *HTTP
	Convert ConvertFunc
	Logger  *slog.Logger

	mu      sync.Mutex
	objects string // resolved objects URL
}

// taxiiEnvelope is a TAXII 2.1 envelope.
type taxiiEnvelope struct {
	More    bool                 `json:"more"`
	Next    json.RawMessage      `json:"next"`
	Objects []stdjson.RawMessage `json:"objects"`
}

// Fetch implements intel.Source.
func (t *TAXII) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	objURL, err := t.objectsURL(ctx)
	if err != nil {
		return intel.Batch{}, err
	}
	after := cursor
	if after == "" {
		after = t.Since
	}
	objects, last, err := t.pages(ctx, objURL, after)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			t.mu.Lock()
			t.objects = "" // the collection may have moved: look it up again next time
			t.mu.Unlock()
		}
		return intel.Batch{}, err
	}
	b := intel.Batch{Full: cursor == "" && t.Since == "", Cursor: cursor}
	if last != "" {
		b.Cursor = last
	} else if len(objects) > 0 {
		t.logger().Warn("taxii server sent no X-TAXII-Date-Added-Last; the next fetch repeats this one",
			"collection", t.Collection)
	}
	if len(objects) > 0 {
		if t.Convert == nil {
			return intel.Batch{}, errors.New("taxii: no STIX converter configured")
		}
		b.Indicators, b.Problems = t.Convert(objects)
	}
	t.logger().Debug("taxii fetched", "url", objURL, "objects", len(objects), "indicators", len(b.Indicators),
		"cursor", b.Cursor)
	return b, nil
}

func (t *TAXII) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

// pages reads every objects page added after after; it returns the
// objects and the newest date added ("" when the server said none).
func (t *TAXII) pages(ctx context.Context, objURL, after string) ([]stdjson.RawMessage, string, error) {
	var (
		objects []stdjson.RawMessage
		last    string
		next    string
	)
	limit := t.PageSize
	if limit <= 0 {
		limit = DefaultTAXIIPageSize
	}
	for page := 0; page < maxTAXIIPages; page++ {
		q := url.Values{}
		if after != "" {
			q.Set("added_after", after)
		}
		q.Set("limit", strconv.Itoa(limit))
		if len(t.Types) > 0 {
			q.Set("match[type]", strings.Join(t.Types, ","))
		}
		if next != "" {
			q.Set("next", next)
		}
		var env taxiiEnvelope
		hdr, err := t.get(ctx, objURL+"?"+q.Encode(), &env)
		if err != nil {
			return nil, "", err
		}
		objects = append(objects, env.Objects...)
		if l := hdr.Get("X-TAXII-Date-Added-Last"); l != "" && laterTime(l, last) {
			last = l
		}
		if !env.More {
			return objects, last, nil
		}
		switch n := rawString(env.Next); {
		case n != "" && n != next:
			next = n
		case n == "" && last != "" && last != after:
			after, next = last, "" // a server without next: resume after the newest seen
		default:
			return nil, "", fmt.Errorf("taxii %s: server says more but gives no way to continue", objURL)
		}
	}
	return nil, "", fmt.Errorf("taxii %s: more than %d pages", objURL, maxTAXIIPages)
}

// rawString reads a JSON string or number as text.
func rawString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// laterTime reports whether timestamp a is after b ("" is before all).
func laterTime(a, b string) bool {
	if b == "" {
		return true
	}
	ta, erra := time.Parse(time.RFC3339Nano, a)
	tb, errb := time.Parse(time.RFC3339Nano, b)
	if erra != nil || errb != nil {
		return a > b
	}
	return ta.After(tb)
}

// get fetches a TAXII resource and decodes it into v.
func (t *TAXII) get(ctx context.Context, u string, v any) (http.Header, error) {
	resp, err := t.HTTP.Get(ctx, u, http.Header{"Accept": {TAXIIMediaType}})
	if err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
	}
	if resp.NotModified {
		return nil, fmt.Errorf("taxii GET %s: unexpected 304", u)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return nil, fmt.Errorf("taxii GET %s: bad JSON: %w", u, err)
	}
	return resp.Header, nil
}

// objectsURL resolves the collection's objects URL once.
func (t *TAXII) objectsURL(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.objects != "" {
		return t.objects, nil
	}
	root, err := t.apiRoot(ctx)
	if err != nil {
		return "", err
	}
	id, err := t.collectionID(ctx, root)
	if err != nil {
		return "", err
	}
	t.objects = root + "collections/" + url.PathEscape(id) + "/objects/"
	return t.objects, nil
}

// apiRoot returns the API root URL, ending in "/".
func (t *TAXII) apiRoot(ctx context.Context) (string, error) {
	if t.APIRoot != "" {
		return resolveURL(t.Discovery, t.APIRoot)
	}
	var disc struct {
		Title    string   `json:"title"`
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	if _, err := t.get(ctx, t.Discovery, &disc); err != nil {
		return "", err
	}
	switch {
	case disc.Default != "":
		return resolveURL(t.Discovery, disc.Default)
	case len(disc.APIRoots) == 1:
		return resolveURL(t.Discovery, disc.APIRoots[0])
	case len(disc.APIRoots) == 0:
		return "", fmt.Errorf("taxii %s: discovery lists no API roots", t.Discovery)
	}
	return "", fmt.Errorf("taxii %s: several API roots and no default; set api_root to one of %s",
		t.Discovery, strings.Join(disc.APIRoots, ", "))
}

// resolveURL resolves ref against base and makes it end in "/".
func resolveURL(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("taxii url %q: %w", base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("taxii api root %q: %w", ref, err)
	}
	u := b.ResolveReference(r).String()
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}

// collectionID finds the configured collection under the API root.
func (t *TAXII) collectionID(ctx context.Context, root string) (string, error) {
	var list struct {
		Collections []struct {
			ID      string `json:"id"`
			Title   string `json:"title"`
			CanRead bool   `json:"can_read"`
		} `json:"collections"`
	}
	if _, err := t.get(ctx, root+"collections/", &list); err != nil {
		return "", err
	}
	var names []string
	for _, c := range list.Collections {
		if c.ID == t.Collection || strings.EqualFold(c.Title, t.Collection) {
			if !c.CanRead {
				return "", fmt.Errorf("taxii %s: collection %q is not readable with these credentials", root, t.Collection)
			}
			return c.ID, nil
		}
		names = append(names, fmt.Sprintf("%q (%s)", c.Title, c.ID))
	}
	if len(names) == 0 {
		return "", fmt.Errorf("taxii %s: no collection %q; the server lists no collections", root, t.Collection)
	}
	return "", fmt.Errorf("taxii %s: no collection %q; the server lists %s", root, t.Collection,
		strings.Join(names, ", "))
}
