package feed

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/vigil-soc/vigil/internal/intel"
)

// DefaultMISPWorkers is how many event files a MISP feed fetches at once.
const DefaultMISPWorkers = 4

// MISPFeed is a Source over a MISP feed: a manifest.json mapping event
// uuids to their info and timestamp, and one <uuid>.json file per event,
// in a directory or under a base URL.
//
// The cursor is the newest event timestamp delivered (Unix seconds). The
// first fetch (cursor "") reads every event and gives a Full batch; later
// ones read only the events whose manifest timestamp is newer than the
// cursor and give incremental batches. An event file that cannot be
// fetched holds the cursor back so that it is tried again; one that is
// fetched but unreadable is a Problem.
type MISPFeed struct {
	// Dir is the feed directory; used when URL is empty.
	Dir string
	// URL is the feed's base URL (manifest.json is under it).
	URL  string
	HTTP *HTTP
	// Workers is how many event files are fetched at once; 0 means
	// DefaultMISPWorkers.
	Workers int
	Logger  *slog.Logger
}

// mispManifestEntry is one event of a feed manifest.
type mispManifestEntry struct {
	Info      string  `json:"info"`
	Timestamp flexInt `json:"timestamp"`
}

// mispEventRef is an event to fetch.
type mispEventRef struct {
	UUID      string
	Timestamp int64
}

// mispResult is what fetching one event gave.
type mispResult struct {
	ins   []intel.Indicator
	probs []intel.Problem
	// err is a failed fetch (transport, status): the event is retried.
	err error
}

// Fetch implements intel.Source.
func (f *MISPFeed) Fetch(ctx context.Context, cursor string) (intel.Batch, error) {
	since := int64(-1)
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil {
			return intel.Batch{}, fmt.Errorf("misp feed %s: bad cursor %q: %w", f.base(), cursor, err)
		}
		since = n
	}
	refs, probs, err := f.manifest(ctx, since)
	if err != nil {
		return intel.Batch{}, err
	}
	results := f.fetchEvents(ctx, refs)
	if err := ctx.Err(); err != nil {
		return intel.Batch{}, fmt.Errorf("misp feed %s: %w", f.base(), err)
	}
	b := intel.Batch{Full: cursor == "", Problems: probs}
	newest, held := since, int64(-1)
	for i, r := range results {
		if r.err != nil {
			b.Problems = append(b.Problems, intel.Problem{Where: f.eventName(refs[i].UUID), Reason: r.err.Error()})
			if held < 0 || refs[i].Timestamp < held {
				held = refs[i].Timestamp
			}
			continue
		}
		b.Indicators = append(b.Indicators, r.ins...)
		b.Problems = append(b.Problems, r.probs...)
	}
	for _, ref := range refs {
		if (held < 0 || ref.Timestamp < held) && ref.Timestamp > newest {
			newest = ref.Timestamp
		}
	}
	if newest >= 0 {
		b.Cursor = strconv.FormatInt(newest, 10)
	} else {
		b.Cursor = cursor
	}
	f.logger().Debug("misp feed fetched", "feed", f.base(), "events", len(refs), "indicators", len(b.Indicators),
		"problems", len(b.Problems), "cursor", b.Cursor)
	return b, nil
}

func (f *MISPFeed) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

func (f *MISPFeed) base() string {
	if f.URL != "" {
		return f.URL
	}
	return f.Dir
}

// file returns the location of a feed file by name.
func (f *MISPFeed) file(name string) string {
	if f.URL == "" {
		return filepath.Join(f.Dir, name)
	}
	u, err := url.JoinPath(f.URL, name)
	if err != nil {
		return strings.TrimSuffix(f.URL, "/") + "/" + name
	}
	return u
}

func (f *MISPFeed) eventName(uuid string) string { return f.file(uuid + ".json") }

// read fetches one feed file.
func (f *MISPFeed) read(ctx context.Context, name string) ([]byte, error) {
	if f.URL != "" {
		resp, err := f.HTTP.Get(ctx, f.file(name), nil)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f.file(name))
	if err != nil {
		return nil, fmt.Errorf("misp feed: %w", err)
	}
	return data, nil
}

// manifest reads the manifest and returns the events newer than since,
// oldest first, and Problems for bad manifest entries.
func (f *MISPFeed) manifest(ctx context.Context, since int64) ([]mispEventRef, []intel.Problem, error) {
	data, err := f.read(ctx, "manifest.json")
	if err != nil {
		return nil, nil, fmt.Errorf("misp feed %s: manifest: %w", f.base(), err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("misp feed %s: manifest.json is not a JSON object: %w", f.base(), err)
	}
	var (
		refs  []mispEventRef
		probs []intel.Problem
	)
	where := f.file("manifest.json")
	for id, entry := range raw {
		var e mispManifestEntry
		if err := json.Unmarshal(entry, &e); err != nil {
			probs = append(probs, intel.Problem{Where: where + ": " + id, Reason: "bad manifest entry: " + err.Error()})
			continue
		}
		if !isUUID(id) {
			probs = append(probs, intel.Problem{Where: where, Reason: fmt.Sprintf("event key %q is not a uuid", id)})
			continue
		}
		if int64(e.Timestamp) > since {
			refs = append(refs, mispEventRef{UUID: id, Timestamp: int64(e.Timestamp)})
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Timestamp != refs[j].Timestamp {
			return refs[i].Timestamp < refs[j].Timestamp
		}
		return refs[i].UUID < refs[j].UUID
	})
	sort.Slice(probs, func(i, j int) bool { return probs[i].String() < probs[j].String() })
	return refs, probs, nil
}

// isUUID reports a string of hex digits and dashes, 32 digits in all, so
// that it is safe as a file name.
func isUUID(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i] | 0x20; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			digits++
		case s[i] == '-':
		default:
			return false
		}
	}
	return digits == 32
}

// fetchEvents fetches and reads the events with a few workers; results
// are in the order of refs.
func (f *MISPFeed) fetchEvents(ctx context.Context, refs []mispEventRef) []mispResult {
	results := make([]mispResult, len(refs))
	workers := f.Workers
	if workers <= 0 {
		workers = DefaultMISPWorkers
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(refs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = f.event(ctx, refs[i].UUID)
			}
		}()
	}
	for i := range refs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// event fetches and reads one event file.
func (f *MISPFeed) event(ctx context.Context, uuid string) mispResult {
	data, err := f.read(ctx, uuid+".json")
	if err != nil {
		return mispResult{err: err}
	}
	where := f.eventName(uuid)
	ins, probs, err := ReadMISPEvent(data, where)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), where+": ")
		return mispResult{probs: []intel.Problem{{Where: where, Reason: reason}}}
	}
	return mispResult{ins: ins, probs: probs}
}
