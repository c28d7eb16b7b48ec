package feed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// Default limits of a fetch.
const (
	// DefaultTimeout bounds one HTTP request when the config sets none.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxBytes bounds one downloaded document when the config sets
	// none.
	DefaultMaxBytes = 512 << 20
)

// userAgent is sent unless the config sets its own User-Agent header.
const userAgent = "vigil-intel/1"

// HTTP fetches documents over HTTP(S) with the authentication and headers
// of one source. It is safe for concurrent use; a nil *HTTP is a plain
// client with the default limits.
type HTTP struct {
	// Client does the requests; nil means a client built by NewHTTPClient
	// without extra CAs.
	Client *http.Client
	// Headers are added to every request.
	Headers map[string]string
	// Username and Password, when Username is set, authenticate with HTTP
	// basic auth.
	Username, Password string
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds each response body; zero means DefaultMaxBytes.
	MaxBytes int64
	// Logger receives debug lines about requests; nil discards them.
	Logger *slog.Logger
}

// NewHTTPClient returns an HTTP client that trusts the system roots plus
// the PEM certificates in caFile (none when caFile is ""). It has no
// overall timeout: requests are bounded by their context.
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate found", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// StatusError is returned for an HTTP response with an unexpected status.
type StatusError struct {
	Method string
	URL    string
	Status int
	// Body is the start of the response body, for the message.
	Body string
}

// Error formats the request, the status and the start of the body.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (h *HTTP) logger() *slog.Logger {
	if h == nil {
		h = &HTTP{}
	}
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *HTTP) client() *http.Client {
	if h == nil {
		h = &HTTP{}
	}
	if h.Client == nil {
		return http.DefaultClient
	}
	return h.Client
}

func (h *HTTP) maxBytes() int64 {
	if h == nil {
		h = &HTTP{}
	}
	if h.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return h.MaxBytes
}

func (h *HTTP) timeout() time.Duration {
	if h == nil {
		h = &HTTP{}
	}
	if h.Timeout <= 0 {
		return DefaultTimeout
	}
	return h.Timeout
}

// authorize adds the configured headers and credentials to req.
func (h *HTTP) authorize(req *http.Request) {
	req.Header.Set("User-Agent", userAgent)
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	switch {
	case h.Token != "":
		req.Header.Set("Authorization", "Bearer "+h.Token)
	case h.Username != "":
		req.SetBasicAuth(h.Username, h.Password)
	}
}

// Response is a fetched document.
type Response struct {
	// NotModified is true when the server answered 304 to a conditional
	// request; Body is empty then.
	NotModified bool
	Body        []byte
	Header      http.Header
}

// Do sends a request with the source's credentials, bounded by the
// request timeout, and reads the body up to MaxBytes. A 304 answer gives
// NotModified; any status but 2xx and 304 gives a *StatusError. hdr adds
// request headers (Accept, If-None-Match, ...).
func (h *HTTP) Do(ctx context.Context, method, url string, body []byte, hdr http.Header) (*Response, error) {
	if h == nil {
		h = &HTTP{}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout())
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	h.authorize(req)
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	start := time.Now()
	resp, err := h.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	h.logger().Debug("intel feed request", "method", method, "url", url, "status", resp.StatusCode,
		"elapsed", time.Since(start))
	if resp.StatusCode == http.StatusNotModified {
		return &Response{NotModified: true, Header: resp.Header}, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, &StatusError{Method: method, URL: url, Status: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBytes()+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, url, err)
	}
	if int64(len(data)) > h.maxBytes() {
		return nil, fmt.Errorf("%s %s: body larger than max_bytes (%d)", method, url, h.maxBytes())
	}
	return &Response{Body: data, Header: resp.Header}, nil
}

// Get is Do with GET and no body.
func (h *HTTP) Get(ctx context.Context, url string, hdr http.Header) (*Response, error) {
	return h.Do(ctx, http.MethodGet, url, nil, hdr)
}

