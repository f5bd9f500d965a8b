package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestPagesAreServedWithoutATokenAndKeptToTheirOrigin(t *testing.T) {
	t.Parallel()
	e := start(t)
	noToken := map[string]string{"Authorization": ""}
	for _, path := range []string{"/gestor/conteudo/exportar", "/gestor/conteudo/importar", "/gestor/sistema/backups"} {
		resp, body := e.do(t, http.MethodGet, path, nil, noToken)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: security headers %v", path, resp.Header)
		}
		page := string(body)
		if !strings.Contains(page, `lang="pt-BR"`) || !strings.Contains(page, `content="1048576"`) || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
			t.Errorf("GET %s: the page is not Portuguese, lacks the size limit, or loads from elsewhere", path)
		}
	}
	for file, kind := range map[string]string{"comum.js": "text/javascript", "app.css": "text/css"} {
		resp, _ := e.do(t, http.MethodGet, "/gestor/assets/"+file, nil, noToken)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), kind) {
			t.Errorf("GET %s = %d %s", file, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/gestor/assets/nada.js", "/gestor/assets/../pages/layout.html", "/gestor/conteudo/outra"} {
		if resp, _ := e.do(t, http.MethodGet, path, nil, noToken); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/gestor", "/gestor/"} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.httpURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/gestor/conteudo/exportar" {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
