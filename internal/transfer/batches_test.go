package transfer_test

import (
	"context"
	"errors"
	"testing"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

// TestListImportBatchesTellsWhereEachImportCameFrom: the provenance of every
// import — when, who, which environment and course it came from, the course it
// created — is listed newest first, in pages.
func TestListImportBatchesTellsWhereEachImportCameFrom(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "user-42", Email: "gestora@example.com"})
	fromStaging := mutateDemo(t, func(doc map[string]any) { at(doc, "source")["environment"] = "homologacao" })
	first, err := svc.ApplyImport(ctx, raw(fromStaging), "", "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.ApplyImport(ctx, raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pool, `UPDATE courses SET title = 'Renomeado' WHERE id = $1`, first.GetCourseId())

	page, err := svc.ListImportBatches(ctx, &contentv1.ListImportBatchesRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.GetBatches()) != 1 || page.GetNextPageToken() == "" {
		t.Fatalf("first page %v", page)
	}
	b := page.GetBatches()[0]
	if b.GetId() != second.GetImportBatchId() || b.GetCourseId() != second.GetCourseId() || b.GetSourceEnvironment() != "demo" ||
		b.GetSourceCourseId() != "1783cc93-397d-5e00-912b-08247a2ddc9c" || b.GetActorId() != "user-42" ||
		b.GetActorEmail() != "gestora@example.com" || b.GetDigest() != second.GetReport().GetDigest() ||
		b.GetCourseStatus() != contentv1.CourseStatus_COURSE_STATUS_DRAFT || b.GetCourseTitle() == "" ||
		b.GetCounts().GetLessons() != 8 || b.GetCreatedAt() == nil {
		t.Errorf("newest import %v", b)
	}
	next, err := svc.ListImportBatches(ctx, &contentv1.ListImportBatchesRequest{PageSize: 1, PageToken: page.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.GetBatches()) != 1 || next.GetNextPageToken() != "" {
		t.Fatalf("second page %v", next)
	}
	if b := next.GetBatches()[0]; b.GetId() != first.GetImportBatchId() || b.GetSourceEnvironment() != "homologacao" || b.GetCourseTitle() != "Renomeado" {
		t.Errorf("older import %v", b)
	}
	// A deleted course leaves its import listed, without a course.
	pgtest.Exec(t, pool, `DELETE FROM courses WHERE id = $1`, first.GetCourseId())
	all, err := svc.ListImportBatches(ctx, &contentv1.ListImportBatchesRequest{})
	if err != nil || len(all.GetBatches()) != 2 || all.GetBatches()[1].GetCourseId() != "" ||
		all.GetBatches()[1].GetCourseStatus() != contentv1.CourseStatus_COURSE_STATUS_UNSPECIFIED {
		t.Errorf("after deleting a course: %v, %v", all, err)
	}

	for _, req := range []*contentv1.ListImportBatchesRequest{{PageSize: 101}, {PageSize: -1}, {PageToken: "x"}} {
		var fe *fault.Error
		if _, err := svc.ListImportBatches(ctx, req); !errors.As(err, &fe) || !errors.Is(err, fault.ErrInvalidArgument) {
			t.Errorf("%v: %v", req, err)
		}
	}
}
