package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// The fuzz targets send what a client can put in each field of each request,
// over gRPC and over REST, and require an answer that is not INTERNAL: a bad
// value is the client's error, with its code and path. `make test` runs their
// seeds; `make fuzz` explores.

// hostile are values every string field is tried with.
var hostile = []string{"", " ", "\x00", "a\x00b", "\xff\xfe", "\xc3\x28", strings.Repeat("á", 5000), "%", "_", `\`, "'; DROP TABLE courses; --",
	"../../etc/passwd", "\u202e", "😀", "null", "{}", "00000000-0000-0000-0000-000000000000", "1783cc93-397d-5e00-912b-08247a2ddc9c",
	"W/\"abc\"", "\"" + strings.Repeat("f", 64) + "\""}

// checkGRPC fails on an INTERNAL or UNKNOWN answer, or on an error without the
// service's machine code.
func checkGRPC(t *testing.T, what string, err error) {
	t.Helper()
	s := status.Convert(err)
	switch s.Code() {
	case codes.OK:
		return
	case codes.Internal, codes.Unknown:
		t.Fatalf("%s: gRPC %s: %s", what, s.Code(), s.Message())
	}
	if errorInfo(err) == nil {
		t.Fatalf("%s: gRPC %s without ErrorInfo: %s", what, s.Code(), s.Message())
	}
}

// checkREST fails on a 5xx answer, or an error body without a code.
func checkREST(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: HTTP %d: %s", what, resp.StatusCode, body)
	}
	if resp.StatusCode >= 400 {
		var e struct{ Code, Message string }
		if json.Unmarshal(body, &e) != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("%s: HTTP %d without an error body: %s", what, resp.StatusCode, body)
		}
	}
}

func FuzzListCourses(f *testing.F) {
	e := start(f)
	for _, s := range hostile {
		f.Add(int32(0), s, int32(0), "")
		f.Add(int32(0), "", int32(0), s)
	}
	f.Add(int32(-1), "", int32(99), "")
	f.Add(int32(201), "eyJ0IjoiXHUwMDAwIiwiaSI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJ9", int32(1), "")
	f.Fuzz(func(t *testing.T, pageSize int32, pageToken string, st int32, title string) {
		req := &contentv1.ListCoursesRequest{PageSize: pageSize, PageToken: pageToken, Status: contentv1.CourseStatus(st), TitleQuery: title}
		_, err := e.client.ListCourses(context.Background(), req)
		checkGRPC(t, "ListCourses", err)
		q := url.Values{"pageSize": {strconv.Itoa(int(pageSize))}, "pageToken": {pageToken}, "status": {strconv.Itoa(int(st))}, "titleQuery": {title}}
		resp, body := e.get(t, "/gestor/courses?"+q.Encode())
		checkREST(t, "GET /gestor/courses", resp, body)
	})
}

func FuzzExportCourse(f *testing.F) {
	e := start(f)
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		_, err := e.client.ExportCourse(context.Background(), &contentv1.ExportCourseRequest{CourseId: id})
		checkGRPC(t, "ExportCourse", err)
		if id == "" || !utf8.ValidString(id) {
			return // not a path segment a client can send
		}
		resp, body := e.get(t, "/gestor/export/course/"+url.PathEscape(id))
		checkREST(t, "GET /gestor/export/course/{id}", resp, body)
	})
}

// FuzzApplyImportOptions fuzzes the fields around the file: the idempotency key
// and the expected digest (the Idempotency-Key and If-Match headers).
func FuzzApplyImportOptions(f *testing.F) {
	e := start(f)
	report, err := e.client.AnalyzeImport(context.Background(), &contentv1.AnalyzeImportRequest{
		Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: demo.File}})
	if err != nil {
		f.Fatal(err)
	}
	digest := report.GetReport().GetDigest()
	for _, s := range hostile {
		f.Add(s, "")
		f.Add(s, digest)
		f.Add("chave-"+s, `"`+digest+`"`)
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, key, digest string) {
		_, err := e.client.ApplyImport(context.Background(), &contentv1.ApplyImportRequest{
			Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, IdempotencyKey: key, ExpectedDigest: digest,
		})
		checkGRPC(t, "ApplyImport", err)
		if !headerSafe(key) || !headerSafe(digest) {
			return // net/http refuses to send such a header
		}
		resp, body := e.post(t, "/gestor/import/apply", strings.NewReader(string(demo.File)),
			map[string]string{"Idempotency-Key": key, "If-Match": digest})
		checkREST(t, "POST /gestor/import/apply", resp, body)
	})
}

func headerSafe(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < ' ' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

func FuzzListBackups(f *testing.F) {
	e := start(f)
	for _, n := range []int32{0, -1, 1, 100, 101, 1 << 30, -1 << 31} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, limit int32) {
		_, err := contentv1.NewBackupServiceClient(e.conn).ListBackups(context.Background(), &contentv1.ListBackupsRequest{RunLimit: limit})
		checkGRPC(t, "ListBackups", err)
		resp, body := e.get(t, "/gestor/backups?runLimit="+strconv.Itoa(int(limit)))
		checkREST(t, "GET /gestor/backups", resp, body)
	})
}

// TestBadRequestFieldsAreTheCallersError pins what the fuzz targets only bound:
// each bad value is an INVALID_ARGUMENT naming its field, over gRPC and REST.
func TestBadRequestFieldsAreTheCallersError(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	token := "eyJ0IjoiXHUwMDAwIiwiaSI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJ9" // {"t":"\u0000",...}
	cases := []struct {
		name       string
		grpc       func() error
		rest       string
		headers    map[string]string
		code, path string
	}{
		{"NUL in the title filter", func() error {
			_, err := e.client.ListCourses(ctx, &contentv1.ListCoursesRequest{TitleQuery: "nr\x0035"})
			return err
		}, "/gestor/courses?titleQuery=nr%0035", nil, "INVALID_TITLE_QUERY", "titleQuery"},
		{"not UTF-8 in the title filter", func() error {
			_, err := e.client.ListCourses(ctx, &contentv1.ListCoursesRequest{TitleQuery: "seguran\xe7a"})
			return err
		}, "/gestor/courses?titleQuery=seguran%E7a", nil, "INVALID_TITLE_QUERY", "titleQuery"},
		{"a page token hiding a NUL", func() error {
			_, err := e.client.ListCourses(ctx, &contentv1.ListCoursesRequest{PageToken: token})
			return err
		}, "/gestor/courses?pageToken=" + token, nil, "INVALID_PAGE_TOKEN", "pageToken"},
		{"NUL in the idempotency key", func() error {
			_, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, IdempotencyKey: "k\x00"})
			return err
		}, "", nil, "INVALID_IDEMPOTENCY_KEY", "idempotencyKey"},
		{"a control character in the idempotency key", func() error {
			_, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, IdempotencyKey: "k\tey"})
			return err
		}, "/gestor/import/apply", map[string]string{"Idempotency-Key": "k\tey"}, "INVALID_IDEMPOTENCY_KEY", "idempotencyKey"},
		{"not a digest", func() error {
			_, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, ExpectedDigest: "abc"})
			return err
		}, "/gestor/import/apply", map[string]string{"If-Match": `"abc"`}, "INVALID_EXPECTED_DIGEST", "expectedDigest"},
		{"not UTF-8 in the course id", func() error {
			_, err := e.client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: "\xff"})
			return err
		}, "/gestor/export/course/%FF", nil, "INVALID_COURSE_ID", "courseId"},
	}
	for _, tc := range cases {
		err := tc.grpc()
		s, info := status.Convert(err), errorInfo(err)
		if s.Code() != codes.InvalidArgument || info == nil || info.GetReason() != tc.code || info.GetMetadata()["path"] != tc.path {
			t.Errorf("%s over gRPC: %v %v, want %s at %s", tc.name, s.Code(), info, tc.code, tc.path)
		}
		if tc.rest == "" {
			continue
		}
		var resp *http.Response
		var body []byte
		if strings.HasPrefix(tc.rest, "/gestor/import") {
			resp, body = e.post(t, tc.rest, strings.NewReader(string(demo.File)), tc.headers)
		} else {
			resp, body = e.get(t, tc.rest)
		}
		var eb struct{ Code, Path, Message string }
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil || eb.Code != tc.code || eb.Path != tc.path || eb.Message == "" {
			t.Errorf("%s over REST: %d %s, want 400 %s at %s", tc.name, resp.StatusCode, body, tc.code, tc.path)
		}
	}
}

func FuzzListImportBatches(f *testing.F) {
	e := start(f)
	for _, s := range hostile {
		f.Add(int32(0), s)
	}
	f.Add(int32(101), "")
	f.Add(int32(1), "eyJjIjoiMjAyNi0xMS0yOVQwMDowMDowMFoiLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0")
	f.Fuzz(func(t *testing.T, pageSize int32, pageToken string) {
		_, err := e.client.ListImportBatches(context.Background(), &contentv1.ListImportBatchesRequest{PageSize: pageSize, PageToken: pageToken})
		checkGRPC(t, "ListImportBatches", err)
		q := url.Values{"pageSize": {strconv.Itoa(int(pageSize))}, "pageToken": {pageToken}}
		resp, body := e.get(t, "/gestor/import/batches?"+q.Encode())
		checkREST(t, "GET /gestor/import/batches", resp, body)
	})
}
