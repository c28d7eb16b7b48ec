package simulate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Bulk sender tunables.
const (
	bulkFlushEvery = 500 * time.Millisecond // real time between batches
	bulkMaxDocs    = 1000                   // documents per request at most
	bulkQueueLen   = 50000
	bulkTimeout    = 30 * time.Second
	maxRetryAfter  = 30 * time.Second
	maxRespBytes   = 8 << 20
)

// bulkAction is the action line Winlogbeat 8 writes for its data stream.
const bulkAction = `{"create":{"_index":"winlogbeat-` + winlogbeatVersion + `"}}`

// bulkSender batches Winlogbeat documents into POST /_bulk requests. A
// batch the server refuses with 429, a 5xx or a transport error is sent
// again, unchanged, until it is accepted or ctx ends.
type bulkSender struct {
	url, token string
	client     *http.Client
	ch         chan []byte
	c          *counters
	log        *slog.Logger
	dropping   bool // only touched by the scheduler goroutine
	refused    bool // a batch was refused for good; only touched by run
}

func newBulkSender(base, token string, c *counters, log *slog.Logger) *bulkSender {
	return &bulkSender{url: strings.TrimRight(base, "/") + "/_bulk", token: token,
		client: &http.Client{Timeout: bulkTimeout}, ch: make(chan []byte, bulkQueueLen), c: c,
		log: log.With("transport", "bulk")}
}

// send queues a document without blocking; a full queue drops it.
func (b *bulkSender) send(doc []byte) {
	select {
	case b.ch <- doc:
		b.dropping = false
	default:
		b.c.dropped.Add(1)
		if !b.dropping {
			b.dropping = true
			b.log.Warn(lineQueueWarn)
		}
	}
}

func (b *bulkSender) run(ctx context.Context) {
	t := time.NewTicker(bulkFlushEvery)
	defer t.Stop()
	var batch [][]byte
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-b.ch:
			batch = append(batch, d)
			if len(batch) < bulkMaxDocs {
				continue
			}
		case <-t.C:
			if len(batch) == 0 {
				continue
			}
		}
		b.deliver(ctx, batch)
		batch = batch[:0]
	}
}

// body renders docs as bulk NDJSON: an action line before each document.
func bulkBody(docs [][]byte) []byte {
	n := 0
	for _, d := range docs {
		n += len(bulkAction) + len(d) + 2
	}
	body := make([]byte, 0, n)
	for _, d := range docs {
		body = append(append(body, bulkAction...), '\n')
		body = append(append(body, d...), '\n')
	}
	return body
}

// deliver sends one batch until it is accepted, rejected for good, or ctx
// ends.
func (b *bulkSender) deliver(ctx context.Context, docs [][]byte) {
	body := bulkBody(docs)
	bo := backoff{}
	failing := false
	for {
		status, wait, resp, err := b.post(ctx, body)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil || status >= 500:
			b.c.errs.Add(1)
			if !failing {
				b.log.Warn("bulk request failed; resending with backoff", "status", status, "err", err)
				failing = true
			}
			wait = bo.next()
		case status == http.StatusTooManyRequests:
			if wait <= 0 {
				wait = bo.next()
			}
			b.log.Debug("bulk request throttled; resending", "retry_after", wait)
		case status == http.StatusOK:
			ok, rejected := bulkOutcome(resp, len(docs))
			b.c.bulk.Add(int64(ok))
			b.c.errs.Add(int64(rejected))
			if rejected > 0 {
				b.log.Warn("bulk API rejected documents", "rejected", rejected, "accepted", ok)
			}
			if failing || b.refused {
				b.log.Info("bulk requests accepted again")
			}
			b.refused = false
			return
		default: // 4xx: the batch will never be accepted
			b.c.errs.Add(int64(len(docs)))
			level := slog.LevelError
			if b.refused {
				level = slog.LevelDebug // said once until a batch is accepted again
			}
			b.refused = true
			b.log.Log(ctx, level, "bulk API refused the batch; dropping it", "status", status, "docs", len(docs),
				"response", truncate(string(resp), 300))
			return
		}
		b.c.retries.Add(1)
		if !sleepCtx(ctx, min(wait, maxRetryAfter)) {
			return
		}
	}
}

// post sends one request. It returns the status, the Retry-After wait
// (0 when absent) and the response body.
func (b *bulkSender) post(ctx context.Context, body []byte) (int, time.Duration, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("building bulk request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("User-Agent", "Elastic-winlogbeat/"+winlogbeatVersion+" (vigil-demo)")
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("bulk request: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRespBytes))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("reading bulk response: %w", err)
	}
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), data, nil
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// bulkOutcome counts the accepted and rejected items of a bulk response.
// A response it cannot read counts every document as accepted: the
// server said 200.
func bulkOutcome(resp []byte, n int) (ok, rejected int) {
	var p fastjson.Parser
	v, err := p.ParseBytes(resp)
	if err != nil || !v.GetBool("errors") {
		return n, 0
	}
	for _, it := range v.GetArray("items") {
		o, err := it.Object()
		if err != nil {
			continue
		}
		o.Visit(func(_ []byte, r *fastjson.Value) {
			if r.GetInt("status") >= 300 {
				rejected++
			}
		})
	}
	rejected = min(rejected, n)
	return n - rejected, rejected
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
