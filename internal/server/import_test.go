package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func (e *env) post(t testing.TB, path string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodPost, path, body, headers)
}

// curlDefault is the content type `curl --data-binary @file` sends.
var curlDefault = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func withUnknownField() []byte {
	return bytes.Replace(demo.File, []byte(`"formatVersion": 1,`), []byte(`"formatVersion": 1, "planilhaOrigem": "v3",`), 1)
}

func TestAnalyzeOverREST(t *testing.T) {
	t.Parallel()
	e := start(t)
	resp, body := e.post(t, "/gestor/import/analyze", bytes.NewReader(withUnknownField()), curlDefault)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got contentv1.AnalyzeImportResponse
	if err := protojson.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	r := got.GetReport()
	// The demo is already in this database: everything is reused or re-created.
	if !r.GetOk() || r.GetCounts().GetLessons() != 8 || r.GetCounts().GetCompetenciesReused() != 3 {
		t.Errorf("report = %v", r)
	}
	// The unknown field proves the analysis saw the raw JSON, not a parsed message.
	found := false
	for _, w := range r.GetWarnings() {
		found = found || (w.GetCode() == "UNKNOWN_FIELD" && w.GetPath() == "planilhaOrigem")
	}
	if !found {
		t.Errorf("no UNKNOWN_FIELD warning for planilhaOrigem: %v", r.GetWarnings())
	}
}

func TestImportRequestsThatAreNotFiles(t *testing.T) {
	t.Parallel()
	e := start(t)
	big := bytes.Repeat([]byte(" "), maxRequestBytes+1)
	text := func(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }
	tests := []struct {
		name      string
		body      func() io.Reader
		headers   map[string]string
		status    int
		code      string
		hasReport bool
	}{
		{"malformed JSON", text(`{"formatVersion": 1, "course": {`), curlDefault, 400, "INVALID_JSON", true},
		{"not a course file", text(`{"usuarios": []}`), nil, 400, "NOT_A_COURSE_FILE", true},
		{"empty body", text(""), map[string]string{"Content-Type": "application/json"}, 400, "EMPTY_FILE", false},
		{"form upload", text(string(demo.File)), map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415, "UNSUPPORTED_CONTENT_TYPE", false},
		{"xml", text("<curso/>"), map[string]string{"Content-Type": "application/xml"}, 415, "UNSUPPORTED_CONTENT_TYPE", false},
		{"too large, declared", func() io.Reader { return bytes.NewReader(big) }, nil, 413, "FILE_TOO_LARGE", false},
		// No Content-Length: the limit stops the read itself.
		{"too large, streamed", func() io.Reader { return io.MultiReader(bytes.NewReader(big)) }, nil, 413, "FILE_TOO_LARGE", false},
	}
	for _, tt := range tests {
		for _, path := range []string{"/gestor/import/analyze", "/gestor/import/apply"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				resp, out := e.post(t, path, tt.body(), tt.headers)
				var eb errorBody
				if resp.StatusCode != tt.status || json.Unmarshal(out, &eb) != nil || eb.Code != tt.code || eb.Message == "" {
					t.Fatalf("= %d %.300s, want %d %s", resp.StatusCode, out, tt.status, tt.code)
				}
				if (len(eb.Report) > 0) != tt.hasReport {
					t.Errorf("report present = %v, want %v", len(eb.Report) > 0, tt.hasReport)
				}
				if bytes.Contains(out, []byte(`null`)) {
					t.Errorf("the error body has a null: %s", out)
				}
			})
		}
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("%d courses after refused imports, want the demo only", n)
	}
}

