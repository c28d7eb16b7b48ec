package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-soc/vigil/internal/importer"
)

// ImportFunc imports files already on the server's disk with the given
// format name ("auto" to detect).
type ImportFunc func(ctx context.Context, paths []string, format string) (importer.Summary, error)

// handleImport serves POST /api/v1/import?name=FILE&format=FMT: the body is
// one file (gzip allowed, as in the file), imported as `vigil import` would.
// It answers with the import summary once every event is durable.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if s.Import == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("import through the API is not enabled"))
		return
	}
	name := filepath.Base(r.URL.Query().Get("name"))
	if name == "." || name == "/" || name == "" {
		name = "upload"
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "auto"
	}
	dir, err := os.MkdirTemp("", "vigil-import-")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, strings.TrimLeft(name, "."))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	_, err = io.Copy(f, http.MaxBytesReader(w, r.Body, 4<<30))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("upload: %w", err))
		return
	}
	sum, err := s.Import(r.Context(), []string{path}, format)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
