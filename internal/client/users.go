package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/vigil-soc/vigil/internal/store/statedb"
)

// Users lists the console's user accounts.
func (c *Client) Users(ctx context.Context) ([]statedb.User, error) {
	var out struct {
		Users []statedb.User `json:"users"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/users", nil, nil, &out)
	return out.Users, err
}

// CreateUser creates a user account.
func (c *Client) CreateUser(ctx context.Context, name, role, password string) (statedb.User, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "role": role, "password": password})
	var u statedb.User
	err := c.do(ctx, http.MethodPost, "/api/v1/users", nil, bytes.NewReader(body), &u)
	return u, err
}

// DeleteUser deletes a user account; its sessions and tokens stop working.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/users/"+url.PathEscape(id), nil, nil, nil)
}
