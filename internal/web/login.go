package web

import (
	"net/http"
	"strings"
)

// loginView is the login page's data.
type loginView struct {
	Next string
	Name string
}

func (c *Console) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	v := c.newView(r, nil, "login")
	v.Title = "Sign in"
	v.Data = loginView{Next: localPath(r.URL.Query().Get("next"))}
	c.render(w, r, "login", http.StatusOK, v)
}

// handleLogin posts the form's name and password to POST /api/v1/login
// in-process and relays the session cookie the API sets.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	name, next := strings.TrimSpace(r.PostForm.Get("name")), localPath(r.PostForm.Get("next"))
	rec, err := c.call(r, apiRequest{method: http.MethodPost, path: "/api/v1/login",
		body: map[string]string{"name": name, "password": r.PostForm.Get("password")}})
	if err != nil {
		v := c.newView(r, nil, "login")
		v.Title = "Sign in"
		v.Data = loginView{Next: next, Name: name}
		status := statusOf(err)
		switch status {
		case http.StatusUnauthorized:
			v.Error = "Wrong user name or password."
		case http.StatusTooManyRequests:
			v.Error = "Too many failed sign-ins; wait " + rec.header.Get("Retry-After") + " s and try again."
		case http.StatusBadRequest:
			v.Error = "Enter a user name and a password."
		default:
			c.log.Error("console login failed", "err", err)
			v.Error = c.userError(r, err)
			status = http.StatusBadGateway
		}
		c.render(w, r, "login", status, v)
		return
	}
	for _, ck := range rec.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", ck)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout ends the session through POST /api/v1/logout (with the
// form's CSRF token) and relays the cookie removal.
func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	rec, err := c.call(r, apiRequest{method: http.MethodPost, path: "/api/v1/logout",
		csrf: r.PostForm.Get("csrf_token")})
	if err != nil && statusOf(err) != http.StatusUnauthorized {
		http.Error(w, "logout failed: "+err.Error(), http.StatusBadRequest)
		return
	}
	if rec != nil {
		for _, ck := range rec.header.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", ck)
		}
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
