package simulate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/simulate/netsim"
)

// NetworkOptions configure the network feed: the company's Zeek sensor
// sending conn, dns and ssl records to POST /api/v1/events.
type NetworkOptions struct {
	// HTTPURL is the base URL of Vigil's API; Token an ingest-capable token.
	HTTPURL, Token string
	// Days of traffic to play (at least 11, default 14). The run starts at
	// midnight ten days ago, so the first seven days teach the baselines,
	// the injected attacks fall on the three days before today (days 8 to
	// 10), and both are sent at once as history; the rest (today and after)
	// is sent as the real clock reaches each record's time.
	Days int
	// Hosts and BrowseScale size the network (defaults 30 and 0.25, a
	// light load for a laptop).
	Hosts       int
	BrowseScale float64
	Seed        uint64
	Log         *slog.Logger
	// Now is the wall clock (tests replace it).
	Now func() time.Time
}

// historyDays is how many whole days before today the feed sends as
// history.
const historyDays = 10

// netBatch is how many records one request carries.
const netBatch = 5000

// RunNetwork plays the network feed until it ends or ctx is done.
func RunNetwork(ctx context.Context, o NetworkOptions) (netsim.Counts, error) {
	if o.Days <= 0 {
		o.Days = 14
	}
	o.Days = max(o.Days, historyDays+1)
	if o.Hosts <= 0 {
		o.Hosts = 30
	}
	if o.BrowseScale <= 0 {
		o.BrowseScale = 0.25
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	now := o.Now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -historyDays)
	g, err := netsim.New(netsim.Options{Start: start, Days: o.Days, Hosts: o.Hosts, Seed: o.Seed,
		BrowseScale: o.BrowseScale, WritePath: true, AttackDay: 8})
	if err != nil {
		return netsim.Counts{}, err
	}
	for _, tr := range g.Truth() {
		o.Log.Info("network scenario scheduled", "scenario", tr.Scenario, "kind", tr.Kind, "src", tr.SrcName,
			"start", tr.Start.Format(time.RFC3339))
	}
	post := &ndjsonPoster{url: strings.TrimRight(o.HTTPURL, "/") + "/api/v1/events", token: o.Token,
		client: &http.Client{Timeout: 60 * time.Second}}
	var body bytes.Buffer
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := post.send(ctx, body.Bytes())
		body.Reset()
		n = 0
		return err
	}
	live := false
	for {
		rec, ok := g.Next()
		if !ok {
			break
		}
		if wait := rec.Time.Sub(o.Now()); wait > 0 {
			if err := flush(); err != nil {
				return g.Counts(), err
			}
			if !live {
				// Counts include rec, which waits for the clock.
				o.Log.Info("network history sent; following the clock", "records", g.Counts().Records-1)
				live = true
			}
			select {
			case <-ctx.Done():
				return g.Counts(), ctx.Err()
			case <-time.After(wait):
			}
		}
		body.Write(rec.JSON)
		body.WriteByte('\n')
		if n++; n >= netBatch {
			if err := flush(); err != nil {
				return g.Counts(), err
			}
		}
	}
	return g.Counts(), flush()
}

// ndjsonPoster sends NDJSON bodies, retrying refusals (429, 5xx, transport
// errors) with backoff until accepted or ctx ends.
type ndjsonPoster struct {
	url, token string
	client     *http.Client
}

func (p *ndjsonPoster) send(ctx context.Context, body []byte) error {
	backoff := 200 * time.Millisecond
	for {
		status, msg, err := p.post(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			return nil
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			return fmt.Errorf("network feed: server refused a batch: %d %s", status, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (p *ndjsonPoster) post(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(msg), nil
}

// NetworkLayout returns the hosts of the network RunNetwork plays with the
// same Hosts (default 30), so a demo can describe its assets.
func NetworkLayout(hosts int) (netsim.Network, error) {
	if hosts <= 0 {
		hosts = 30
	}
	g, err := netsim.New(netsim.Options{Hosts: hosts})
	if err != nil {
		return netsim.Network{}, err
	}
	return g.Network(), nil
}
