package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/proto"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// The managers' pages, driven in a real headless Chromium against a real
// server. Each step saves a screenshot under build/screenshots/<test>/ so a
// person can look at what the manager sees.

// chromiumInstall is what a machine without the browser needs.
const chromiumInstall = "apt-get install -y chromium"

// tab is one Chromium tab on a test server, with a fresh profile.
type tab struct {
	t         *testing.T
	ctx       context.Context
	e         *env
	downloads string
	shots     string
	step      int
}

// findChromium is the browser's path: $CHROMIUM, or the first one installed.
func findChromium(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("the browser tests need Chromium, which is not installed: %s (or set CHROMIUM to its path)", chromiumInstall)
	return ""
}

// openTab starts Chromium with the flags that work on these machines and a new
// user-data dir, at a laptop's window size.
func openTab(t *testing.T, e *env) *tab {
	t.Helper()
	profile := t.TempDir()
	downloads := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(findChromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// A script error or a console error (a CSP violation is one) fails the test.
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text+" "+exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("the page logged %s", p)
		}
	})
	shots, err := filepath.Abs(filepath.Join("..", "..", "build", "screenshots", t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(shots); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, e: e, downloads: downloads, shots: shots}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

// do runs actions, failing the test with what was being done.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot("falhou-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a page of the server; fragment, when set, follows the #.
func (b *tab) open(path, fragment string) {
	b.t.Helper()
	u := b.e.httpURL + path
	if fragment != "" {
		u += "#" + fragment
	}
	b.do("open "+path, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

// text is the visible text of the first element matching a CSS selector.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval runs a JavaScript expression and returns its value.
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitText waits until the element's text matches the pattern.
func (b *tab) waitText(sel, pattern string) string {
	b.t.Helper()
	re := regexp.MustCompile(pattern)
	js := fmt.Sprintf(`(() => { const n = document.querySelector(%q); return n && n.checkVisibility() ? n.textContent : ''; })()`, sel)
	deadline := time.Now().Add(20 * time.Second)
	for {
		// An error is a page between two documents: try again.
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
		if err == nil && re.MatchString(got) {
			return got
		}
		if time.Now().After(deadline) {
			b.shot("falhou-" + sel)
			b.t.Fatalf("%s says %q (%v), want /%s/", sel, got, err, pattern)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// visible says whether the element is on screen (not hidden, not display: none).
func visible(b *tab, sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(() => { const n = document.querySelector(%q); return !!n && n.checkVisibility(); })()`, sel))
}

// shot saves a screenshot of the whole page, numbered in the test's order.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.step++
	name = regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(strings.ToLower(name), "-")
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.step, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// download waits for a finished file in the downloads folder.
func (b *tab) download() (name string, data []byte) {
	b.t.Helper()
	// Chromium can show a download under its name before all of it is
	// written: it is taken once no part is left and two looks agree on it.
	deadline := time.Now().Add(20 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(b.downloads)
		if err != nil {
			b.t.Fatal(err)
		}
		partial := slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasSuffix(e.Name(), ".crdownload") })
		if len(entries) > 0 && !partial {
			data, err := os.ReadFile(filepath.Join(b.downloads, entries[0].Name()))
			if err != nil {
				b.t.Fatal(err)
			}
			if len(data) > 0 && bytes.Equal(data, last) {
				return entries[0].Name(), data
			}
			last = data
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatal("no download arrived")
	return "", nil
}

// writeFile puts a file where the file input can take it.
func writeFile(t *testing.T, name string, data []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPageExportDownloadsTheCourseFile(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := openTab(t, e)
	b.open("/gestor/conteudo/exportar", "token="+url.QueryEscape(e.token))
	b.waitText("#cursos-estado", `1 curso\(s\) nesta página`)
	if visible(b, "#token-form") || !visible(b, "#token-trocar") {
		t.Error("the form to paste a token shows while the token works")
	}
	if hash := eval[string](b, `location.hash`); hash != "" {
		t.Errorf("the token stays in the address bar: %q", hash)
	}
	row := fmt.Sprintf(`#cursos tr[data-id=%q]`, e.demoID)
	cells := eval[[]string](b, fmt.Sprintf(`[...document.querySelectorAll('%s td')].map((td) => td.textContent.trim())`, row))
	modules := pgtest.Count(t, e.pool, `SELECT count(*) FROM modules WHERE course_id = $1`, e.demoID)
	lessons := pgtest.Count(t, e.pool, `SELECT count(*) FROM lessons l JOIN modules m ON m.id = l.module_id WHERE m.course_id = $1`, e.demoID)
	if len(cells) != 6 || cells[1] != "Publicado" || cells[2] != fmt.Sprint(modules) || cells[3] != fmt.Sprint(lessons) {
		t.Errorf("the demo's row: %q, want Publicado, %d modules, %d lessons", cells, modules, lessons)
	}
	b.shot("lista")

	b.do("export", chromedp.Click(chromedp.CSS(row+" button")))
	b.waitText("#exportacao-estado", `baixado`)
	b.shot("exportado")
	name, data := b.download()
	resp, want := e.get(t, "/gestor/export/course/"+e.demoID)
	if wantName := regexp.MustCompile(`filename="([^"]+)"`).FindStringSubmatch(resp.Header.Get("Content-Disposition")); wantName == nil || name != wantName[1] {
		t.Errorf("downloaded %q, the API names it %q", name, resp.Header.Get("Content-Disposition"))
	}
	var f coursefile.Findings
	file := coursefile.Decode(data, &f)
	if file == nil || f.HasErrors() || file.GetCourse().GetId() != e.demoID {
		t.Fatalf("the download is not the demo's file: %v", f.Errors())
	}
	coursefile.Validate(file, &f)
	api := coursefile.Decode(want, &coursefile.Findings{})
	if f.HasErrors() || !proto.Equal(file.GetCourse(), api.GetCourse()) {
		t.Errorf("the download differs from the API's export (errors %v)", f.Errors())
	}

	// A search that matches nothing says so.
	b.do("search", chromedp.SetValue(chromedp.ID("busca"), "nenhum curso tem este título"), chromedp.Click(chromedp.CSS(`#filtro button[type=submit]`)))
	b.waitText("#cursos-estado", `Nenhum curso encontrado`)
	if n := eval[int](b, `document.querySelectorAll('#cursos tbody tr').length`); n != 0 {
		t.Errorf("%d rows for a search without matches", n)
	}
	b.shot("busca-vazia")
}

func TestPageImportShowsErrorsAndKeepsApplyDisabled(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := openTab(t, e)
	bad := bytes.Replace(demo.File, []byte(`"minScore": 70`), []byte(`"minScore": 700`), 1)
	var want coursefile.Findings
	coursefile.Validate(coursefile.Decode(bad, &want), &want)
	if len(want.Errors()) == 0 {
		t.Fatal("the broken file has no error")
	}
	b.open("/gestor/conteudo/importar", "token="+url.QueryEscape(e.token))
	b.do("choose", chromedp.SetUploadFiles(chromedp.ID("arquivo"), []string{writeFile(t, "curso-com-erro.json", bad)}))
	b.do("analyse", chromedp.WaitEnabled(chromedp.ID("analisar")), chromedp.Click(chromedp.ID("analisar")))
	b.waitText("#analise-estado", `Análise concluída: \d+ erro`)
	b.shot("erros")
	errs := eval[[]string](b, `[...document.querySelectorAll('#erros li')].map((li) => li.textContent)`)
	if len(errs) != len(want.Errors()) {
		t.Fatalf("the page lists %q, want %d errors", errs, len(want.Errors()))
	}
	for i, w := range want.Errors() {
		if !strings.Contains(errs[i], w.GetPath()) || !strings.Contains(errs[i], w.GetMessage()) {
			t.Errorf("error %d shows %q, want the path %s and %q", i, errs[i], w.GetPath(), w.GetMessage())
		}
	}
	if !eval[bool](b, `document.getElementById('aplicar').disabled`) {
		t.Error("Aplicar is enabled with errors")
	}
	if visible(b, "#contagens") || visible(b, "#envio") {
		t.Error("a file with errors shows counts, or the upload progress stays on screen")
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("%d courses after an analysis", n)
	}

	// A file over the limit is refused before it is sent.
	b.do("choose big", chromedp.SetUploadFiles(chromedp.ID("arquivo"), []string{writeFile(t, "grande.json", bytes.Repeat([]byte(" "), maxRequestBytes+1))}))
	b.waitText("#analise-estado", `limite desta instalação é 1 MiB\. Ele não foi enviado`)
	if !eval[bool](b, `document.getElementById('analisar').disabled`) {
		t.Error("Analisar is enabled for a file over the limit")
	}
	b.shot("grande-demais")
}

func TestPageImportAppliesOnceAndTheCourseAppears(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := openTab(t, e)
	b.open("/gestor/conteudo/importar", "token="+url.QueryEscape(e.token))
	b.waitText("#recentes-estado", `Nenhuma importação ainda`)
	b.do("choose", chromedp.SetUploadFiles(chromedp.ID("arquivo"), []string{writeFile(t, "capacitacao.json", demo.File)}))
	b.do("analyse", chromedp.WaitEnabled(chromedp.ID("analisar")), chromedp.Click(chromedp.ID("analisar")))
	b.waitText("#analise-estado", `Análise concluída: nenhum erro`)
	counts := eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('#contagens tbody tr')].map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]))`)
	if counts["Aulas"] != "8" || counts["Curso"] != "1" {
		t.Errorf("counts table %v", counts)
	}
	if visible(b, "#erros-bloco") || visible(b, "#envio") {
		t.Error("an error list or the upload progress shows after a clean analysis")
	}
	b.shot("analise")

	b.do("apply twice", chromedp.WaitEnabled(chromedp.ID("aplicar")), chromedp.DoubleClick(chromedp.ID("aplicar")))
	b.waitText("#aplicacao-estado", `Importação aplicada`)
	b.shot("aplicado")
	id := b.text("#criado-id")
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 2 {
		t.Fatalf("%d courses after a double click, want the demo and one import", n)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses WHERE id = $1 AND status = 'DRAFT' AND import_batch_id IS NOT NULL`, id); n != 1 {
		t.Errorf("the page shows course %q, which is not the new draft", id)
	}
	if got := b.text("#criado-status"); !strings.Contains(got, "DRAFT") {
		t.Errorf("status shown: %q", got)
	}
	batch := b.text("#criado-lote")
	b.do("id map", chromedp.Click(chromedp.ID("baixar-mapa")))
	if name, data := b.download(); name != "mapa-de-ids-"+batch+".json" || !bytes.Contains(data, []byte(id)) {
		t.Errorf("id map %s: %.200s", name, data)
	}

	// The recent imports list it, with the source and the course.
	b.waitText("#recentes-estado", `1 importação`)
	recent := b.text(fmt.Sprintf(`#recentes tr[data-id=%q]`, batch))
	if !strings.Contains(recent, "gestora@empresa.com.br") || !strings.Contains(recent, "(Rascunho)") {
		t.Errorf("recent import row: %q", recent)
	}
	b.shot("recentes")

	// The link leads to the export list, where the new course is a draft.
	b.do("follow link", chromedp.Click(chromedp.ID("criado-exportar")))
	b.waitText("#cursos-estado", `2 curso\(s\)`)
	if got := b.text(fmt.Sprintf(`#cursos tr[data-id=%q] .rotulo`, id)); got != "Rascunho" {
		t.Errorf("the new course shows %q in the export list", got)
	}
	b.shot("na-exportacao")
	b.do("filter drafts", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('status'); s.value = 'COURSE_STATUS_DRAFT'; s.dispatchEvent(new Event('change')); })()`))
	b.waitText("#cursos-estado", `^1 curso\(s\)`)
	if ids := eval[[]string](b, `[...document.querySelectorAll('#cursos tbody tr')].map((tr) => tr.dataset.id)`); len(ids) != 1 || ids[0] != id {
		t.Errorf("drafts listed: %q, want only %s", ids, id)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 2 {
		t.Fatalf("%d courses at the end, want 2", n)
	}
}

func TestPagesSayWhatIsWrongWithTheToken(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := openTab(t, e)
	expired := e.keys.gestorClaims()
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	aluno := e.keys.gestorClaims()
	aluno["app_metadata"] = map[string]any{"role": "aluno"}

	b.open("/gestor/conteudo/exportar", "")
	b.waitText("#sessao-estado", `Nenhum token de acesso`)
	if !visible(b, "#token-form") {
		t.Error("no form to paste a token")
	}
	b.shot("sem-token")

	b.open("/gestor/conteudo/importar", "token="+e.keys.token(t, expired))
	b.waitText("#sessao-estado", `Seu acesso não foi aceito: Token expirado.*Entre novamente no LMS`)
	b.shot("token-expirado")

	b.open("/gestor/sistema/backups", "token="+e.keys.token(t, aluno))
	b.waitText("#sessao-estado", `Seu usuário não pode usar esta área: .*papel de gestor`)
	b.shot("sem-papel")

	// Pasting a good token fixes it, and the page loads.
	b.do("paste", chromedp.SetValue(chromedp.ID("token-campo"), "Bearer "+e.token), chromedp.Click(chromedp.CSS(`#token-form button`)))
	b.waitText("#sessao-estado", `Acesso com o token informado nesta aba`)
	b.waitText("#integridade-estado", `Lido em`)
	b.shot("token-colado")

	// The Supabase session of the LMS, on the same origin, is used when no other token is at hand.
	b.do("supabase session", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`sessionStorage.clear(); localStorage.setItem('sb-projeto-auth-token', JSON.stringify({access_token: %q, token_type: 'bearer'}))`, e.token)))
	b.open("/gestor/conteudo/exportar", "")
	b.waitText("#sessao-estado", `Acesso com a sua sessão no LMS`)
	b.waitText("#cursos-estado", `1 curso`)
	b.shot("sessao-supabase")
}

