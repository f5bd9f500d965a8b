package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/store"
)

// An export's text and messages are pooled, and go back to their pools once
// its response is written. Many exports of two courses at once, over gRPC and
// REST, each answer with their own course whole, as the store reads it outside
// any call: a response written after they went back would hold emptied
// messages, another export's text, or, in make test's race builds (which
// overwrite a released block), 0xFF bytes.
func TestConcurrentExportsEachAnswerTheirOwnCourse(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	generated := coursegen.Generate(coursegen.S, 7).GetCourse() // its text spans several blocks
	if _, err := store.New(e.pool).SeedCourse(ctx, generated); err != nil {
		t.Fatal(err)
	}
	// What each export must answer: the course as the store reads it outside
	// any call, in memory of its own.
	want := map[string]*contentv1.Course{}
	for _, id := range []string{e.demoID, generated.GetId()} {
		course, err := store.New(e.pool).ReadCourse(ctx, uuid.MustParse(id), nil)
		if err != nil {
			t.Fatal(err)
		}
		want[id] = course
	}
	restExport := func(id string) (*contentv1.Course, error) {
		req, err := http.NewRequest(http.MethodGet, e.httpURL+"/gestor/export/course/"+id, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
		}
		var file contentv1.CourseExport
		if err := protojson.Unmarshal(body, &file); err != nil {
			return nil, err
		}
		return file.GetCourse(), nil
	}
	var wg sync.WaitGroup
	for client := range 8 {
		wg.Go(func() {
			for i := range 6 {
				id := []string{e.demoID, generated.GetId()}[(client+i)%2]
				var got *contentv1.Course
				var err error
				if client%2 == 0 {
					var resp *contentv1.ExportCourseResponse
					resp, err = e.client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: id})
					got = resp.GetFile().GetCourse()
				} else {
					got, err = restExport(id)
				}
				switch {
				case err != nil:
					t.Errorf("client %d, export %d: %v", client, i, err)
					return
				case !proto.Equal(got, want[id]):
					t.Errorf("client %d, export %d of course %s: not the course exported alone: %.1500s", client, i, id, cmp.Diff(want[id], got, protocmp.Transform()))
				}
			}
		})
	}
	wg.Wait()
}
