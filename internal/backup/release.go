package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
)

// CourseExporter writes courses as transfer files, for the release checklist.
type CourseExporter interface {
	// PublishedCourseIDs returns the ids of the published courses.
	PublishedCourseIDs(ctx context.Context) ([]string, error)
	// ExportCourseFile reads course id and returns the file name the API gives
	// it and a function that writes the file.
	ExportCourseFile(ctx context.Context, id string) (filename string, write func(io.Writer) error, err error)
}

// ReleaseOptions say what the release checklist does.
type ReleaseOptions struct {
	// Backup are the options of its backup (Trigger is set to RELEASE_CHECK).
	Backup Options
	// Courses to export; the published ones when empty.
	Courses  []string
	Exporter CourseExporter
	// Staging is the database the backup is test-restored into; Protect is the
	// database that must never be it.
	Staging pgtools.Conn
	Protect *pgtools.Conn
}

// CheckStatus is how one item of the checklist ended.
type CheckStatus int

// The outcomes of an item.
const (
	CheckPassed CheckStatus = iota
	CheckFailed
	// CheckNotMeasurable is an item the destination cannot answer (the free
	// space of object storage): reported, not failed.
	CheckNotMeasurable
)

// CheckItem is one item of the pre-release checklist, in Portuguese as the
// operators' document words it.
type CheckItem struct {
	Title  string
	Status CheckStatus
	Detail string
}

// Checklist is the outcome of ReleaseCheck.
type Checklist struct {
	Items  []CheckItem
	Backup *Manifest
}

// OK says whether no item failed.
func (c *Checklist) OK() bool {
	for _, it := range c.Items {
		if it.Status == CheckFailed {
			return false
		}
	}
	return true
}

