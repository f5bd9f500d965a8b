package transfer_test

// Properties: export and import agree, the analysis counts what apply creates.

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

func TestRoundTripOfTheDemo(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	resp, err := svc.ApplyImport(context.Background(), raw(demo.File), "", "")
	if err != nil {
		t.Fatal(err)
	}
	exported, err := svc.ExportCourse(context.Background(), resp.GetCourseId())
	if err != nil {
		t.Fatal(err)
	}
	source, _ := demo.Course()
	if diff := cmp.Diff(canonical(source), canonical(exported.File.GetCourse()), protocmp.Transform()); diff != "" {
		t.Errorf("export → apply → export changed the content (-source +round trip):\n%s", diff)
	}
	if exported.File.GetCourse().GetStatus() != contentv1.CourseStatus_COURSE_STATUS_DRAFT {
		t.Errorf("status = %v", exported.File.GetCourse().GetStatus())
	}
}

func TestAnalysisCountsAreTheRowsApplyCreates(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	svc := newService(pool)
	rapidCheck(t, func(t rapidT, c *contentv1.Course) {
		file := fileBytes(t, c)
		report, err := svc.AnalyzeImport(context.Background(), raw(file))
		if err != nil {
			t.Fatalf("analyze: %v", err)
		}
		if !report.GetOk() {
			t.Fatalf("generated file has errors: %v", report.GetErrors())
		}
		resp, err := svc.ApplyImport(context.Background(), raw(file), "", report.GetDigest())
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if diff := cmp.Diff(report.GetCounts(), resp.GetReport().GetCounts(), protocmp.Transform()); diff != "" {
			t.Fatalf("analysis and apply counts differ (-analysis +apply):\n%s", diff)
		}
		if diff := cmp.Diff(countsAsRows(report.GetCounts()), batchRows(t, pool, resp.GetImportBatchId())); diff != "" {
			t.Fatalf("analysis counts differ from the rows apply created (-analysis +rows):\n%s", diff)
		}
		// Counts add up to what the file holds.
		got := report.GetCounts()
		if int(got.GetCompetenciesCreated()+got.GetCompetenciesReused()) != len(c.GetCompetencies()) ||
			int(got.GetBankQuestionsCreated()+got.GetBankQuestionsExisting()) != len(c.GetQuestionBank()) {
			t.Fatalf("counts %v do not add up to the file", got)
		}
		exported, err := svc.ExportCourse(context.Background(), resp.GetCourseId())
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		if got.GetCompetenciesReused() == 0 && got.GetBankQuestionsExisting() == 0 {
			// An export carries only the competencies the lessons link to.
			if diff := cmp.Diff(canonical(linkedOnly(c)), canonical(exported.File.GetCourse()), protocmp.Transform()); diff != "" {
				t.Fatalf("round trip changed the content (-file +export):\n%s", diff)
			}
		}
	})
}

// sanity check that the report of a typed (gRPC message) input matches the JSON one.
func TestTypedAndJSONInputsAgree(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := svc.AnalyzeImport(context.Background(), raw(demo.File))
	if err != nil {
		t.Fatal(err)
	}
	typed, err := svc.AnalyzeImport(context.Background(), transfer.ImportInput{File: &file})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromJSON, typed, protocmp.Transform()); diff != "" {
		t.Errorf("(-json +typed):\n%s", diff)
	}
}

func TestGeneratedCoursesAreCleanFiles(t *testing.T) {
	t.Parallel()
	svc := newService(pgtest.NewDB(t))
	for _, shape := range []coursegen.Shape{coursegen.S, coursegen.M} {
		file := generatedFile(t, shape, 9)
		report, err := svc.AnalyzeImport(context.Background(), raw(file))
		if err != nil {
			t.Fatal(err)
		}
		if !report.GetOk() || len(report.GetWarnings()) != 0 {
			t.Errorf("a generated %d-module course: ok=%v, errors %v, warnings %v",
				shape.Modules, report.GetOk(), codesOf(report.GetErrors()), codesOf(report.GetWarnings()))
		}
	}
}
