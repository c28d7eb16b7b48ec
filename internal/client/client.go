// Package client is a small Go client for Vigil's HTTP API, used by the CLI
// when a server holds the data directory or --server is given.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-soc/vigil/internal/importer"
	"github.com/vigil-soc/vigil/internal/schema"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Client calls one Vigil server.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

// New returns a client for base (e.g. http://127.0.0.1:8080).
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 0}}
}

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("server answered %d: %s", e.Status, e.Message) }

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, out any) error {
	u := c.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b))
		}
		return &Error{Status: resp.StatusCode, Message: eb.Error}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// SearchPage is one page of search results.
type SearchPage struct {
	Events []schema.Event `json:"events"`
	Next   string         `json:"next"`
	TookMS int64          `json:"took_ms"`
}

// Search runs one search page.
func (c *Client) Search(ctx context.Context, from, to, query string, limit int, cursor string, asc bool) (SearchPage, error) {
	q := url.Values{"q": {query}, "limit": {fmt.Sprint(limit)}}
	setIf(q, "from", from)
	setIf(q, "to", to)
	setIf(q, "cursor", cursor)
	if asc {
		q.Set("order", "asc")
	}
	var p SearchPage
	err := c.do(ctx, http.MethodGet, "/api/v1/events", q, nil, &p)
	return p, err
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// Alerts lists alerts; params are the API's query parameters.
func (c *Client) Alerts(ctx context.Context, params url.Values) ([]schema.Alert, error) {
	var out struct {
		Alerts []schema.Alert `json:"alerts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/alerts", params, nil, &out)
	return out.Alerts, err
}

// Sources lists the sources.
func (c *Client) Sources(ctx context.Context) ([]statedb.Source, error) {
	var out struct {
		Sources []statedb.Source `json:"sources"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/sources", nil, nil, &out)
	return out.Sources, err
}

// DeadLetters lists recent dead letters.
func (c *Client) DeadLetters(ctx context.Context, limit int) ([]statedb.DeadLetter, error) {
	var out struct {
		DeadLetters []statedb.DeadLetter `json:"dead_letters"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/deadletters", url.Values{"limit": {fmt.Sprint(limit)}}, nil, &out)
	return out.DeadLetters, err
}

// CreateToken creates an API token and returns the plain token.
func (c *Client) CreateToken(ctx context.Context, name, role string) (string, statedb.Token, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "role": role})
	var out struct {
		Token string        `json:"token"`
		Info  statedb.Token `json:"info"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/tokens", nil, bytes.NewReader(body), &out)
	return out.Token, out.Info, err
}

// ListTokens lists API tokens.
func (c *Client) ListTokens(ctx context.Context) ([]statedb.Token, error) {
	var out struct {
		Tokens []statedb.Token `json:"tokens"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, nil, &out)
	return out.Tokens, err
}

// RevokeToken revokes a token by id.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// ImportFile uploads one file for the server to import.
func (c *Client) ImportFile(ctx context.Context, path, format string) (importer.Summary, error) {
	var sum importer.Summary
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	q := url.Values{"name": {filepath.Base(path)}, "format": {format}}
	err = c.do(ctx, http.MethodPost, "/api/v1/import", q, f, &sum)
	return sum, err
}

// Healthy reports whether the server answers /healthz within a second.
func (c *Client) Healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
