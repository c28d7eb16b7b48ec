package simulate

import (
	"bufio"
	"bytes"
	"context"
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The feed's clock stays at now: it sends the history at once, then
	// waits (in real time) for each later record.
	done := make(chan struct{})
	var sent int64
	go func() {
		defer close(done)
		c, _ := RunNetwork(ctx, NetworkOptions{HTTPURL: srv.URL, Token: "tok", Days: 11, BrowseScale: 0.05, Seed: 1,
			Now: func() time.Time { return now }})
		sent = c.Records
	}()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := lines
		mu.Unlock()
		if n > 0 && time.Since(deadline.Add(-90*time.Second)) > 20*time.Second {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if calls < 2 || lines < 100_000 {
		t.Fatalf("calls %d, lines %d", calls, lines)
	}
	if len(bad) > 0 {
		t.Errorf("%d bad records, first: %s", len(bad), bad[0])
	}
	// Everything generated was sent, except the record the feed holds
	// back until the clock reaches it.
	if int64(lines) != sent-1 {
		t.Errorf("server got %d records, the feed generated %d", lines, sent)
	}
}