func TestPageBackupsShowsTheIntegrityCounts(t *testing.T) {
	t.Parallel()
	e := start(t)
	res := makeBackup(t, e)
	b := openTab(t, e)
	b.open("/gestor/sistema/backups", "token="+url.QueryEscape(e.token))
	b.waitText("#integridade-estado", `Lido em`)
	rows := eval[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('#integridade tbody tr')].map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]))`)
	for label, table := range map[string]string{"Cursos": "courses", "Módulos": "modules", "Aulas": "lessons", "Quizzes": "quizzes", "Usuários": "users", "Certificados": "certificates"} {
		key := fmt.Sprintf("%s (public.%s)", label, table)
		if want := fmt.Sprint(pgtest.Count(t, e.pool, `SELECT count(*) FROM `+table)); rows[key] != want {
			t.Errorf("%s: page shows %q, the database has %s", key, rows[key], want)
		}
	}
	b.waitText("#integridade-resumo", `Nenhuma linha órfã`)
	// The list of backups and the routine come by a request of their own,
	// which can answer after the integrity check's.
	b.waitText("#backups tbody", regexp.QuoteMeta(res.Manifest.Name))
	b.waitText("#rotina-agenda", regexp.QuoteMeta("0 3 * * 0"))
	b.shot("backups")
}

func TestPagesAreLabelledAndFitAPhone(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := openTab(t, e)
	// unlabelled lists the controls a screen reader could not name.
	const unlabelled = `[...document.querySelectorAll('input, select, textarea, button, a[href]')]
		.filter((n) => n.checkVisibility())
		.filter((n) => !((n.labels && n.labels.length) || n.getAttribute('aria-label') || n.getAttribute('aria-labelledby') ||
			((n.tagName === 'BUTTON' || n.tagName === 'A') && n.textContent.trim())))
		.map((n) => n.outerHTML.slice(0, 80))`
	for _, width := range []int64{1280, 375} {
		for _, page := range []string{"/gestor/conteudo/exportar", "/gestor/conteudo/importar", "/gestor/sistema/backups"} {
			b.do("viewport", chromedp.EmulateViewport(width, 800))
			b.open(page, "token="+url.QueryEscape(e.token))
			b.waitText("main", `\S`)
			b.waitText(".estado[role=status]", `^[^…]*$`)
			if bad := eval[[]string](b, unlabelled); len(bad) > 0 {
				t.Errorf("%s: controls without a label: %q", page, bad)
			}
			if over := eval[int](b, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
				wide := eval[[]string](b, `[...document.querySelectorAll('body *')]
					.filter((n) => n.getBoundingClientRect().right > window.innerWidth && !n.closest('.tabela-rolagem'))
					.map((n) => n.tagName + (n.id ? '#' + n.id : '') + '.' + n.className)`)
				t.Errorf("%s at %dpx: the page is %dpx wider than the screen, because of %q", page, width, over, wide)
			}
			if lang := eval[string](b, `document.documentElement.lang`); lang != "pt-BR" {
				t.Errorf("%s: lang %q", page, lang)
			}
			if live := eval[int](b, `document.querySelectorAll('[aria-live]').length`); live == 0 {
				t.Errorf("%s: nothing is announced to screen readers", page)
			}
			b.shot(fmt.Sprintf("%s-%d", strings.TrimPrefix(page, "/gestor/"), width))
		}
	}
}
