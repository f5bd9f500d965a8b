package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestListCourses(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewDB(t)
	insertFixture(t, pool) // "Primeiros Socorros no Trabalho" (PUBLISHED, 2 modules, 3 lessons), "Outro curso" (DRAFT)
	for i, title := range []string{"Ética Profissional", "ÉTICA NA SAÚDE", "Gestão de 100% das metas", "Gestão_de_Pessoas"} {
		if _, err := pool.Exec(context.Background(),
			`INSERT INTO courses (id, title, status) VALUES ($1, $2, 'ARCHIVED')`, id(500+i), title); err != nil {
			t.Fatal(err)
		}
	}
	svc := newService(pool)
	titles := func(req *contentv1.ListCoursesRequest) []string {
		t.Helper()
		resp, err := svc.ListCourses(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range resp.GetCourses() {
			out = append(out, c.GetTitle())
		}
		return out
	}

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			req  *contentv1.ListCoursesRequest
			want []string
		}{
			{&contentv1.ListCoursesRequest{Status: contentv1.CourseStatus_COURSE_STATUS_DRAFT}, []string{"Outro curso"}},
			{&contentv1.ListCoursesRequest{TitleQuery: "socorros"}, []string{"Primeiros Socorros no Trabalho"}},
			// Case- and accent-insensitive both ways.
			{&contentv1.ListCoursesRequest{TitleQuery: "etica"}, []string{"ÉTICA NA SAÚDE", "Ética Profissional"}},
			{&contentv1.ListCoursesRequest{TitleQuery: "SAUDE"}, []string{"ÉTICA NA SAÚDE"}},
			// LIKE wildcards in the filter are literal text.
			{&contentv1.ListCoursesRequest{TitleQuery: "100%"}, []string{"Gestão de 100% das metas"}},
			{&contentv1.ListCoursesRequest{TitleQuery: "_de_"}, []string{"Gestão_de_Pessoas"}},
			{&contentv1.ListCoursesRequest{TitleQuery: "%"}, []string{"Gestão de 100% das metas"}},
			{&contentv1.ListCoursesRequest{TitleQuery: "nada disso"}, nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, titles(tt.req)); diff != "" {
				t.Errorf("ListCourses(%v) (-want +got):\n%s", tt.req, diff)
			}
		}
	})

	t.Run("summary counts", func(t *testing.T) {
		resp, err := svc.ListCourses(context.Background(), &contentv1.ListCoursesRequest{TitleQuery: "Primeiros"})
		if err != nil {
			t.Fatal(err)
		}
		c := resp.GetCourses()[0]
		if c.GetId() != courseID || c.GetModuleCount() != 2 || c.GetLessonCount() != 3 ||
			c.GetStatus() != contentv1.CourseStatus_COURSE_STATUS_PUBLISHED || c.GetUpdatedAt() == nil {
			t.Fatalf("summary = %v", c)
		}
	})

	t.Run("pages cover everything once", func(t *testing.T) {
		all := titles(&contentv1.ListCoursesRequest{})
		if len(all) != 6 {
			t.Fatalf("%d courses, want 6: %v", len(all), all)
		}
		var paged []string
		token := ""
		for page := 0; ; page++ {
			if page > 10 {
				t.Fatal("pagination does not end")
			}
			resp, err := svc.ListCourses(context.Background(), &contentv1.ListCoursesRequest{PageSize: 4, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.GetCourses() {
				paged = append(paged, c.GetTitle())
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if diff := cmp.Diff(all, paged); diff != "" {
			t.Fatalf("pages differ from the full list (-want +got):\n%s", diff)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		tests := []struct {
			req  *contentv1.ListCoursesRequest
			code string
			path string
		}{
			{&contentv1.ListCoursesRequest{PageSize: -1}, "INVALID_PAGE_SIZE", "pageSize"},
			{&contentv1.ListCoursesRequest{PageSize: 201}, "INVALID_PAGE_SIZE", "pageSize"},
			{&contentv1.ListCoursesRequest{PageToken: "not-a-token"}, "INVALID_PAGE_TOKEN", "pageToken"},
			{&contentv1.ListCoursesRequest{Status: 42}, "INVALID_STATUS", "status"},
			{&contentv1.ListCoursesRequest{TitleQuery: fmt.Sprintf("%0201d", 0)}, "TITLE_QUERY_TOO_LONG", "titleQuery"},
		}
		for _, tt := range tests {
			_, err := svc.ListCourses(context.Background(), tt.req)
			var fe *fault.Error
			if !errors.Is(err, fault.ErrInvalidArgument) || !errors.As(err, &fe) || fe.Code != tt.code || fe.Path != tt.path {
				t.Errorf("ListCourses(%v) err = %v, want %s at %s", tt.req, err, tt.code, tt.path)
			}
		}
	})
}
