package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/intel"
	"github.com/vigil-soc/vigil/internal/risk"
)

// Hosts ranks hosts by risk (sort: risk, name or last_seen; limit 0: all).
func (c *Client) Hosts(ctx context.Context, sort string, limit int) ([]risk.HostRisk, error) {
	q := url.Values{}
	if sort != "" {
		q.Set("sort", sort)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Hosts []risk.HostRisk `json:"hosts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/hosts", q, nil, &out)
	return out.Hosts, err
}

// Host returns one host's risk, open alerts, asset and top peers.
func (c *Client) Host(ctx context.Context, id string) (api.HostDetail, error) {
	var out api.HostDetail
	err := c.do(ctx, http.MethodGet, "/api/v1/hosts/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// IntelSources returns every threat-intel source's status.
func (c *Client) IntelSources(ctx context.Context) ([]intel.SourceStatus, error) {
	var out struct {
		Sources []intel.SourceStatus `json:"sources"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/intel/sources", nil, nil, &out)
	return out.Sources, err
}

// IntelImport uploads a threat-intel file as source name (format "" lets
// the server recognise it).
func (c *Client) IntelImport(ctx context.Context, name, format string, data []byte) (api.IntelImport, error) {
	q := url.Values{"name": {name}}
	if format != "" {
		q.Set("format", format)
	}
	var out api.IntelImport
	err := c.do(ctx, http.MethodPost, "/api/v1/intel/import", q, bytes.NewReader(data), &out)
	return out, err
}
