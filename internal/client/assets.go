package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/vigil-soc/vigil/internal/asset"
	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Assets lists inventory assets matching f, the most critical first.
func (c *Client) Assets(ctx context.Context, f statedb.AssetFilter) ([]statedb.Asset, error) {
	q := url.Values{}
	setIf(q, "q", f.Query)
	setIf(q, "role", f.Role)
	setIf(q, "tag", f.Tag)
	setIf(q, "criticality", f.Criticality)
	if f.Limit > 0 {
		q.Set("limit", fmt.Sprint(f.Limit))
	}
	var out struct {
		Assets []statedb.Asset `json:"assets"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/assets", q, nil, &out)
	return out.Assets, err
}

// Asset returns one asset by ID.
func (c *Client) Asset(ctx context.Context, id string) (statedb.Asset, error) {
	var a statedb.Asset
	err := c.do(ctx, http.MethodGet, "/api/v1/assets/"+url.PathEscape(id), nil, nil, &a)
	return a, err
}

// CreateAsset adds an asset (its ID and times are ignored) and returns it
// as stored.
func (c *Client) CreateAsset(ctx context.Context, a statedb.Asset) (statedb.Asset, error) {
	body, err := json.Marshal(map[string]any{"hostname": a.Hostname, "addresses": a.Addresses, "mac": a.MAC,
		"owner": a.Owner, "role": a.Role, "criticality": a.Criticality, "tags": a.Tags,
		"expected_sources": a.ExpectedSources, "notes": a.Notes})
	if err != nil {
		return statedb.Asset{}, err
	}
	var out statedb.Asset
	err = c.do(ctx, http.MethodPost, "/api/v1/assets", nil, bytes.NewReader(body), &out)
	return out, err
}

// UpdateAsset changes the fields p sets and returns the asset before and
// after.
func (c *Client) UpdateAsset(ctx context.Context, id string, p statedb.AssetPatch) (before, after statedb.Asset, err error) {
	body, err := json.Marshal(p)
	if err != nil {
		return before, after, err
	}
	var out struct {
		Asset  statedb.Asset `json:"asset"`
		Before statedb.Asset `json:"before"`
	}
	err = c.do(ctx, http.MethodPatch, "/api/v1/assets/"+url.PathEscape(id), nil, bytes.NewReader(body), &out)
	return out.Before, out.Asset, err
}

// DeleteAsset deletes an asset and returns it as it was.
func (c *Client) DeleteAsset(ctx context.Context, id string) (statedb.Asset, error) {
	var out struct {
		Deleted statedb.Asset `json:"deleted"`
	}
	err := c.do(ctx, http.MethodDelete, "/api/v1/assets/"+url.PathEscape(id), nil, nil, &out)
	return out.Deleted, err
}

// ImportAssets uploads an asset CSV file; existing assets are matched by
// key (statedb.ImportByHostname or statedb.ImportByAddress). The report
// holds the counts and every problem by line.
func (c *Client) ImportAssets(ctx context.Context, csv io.Reader, key statedb.ImportKey) (asset.ImportReport, error) {
	var rep asset.ImportReport
	err := c.do(ctx, http.MethodPost, "/api/v1/assets/import", url.Values{"key": {string(key)}}, csv, &rep)
	return rep, err
}

// UnknownAssets lists the hosts and internal addresses seen since since
// (an API time expression such as now-7d; empty: the server's default)
// that the inventory does not hold, most recently seen first.
func (c *Client) UnknownAssets(ctx context.Context, since string) ([]asset.UnknownAsset, error) {
	q := url.Values{}
	setIf(q, "since", since)
	var out struct {
		Unknown []asset.UnknownAsset `json:"unknown"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/assets/unknown", q, nil, &out)
	return out.Unknown, err
}
