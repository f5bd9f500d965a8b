// Package transfer is the service layer of course transfer: listing, exporting,
// analysing and importing courses. It knows neither HTTP nor SQL: transports call
// it, and it reaches the database through the ContentStore interface it owns.
package transfer

import (
	"context"
	"time"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
)

// ServiceName identifies this service in the source of the files it writes.
const ServiceName = "contentd"

// ContentStore is what the service needs from the database.
type ContentStore interface {
	// ListCourses returns up to q.Limit course summaries ordered by (title, id),
	// starting after q.After when set.
	ListCourses(ctx context.Context, q CourseQuery) ([]*contentv1.CourseSummary, error)
	// ReadCourse returns the course with all its transferable content, read from
	// one consistent snapshot, and records audit (when not nil) along with it if
	// the course exists. It fails with fault.ErrNotFound for an unknown id.
	ReadCourse(ctx context.Context, id uuid.UUID, entry *audit.Entry) (*contentv1.Course, error)
	// ListImportBatches returns up to q.Limit imports, newest first, starting
	// after q.After when set.
	ListImportBatches(ctx context.Context, q ImportBatchQuery) ([]*contentv1.ImportBatch, error)
}

// CourseQuery selects courses for ListCourses.
type CourseQuery struct {
	Limit int
	// Status filters by status; COURSE_STATUS_UNSPECIFIED means any.
	Status contentv1.CourseStatus
	// TitleContains filters by title, case- and accent-insensitively; empty means any.
	TitleContains string
	// After is the keyset position to continue from; nil for the first page.
	After *CourseCursor
}

// CourseCursor is a position in the (title, id) order of courses.
type CourseCursor struct {
	Title string    `json:"t"`
	ID    uuid.UUID `json:"i"`
}

// Store is the database of the service.
type Store interface {
	ContentStore
	ImportStore
	audit.Recorder
}

// Config describes this service instance.
type Config struct {
	// Version and Environment are written into the source of exported files.
	Version     string
	Environment string
	// MaxFileBytes is the largest file an import accepts.
	MaxFileBytes int
	// Observer is told how exports and imports end; none when nil.
	Observer Observer
}

// DefaultMaxFileBytes is the file size limit when Config leaves it zero.
const DefaultMaxFileBytes = 64 << 20

// Service implements course transfer over a Store.
type Service struct {
	store Store
	cfg   Config
	now   func() time.Time
}

// New returns a Service.
func New(store Store, cfg Config) *Service {
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Service{store: store, cfg: cfg, now: time.Now}
}