// validators is what a document fetch remembers to tell whether the
// document changed: HTTP validators, file stamp and content hash. It is
// stored as the Batch cursor in JSON.
type validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	ModTime      int64  `json:"mtime,omitempty"`
	Size         int64  `json:"size,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
}

func parseValidators(cursor string) (validators, error) {
	var v validators
	if cursor == "" {
		return v, nil
	}
	if err := json.Unmarshal([]byte(cursor), &v); err != nil {
		return validators{}, fmt.Errorf("cursor %q: %w", cursor, err)
	}
	return v, nil
}

func (v validators) String() string {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for this struct; keep the cursor empty
		return ""
	}
	return string(b)
}

// Document is one fetchable document: a file path or an HTTP(S) URL.
type Document struct {
	// Path is a local file; used when URL is empty.
	Path string
	// URL is fetched with HTTP.
	URL  string
	HTTP *HTTP
}

// Name is the path or URL, for Problem locations.
func (d *Document) Name() string {
	if d.URL != "" {
		return d.URL
	}
	return d.Path
}

// ErrUnchanged is returned by Document.Fetch when the document is the same
// as when the cursor was made.
var ErrUnchanged = errors.New("document unchanged")

// Fetch reads the document unless the cursor shows it unchanged: a 304
// answer to a conditional request, an untouched file, or the same content
// hash. Then it returns ErrUnchanged and a cursor to keep. Otherwise it
// returns the body and the new cursor. An unreadable cursor counts as "".
func (d *Document) Fetch(ctx context.Context, cursor string) ([]byte, string, error) {
	old, err := parseValidators(cursor)
	if err != nil {
		d.HTTP.logger().Warn("intel feed: ignoring unreadable cursor", "feed", d.Name(), "err", err)
		old = validators{}
	}
	var body []byte
	var now validators
	if d.URL != "" {
		body, now, err = d.fetchURL(ctx, old)
	} else {
		body, now, err = d.fetchFile(ctx, old)
	}
	if err != nil {
		return nil, cursor, err
	}
	sum := sha256.Sum256(body)
	now.SHA256 = hex.EncodeToString(sum[:])
	if old.SHA256 != "" && old.SHA256 == now.SHA256 {
		return nil, now.String(), ErrUnchanged
	}
	return body, now.String(), nil
}

func (d *Document) fetchURL(ctx context.Context, old validators) ([]byte, validators, error) {
	hdr := http.Header{}
	if old.ETag != "" {
		hdr.Set("If-None-Match", old.ETag)
	}
	if old.LastModified != "" {
		hdr.Set("If-Modified-Since", old.LastModified)
	}
	resp, err := d.HTTP.Get(ctx, d.URL, hdr)
	if err != nil {
		return nil, old, err
	}
	if resp.NotModified {
		return nil, old, ErrUnchanged
	}
	now := validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	return resp.Body, now, nil
}

func (d *Document) fetchFile(ctx context.Context, old validators) ([]byte, validators, error) {
	if err := ctx.Err(); err != nil {
		return nil, old, fmt.Errorf("%s: %w", d.Path, err)
	}
	st, err := os.Stat(d.Path)
	if err != nil {
		return nil, old, fmt.Errorf("intel feed: %w", err)
	}
	now := validators{ModTime: st.ModTime().UnixNano(), Size: st.Size()}
	if old.SHA256 != "" && old.ModTime == now.ModTime && old.Size == now.Size {
		return nil, old, ErrUnchanged
	}
	limit := d.HTTP.maxBytes()
	if st.Size() > limit {
		return nil, old, fmt.Errorf("intel feed %s: file larger than max_bytes (%d)", d.Path, limit)
	}
	body, err := os.ReadFile(d.Path)
	if err != nil {
		return nil, old, fmt.Errorf("intel feed: %w", err)
	}
	return body, now, nil
}