func TestApplyOverREST(t *testing.T) {
	t.Parallel()
	e := start(t)
	_, body := e.post(t, "/gestor/import/analyze", bytes.NewReader(demo.File), nil)
	var analysis contentv1.AnalyzeImportResponse
	if err := protojson.Unmarshal(body, &analysis); err != nil {
		t.Fatal(err)
	}
	digest := analysis.GetReport().GetDigest()

	headers := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "k-123", "If-Match": `"` + digest + `"`}
	resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), headers)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("apply = %d %s", resp.StatusCode, body)
	}
	var first contentv1.ApplyImportResponse
	if err := protojson.Unmarshal(body, &first); err != nil {
		t.Fatal(err)
	}
	// A retry with the same key returns the same course.
	resp, body = e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), headers)
	var again contentv1.ApplyImportResponse
	if err := protojson.Unmarshal(body, &again); err != nil || resp.StatusCode != http.StatusOK || again.GetCourseId() != first.GetCourseId() {
		t.Fatalf("retry = %d %.300s", resp.StatusCode, body)
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 2 {
		t.Fatalf("%d courses, want the demo and one import", n)
	}

	other := bytes.Replace(demo.File, []byte("Capacitação Inicial"), []byte("Reciclagem"), 1)
	wantErr := []struct {
		name    string
		body    []byte
		headers map[string]string
		status  int
		code    string
	}{
		{"same key, other file", other, map[string]string{"Idempotency-Key": "k-123"}, 409, "IDEMPOTENCY_KEY_REUSED"},
		{"file changed since analysis", other, map[string]string{"If-Match": digest}, 412, "DIGEST_MISMATCH"},
		{"file with errors", bytes.Replace(demo.File, []byte(`"minScore": 70`), []byte(`"minScore": 700`), 1), nil, 400, "IMPORT_HAS_ERRORS"},
	}
	for _, tt := range wantErr {
		resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(tt.body), tt.headers)
		var eb errorBody
		if resp.StatusCode != tt.status || json.Unmarshal(body, &eb) != nil || eb.Code != tt.code {
			t.Errorf("%s: %d %.300s, want %d %s", tt.name, resp.StatusCode, body, tt.status, tt.code)
		}
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 2 {
		t.Fatalf("%d courses after refused applies, want 2", n)
	}
}

func TestImportOverGRPC(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	var file contentv1.CourseExport
	if err := protojson.Unmarshal(demo.File, &file); err != nil {
		t.Fatal(err)
	}
	// A typed message and the JSON bytes both work.
	typed, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_File{File: &file}})
	if err != nil {
		t.Fatal(err)
	}
	asJSON, err := e.client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}})
	if err != nil {
		t.Fatal(err)
	}
	if typed.GetCourseId() == asJSON.GetCourseId() {
		t.Fatal("two applies without a key made one course")
	}

	tests := []struct {
		name string
		req  *contentv1.ApplyImportRequest
		code codes.Code
		want string
	}{
		{"invalid file", &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: []byte("nope")}}, codes.InvalidArgument, "INVALID_JSON"},
		{"no file", &contentv1.ApplyImportRequest{}, codes.InvalidArgument, "EMPTY_FILE"},
		{"another digest", &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, ExpectedDigest: strings.Repeat("0", 64)}, codes.FailedPrecondition, "DIGEST_MISMATCH"},
		{"not a digest", &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}, ExpectedDigest: "00"}, codes.InvalidArgument, "INVALID_EXPECTED_DIGEST"},
		{"just over the limit", &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: bytes.Repeat([]byte(" "), maxRequestBytes+1)}}, codes.ResourceExhausted, "FILE_TOO_LARGE"},
		{"far over the limit", &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: bytes.Repeat([]byte(" "), 2*maxRequestBytes)}}, codes.ResourceExhausted, ""},
	}
	for _, tt := range tests {
		_, err := e.client.ApplyImport(ctx, tt.req)
		s := status.Convert(err)
		if s.Code() != tt.code {
			t.Errorf("%s: code %v (%v), want %v", tt.name, s.Code(), err, tt.code)
			continue
		}
		if tt.want == "" {
			continue
		}
		if got := reason(err); got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The body is read by the call, after the chain: a call refused before (here
// without a token) still reads the upload to its end before it answers, so that
// a client still sending a large file gets the answer, not a reset connection.
// A body read whole leaves the connection open for the next request; one left
// unread (over 256 KiB) makes the server close it.
func TestImportRefusedBeforeItsBodyIsReadIsAnswered(t *testing.T) {
	t.Parallel()
	e := start(t)
	file := bytes.Repeat([]byte(" "), maxRequestBytes-len(demo.File))
	file = append(file, demo.File...)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	send := func(method, path string, body io.Reader) (status int, out []byte, reused bool) {
		req, err := http.NewRequest(method, e.httpURL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
		}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, err = io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out, reused
	}
	for _, path := range []string{"/gestor/import/analyze", "/gestor/import/apply"} {
		// No Content-Length: the server cannot tell the size before reading.
		status, out, _ := send(http.MethodPost, path, io.MultiReader(bytes.NewReader(file)))
		var eb errorBody
		if status != http.StatusUnauthorized || json.Unmarshal(out, &eb) != nil || eb.Code == "" {
			t.Errorf("%s: %d %.300s, want 401 with its body", path, status, out)
		}
		if _, _, reused := send(http.MethodGet, "/healthz", nil); !reused {
			t.Errorf("%s: the server closed the connection: the body was not read to its end", path)
		}
	}
}
