package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"

	"github.com/vigil-soc/vigil/internal/api"
)

// ImportVulns uploads a scan report (format "" lets the server recognise
// it).
func (c *Client) ImportVulns(ctx context.Context, name, format string, data []byte) (api.VulnImport, error) {
	q := url.Values{"name": {name}}
	if format != "" {
		q.Set("format", format)
	}
	var out api.VulnImport
	err := c.do(ctx, http.MethodPost, "/api/v1/vulns/import", q, bytes.NewReader(data), &out)
	return out, err
}

// Vulns lists findings with the API's filters (status, severity, asset,
// target, overdue, limit).
func (c *Client) Vulns(ctx context.Context, q url.Values) ([]api.FindingView, error) {
	var out struct {
		Findings []api.FindingView `json:"findings"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/vulns", q, nil, &out)
	return out.Findings, err
}
