package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed templates/*.html static/*.js static/*.css static/vendor/*
var embedded embed.FS

// staticFile is one embedded static file with its content hash.
type staticFile struct {
	data  []byte
	hash  string
	ctype string
}

// staticFiles serves the embedded static files under
// /static/{hash}/{name}: the hash is the file's content hash, so a URL
// never changes meaning and may be cached for a year.
type staticFiles struct {
	files map[string]staticFile
}

func newStaticFiles() (*staticFiles, error) {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	st := &staticFiles{files: map[string]staticFile{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		st.files[p] = staticFile{data: b, hash: hex.EncodeToString(sum[:6]), ctype: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return st, nil
}

// url returns the versioned URL of a static file; it fails for a name that
// is not embedded, so a template typo is found when the page renders.
func (st *staticFiles) url(name string) (string, error) {
	f, ok := st.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

func (st *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, ok := st.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if r.PathValue("hash") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache") // an old or guessed URL: serve, but do not pin
	}
	h.Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
