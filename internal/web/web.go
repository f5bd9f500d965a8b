// Package web is the managers' pages: export, import and backups, in
// Portuguese, served by contentd itself from embedded files (no CDN, no build
// step). The pages are plain HTML, CSS and JavaScript modules that call the
// public REST API with the manager's bearer token, like any other client.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
)

//go:embed pages/*.html assets/*
var files embed.FS

// Pages maps each page's route to its file.
var Pages = map[string]string{
	"/gestor/conteudo/exportar": "exportar.html",
	"/gestor/conteudo/importar": "importar.html",
	"/gestor/sistema/backups":   "backups.html",
}

// Config is what the pages need to know of the server.
type Config struct {
	// MaxFileBytes is the largest file an import accepts: the import page
	// refuses a larger one before sending it.
	MaxFileBytes int
	// Version is shown in the footer.
	Version string
}

// securityHeaders keep the pages to their own origin: scripts and styles from
// the embedded files only, API calls to the same server, no framing.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// Handler serves the pages at their routes, their files under
// /gestor/assets/, and sends /gestor and /gestor/ to the export page.
func Handler(cfg Config) (http.Handler, error) {
	rendered := map[string][]byte{}
	for route, file := range Pages {
		page, err := template.ParseFS(files, "pages/layout.html", "pages/"+file)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", file, err)
		}
		var b bytes.Buffer
		if err := page.ExecuteTemplate(&b, file, map[string]any{
			"MaxFileBytes": strconv.Itoa(cfg.MaxFileBytes), "Version": cfg.Version, "Route": route,
		}); err != nil {
			return nil, fmt.Errorf("render %s: %w", file, err)
		}
		rendered[route] = b.Bytes()
	}
	assets, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for route, page := range rendered {
		mux.HandleFunc("GET "+route, func(w http.ResponseWriter, _ *http.Request) {
			headers(w, "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(page)
		})
	}
	mux.HandleFunc("GET /gestor/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		data, err := fs.ReadFile(assets, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		headers(w, mime.TypeByExtension(path.Ext(name)))
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(data)
	})
	home := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/gestor/conteudo/exportar", http.StatusFound)
	}
	mux.HandleFunc("GET /gestor", home)
	mux.HandleFunc("GET /gestor/{$}", home)
	return mux, nil
}

func headers(w http.ResponseWriter, contentType string) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
}
