package transfer

import (
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Observer is told how every export and import ended, for metrics.
type Observer interface {
	// Exported: outcome is "ok" or an error code; rows are the content rows of
	// the exported course.
	Exported(outcome string, rows int)
	// Imported: operation is "analyze" or "apply"; outcome is "ok", "replayed"
	// (an apply answered from its idempotency key), "invalid" (the file has
	// errors) or an error code; rows are those an apply created.
	Imported(operation, outcome string, fileBytes int, rows int64)
}

// Import operations and outcomes told to the Observer.
const (
	OperationAnalyze = "analyze"
	OperationApply   = "apply"
	OutcomeOK        = "ok"
	OutcomeReplayed  = "replayed"
	OutcomeInvalid   = "invalid"
)

type noObserver struct{}

func (noObserver) Exported(string, int)                {}
func (noObserver) Imported(string, string, int, int64) {}

// outcome is the outcome of an operation that ended with err and, for an
// import, report.
func outcome(err error, report *contentv1.ImportReport) string {
	switch {
	case report != nil && !report.GetOk():
		return OutcomeInvalid
	case err != nil:
		return fault.CodeOf(err)
	}
	return OutcomeOK
}

// fileBytes is the size of an import's file as received.
func (in ImportInput) fileBytes() int {
	if c, ok := in.Body.(*countingReader); ok {
		return int(c.n)
	}
	if in.Raw != nil {
		return len(in.Raw)
	}
	return proto.Size(in.File)
}

// createdRows sums what an applied import created.
func createdRows(c *contentv1.ImportCounts) int64 {
	return int64(c.GetCourses()) + int64(c.GetModules()) + int64(c.GetLessons()) + int64(c.GetQuizzes()) +
		int64(c.GetQuestions()) + int64(c.GetOptions()) + int64(c.GetCompetenciesCreated()) + int64(c.GetLessonCompetencyLinks()) +
		int64(c.GetBankQuestionsCreated()) + int64(c.GetBankOptions()) + int64(c.GetFaqEntries())
}
