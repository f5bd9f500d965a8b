package transfer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Export is an exported course: the transfer file and its suggested file name.
type Export struct {
	File     *contentv1.CourseExport
	Filename string
}

// ExportCourse renders the course with the given id as a transfer file, and
// records the export, whatever its outcome, in the audit log: a successful one in
// the same round trip as the read, a failed one after it.
func (s *Service) ExportCourse(ctx context.Context, courseID string) (export *Export, err error) {
	defer func() {
		rows := 0
		if export != nil {
			entities, links := coursefile.Rows(export.File.GetCourse())
			rows = entities + links
		}
		s.cfg.Observer.Exported(outcome(err, nil), rows)
	}()
	entry := &audit.Entry{Action: ActionExportCourse, TargetType: "course", TargetID: fault.Excerpt(courseID, 80),
		Actor: audit.ActorFrom(ctx), Outcome: audit.Outcome(nil)}
	id, err := parseCourseID(courseID, "courseId")
	if err != nil {
		return nil, s.audit(ctx, entry, err)
	}
	course, err := s.store.ReadCourse(ctx, id, entry)
	if err != nil {
		if errors.Is(err, fault.ErrNotFound) {
			err = fault.New(fault.ErrNotFound, "COURSE_NOT_FOUND", "courseId", fmt.Sprintf("Curso %s não encontrado.", id))
		} else {
			err = fmt.Errorf("export course %s: %w", id, err)
		}
		return nil, s.audit(ctx, entry, err)
	}
	now := s.now().Truncate(time.Second)
	file := &contentv1.CourseExport{
		FormatVersion: coursefile.FormatVersion,
		ExportedAt:    timestamppb.New(now),
		Source: &contentv1.ExportSource{
			Service:     ServiceName,
			Version:     s.cfg.Version,
			CourseId:    id.String(),
			Environment: s.cfg.Environment,
		},
		Course: course,
	}
	return &Export{File: file, Filename: exportFilename(course.GetTitle(), id, now)}, nil
}

func parseCourseID(raw, path string) (uuid.UUID, error) {
	if strings.TrimSpace(raw) == "" {
		return uuid.Nil, fault.New(fault.ErrInvalidArgument, "COURSE_ID_REQUIRED", path,
			"Informe o identificador do curso.")
	}
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return uuid.Nil, fault.New(fault.ErrInvalidArgument, "INVALID_COURSE_ID", path,
			fmt.Sprintf("O identificador do curso %q não é um UUID válido.", fault.Excerpt(raw, 80)))
	}
	return id, nil
}

// exportFilename is "<course-slug>-<yyyymmdd>-<first 8 of the course id>.json",
// the date in the server's local time zone (set TZ, e.g. America/Sao_Paulo).
// The id tells apart two courses of one title — a course and its import in the
// same environment — whose files are downloaded the same day.
func exportFilename(title string, id uuid.UUID, at time.Time) string {
	return slug(title) + "-" + at.In(time.Local).Format("20060102") + "-" + id.String()[:8] + ".json"
}

// maxSlugLen keeps file names short enough for every file system and browser.
const maxSlugLen = 60

// slug turns a title into lowercase ASCII words joined by hyphens, dropping
// accents ("Segurança do Trabalho" → "seguranca-do-trabalho").
func slug(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		default:
			hyphen = true
		}
		if b.Len() >= maxSlugLen {
			break
		}
	}
	if b.Len() == 0 {
		return "curso"
	}
	return strings.TrimRight(b.String()[:min(b.Len(), maxSlugLen)], "-")
}
