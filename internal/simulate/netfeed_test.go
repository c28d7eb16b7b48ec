package simulate

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigil-soc/vigil/internal/parse/auto"
	"github.com/vigil-soc/vigil/internal/schema"
)

// TestRunNetwork plays the network feed into a fake events API that
// refuses the first request with 429: every record of the history arrives
// once, maps as Zeek through the auto-detecting mapper, and lies before the
// clock; the feed then waits for the clock.
func TestRunNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("ten days of traffic skipped in -short mode")
	}
	t.Parallel()
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var lines, calls int
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m auto.Mapper
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev schema.Event
			err := m.MapJSON(bytes.Clone(sc.Bytes()), auto.FormatNDJSON, schema.InputNDJSON, "", now, &ev)
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case ev.Event.Module != "zeek":
				bad = append(bad, ev.Event.Dataset+" at "+ev.Timestamp.String())
			case ev.Timestamp.After(now.Add(time.Minute)):
				// Records past the clock wait for it: only the first
				// few seconds' worth can arrive during the test.
				bad = append(bad, "future record at "+ev.Timestamp.String())
			}
			lines++
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The feed's clock stays at now: it sends the history at once, says so
	// in its log, then waits for the clock. The log line ends the test.
	var history int64 = -1
	var got int
	hook := &hookHandler{msg: "network history sent; following the clock", fn: func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "records" {
				history = a.Value.Int64()
			}
			return true
		})
		mu.Lock()
		got = lines
		mu.Unlock()
		cancel()
	}}
	_, err := RunNetwork(ctx, NetworkOptions{HTTPURL: srv.URL, Token: "tok", Days: 11, BrowseScale: 0.05, Seed: 1,
		Now: func() time.Time { return now }, Log: slog.New(hook)})
	if err == nil || ctx.Err() == nil {
		t.Fatalf("feed ended before following the clock: %v", err)
	}
	if history < 100_000 || int64(got) != history {
		t.Errorf("history: the feed sent %d records, the server had %d when it said so", history, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls < 2 || lines < 100_000 {
		t.Fatalf("calls %d, lines %d", calls, lines)
	}
	if len(bad) > 0 {
		t.Errorf("%d bad records, first: %s", len(bad), bad[0])
	}
}

// hookHandler calls fn for the log record with message msg.
type hookHandler struct {
	msg string
	fn  func(slog.Record)
}

func (h *hookHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *hookHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn(r)
	}
	return nil
}

func (h *hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h *hookHandler) WithGroup(string) slog.Handler { return h }