// WriteText prints the checklist with each item ticked or not.
func (c *Checklist) WriteText(w io.Writer) error {
	fmt.Fprintln(w, "Checklist pré-release")
	for i, it := range c.Items {
		box := map[CheckStatus]string{CheckPassed: "[x]", CheckFailed: "[ ]", CheckNotMeasurable: "[-]"}[it.Status]
		verdict := map[CheckStatus]string{CheckPassed: "OK", CheckFailed: "FALHOU", CheckNotMeasurable: "NÃO VERIFICÁVEL"}[it.Status]
		fmt.Fprintf(w, "%d. %s %s — %s\n", i+1, box, it.Title, verdict)
		for _, line := range strings.Split(it.Detail, "\n") {
			if line != "" {
				fmt.Fprintf(w, "       %s\n", line)
			}
		}
	}
	verdict := "Resultado: todos os itens passaram."
	if !c.OK() {
		verdict = "Resultado: há itens que falharam; não siga com a release."
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// Titles of the checklist, as backup-e-restore.md words them.
const (
	itemBackup  = "Backup do banco via pg_dump"
	itemExport  = "Export JSON dos cursos principais"
	itemSpace   = "Verificar espaço disponível no storage"
	itemRestore = "Testar restore em ambiente de staging"
)

// ReleaseCheck runs the pre-release checklist of backup-e-restore.md on the
// database of conn: a verified backup; the courses exported as transfer files
// next to it; room at the destination for two more backups of that size; and a
// restore of the backup into the staging database, compared with its manifest.
// Every item runs that can; none stops the others.
func (r *Runner) ReleaseCheck(ctx context.Context, conn pgtools.Conn, opt ReleaseOptions) *Checklist {
	c := &Checklist{}
	bopt := opt.Backup
	bopt.Trigger = TriggerReleaseCheck
	res, err := r.Backup(ctx, conn, bopt)
	if err != nil {
		c.Items = append(c.Items, CheckItem{Title: itemBackup, Status: CheckFailed, Detail: failureDetail(err)})
	} else {
		c.Backup = res.Manifest
		c.Items = append(c.Items, CheckItem{Title: itemBackup, Detail: fmt.Sprintf(
			"%s: %s, SHA-256 %s, verificado por leitura completa (pg_restore).", res.Manifest.File, FormatBytes(res.Manifest.SizeBytes), res.Manifest.SHA256)})
	}
	c.Items = append(c.Items, r.exportCourses(ctx, opt, c.Backup))
	c.Items = append(c.Items, r.checkSpace(ctx, bopt.Dest, c.Backup))
	c.Items = append(c.Items, r.checkRestore(ctx, bopt.Dest, c.Backup, opt))
	return c
}

func (r *Runner) exportCourses(ctx context.Context, opt ReleaseOptions, m *Manifest) CheckItem {
	item := CheckItem{Title: itemExport}
	ids := opt.Courses
	if len(ids) == 0 {
		var err error
		if ids, err = opt.Exporter.PublishedCourseIDs(ctx); err != nil {
			item.Status, item.Detail = CheckFailed, "Não foi possível listar os cursos publicados: "+err.Error()
			return item
		}
		if len(ids) == 0 {
			item.Detail = "Nenhum curso publicado para exportar."
			return item
		}
	}
	prefix := nameAt(r.now())
	if m != nil {
		prefix = m.Name
	}
	var done, failed []string
	for _, id := range ids {
		name, err := r.exportCourse(ctx, opt.Backup.Dest, opt.Exporter, id, prefix)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %s", id, err))
			continue
		}
		done = append(done, name)
	}
	if len(done) > 0 {
		item.Detail = fmt.Sprintf("%d curso(s) exportado(s) em %s:\n%s", len(done), opt.Backup.Dest, strings.Join(done, "\n"))
	}
	if len(failed) > 0 {
		item.Status = CheckFailed
		item.Detail = strings.TrimSpace(item.Detail + "\n" + fmt.Sprintf("%d curso(s) não exportado(s):\n%s", len(failed), strings.Join(failed, "\n")))
	}
	return item
}

// exportCourse writes one course next to the backup, as
// <backup>.curso-<file name>-<start of the course id>.json: two courses may share
// a title.
func (r *Runner) exportCourse(ctx context.Context, dest backupdest.Destination, ex CourseExporter, id, prefix string) (string, error) {
	filename, write, err := ex.ExportCourseFile(ctx, id)
	if err != nil {
		return "", err
	}
	name := prefix + ".curso-" + strings.TrimSuffix(filename, ".json") + "-" + id[:min(8, len(id))] + ".json"
	up, err := dest.Create(ctx, name)
	if err != nil {
		return "", err
	}
	if err = write(up); err == nil {
		if err = up.Finish(ctx); err == nil {
			err = up.Publish(ctx)
		}
	}
	if err != nil {
		return "", errors.Join(err, up.Abort(ctx))
	}
	return name, nil
}

func (r *Runner) checkSpace(ctx context.Context, dest backupdest.Destination, m *Manifest) CheckItem {
	item := CheckItem{Title: itemSpace}
	free, ok, err := dest.FreeBytes(ctx)
	switch {
	case err != nil:
		item.Status, item.Detail = CheckFailed, "Não foi possível medir o espaço livre: "+err.Error()
	case !ok:
		item.Status, item.Detail = CheckNotMeasurable, fmt.Sprintf("%s é armazenamento de objetos: o espaço livre não é informado; confira a cota no painel do provedor.", dest)
	case m == nil:
		item.Status, item.Detail = CheckFailed, fmt.Sprintf("Sem backup novo para comparar; livres: %s.", FormatBytes(free))
	case free < 2*m.SizeBytes:
		item.Status, item.Detail = CheckFailed, fmt.Sprintf("Livres %s em %s: menos que o dobro do último backup (%s).", FormatBytes(free), dest, FormatBytes(m.SizeBytes))
	default:
		item.Detail = fmt.Sprintf("Livres %s em %s: ao menos o dobro do último backup (%s).", FormatBytes(free), dest, FormatBytes(m.SizeBytes))
	}
	return item
}

func (r *Runner) checkRestore(ctx context.Context, dest backupdest.Destination, m *Manifest, opt ReleaseOptions) CheckItem {
	item := CheckItem{Title: itemRestore}
	if m == nil {
		item.Status, item.Detail = CheckFailed, "Não executado: o backup falhou."
		return item
	}
	res, err := r.Restore(ctx, dest, m.Name, opt.Staging, RestoreOptions{Clean: true, Protect: opt.Protect})
	if err != nil {
		item.Status, item.Detail = CheckFailed, failureDetail(err)
		return item
	}
	item.Detail = fmt.Sprintf("%s restaurado em %s: as %d tabelas têm as contagens do manifesto; versão de migração %d; nenhuma linha órfã.",
		m.Name, opt.Staging, len(m.Integrity.Tables), res.Comparison.Actual.MigrationVersion)
	for _, n := range res.Comparison.Notes {
		item.Detail += "\nnota: " + n
	}
	return item
}

// failureDetail is the Portuguese meaning of a failure and, for the operator,
// what happened.
func failureDetail(err error) string {
	return FailureMessage(CodeOf(err)) + "\n" + err.Error()
}

// FormatBytes renders a size in binary units ("58.3 KiB").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
