package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/server"
	"github.com/educacao-continuada/content-transfer/internal/syncbuf"
)

// scrape reads /metrics, without a token, as Prometheus does.
func scrape(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/metrics", nil, map[string]string{"Authorization": ""})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value is the value of the sample of family name whose labels include want;
// NaN when there is none.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return math.NaN()
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return math.NaN()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	res := makeBackup(t, e)

	resp, exported := e.get(t, "/gestor/export/course/"+e.demoID)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	grpcExport, err := e.client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: e.demoID})
	if err != nil {
		t.Fatal(err)
	}
	e.get(t, "/gestor/export/course/00000000-0000-4000-8000-000000000000")
	e.post(t, "/gestor/import/analyze", bytes.NewReader(demo.File), nil)
	key := map[string]string{"Idempotency-Key": "metricas-1"}
	for range 2 { // applied, then replayed
		if resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), key); resp.StatusCode != http.StatusOK {
			t.Fatalf("apply = %d %s", resp.StatusCode, body)
		}
	}
	broken := bytes.Replace(demo.File, []byte(`"minScore": 70`), []byte(`"minScore": 700`), 1)
	e.post(t, "/gestor/import/apply", bytes.NewReader(broken), nil)

	m := scrape(t, e)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"contentd_grpc_server_handled_total", map[string]string{"grpc_method": "ExportCourse", "grpc_code": "OK", "transport": "rest"}, 1},
		{"contentd_grpc_server_handled_total", map[string]string{"grpc_method": "ExportCourse", "grpc_code": "OK", "transport": "grpc"}, 1},
		{"contentd_grpc_server_handled_total", map[string]string{"grpc_method": "ExportCourse", "grpc_code": "NotFound", "transport": "rest"}, 1},
		{"contentd_grpc_server_handling_seconds", map[string]string{"grpc_method": "ApplyImport", "transport": "rest"}, 3},
		{"contentd_exports_total", map[string]string{"outcome": "ok"}, 2},
		{"contentd_exports_total", map[string]string{"outcome": "COURSE_NOT_FOUND"}, 1},
		{"contentd_export_bytes_total", map[string]string{"transport": "rest"}, float64(len(exported))},
		{"contentd_imports_total", map[string]string{"operation": "analyze", "outcome": "ok"}, 1},
		{"contentd_imports_total", map[string]string{"operation": "apply", "outcome": "ok"}, 1},
		{"contentd_imports_total", map[string]string{"operation": "apply", "outcome": "replayed"}, 1},
		{"contentd_imports_total", map[string]string{"operation": "apply", "outcome": "invalid"}, 1},
		{"contentd_import_bytes_total", map[string]string{"operation": "apply"}, float64(2*len(demo.File) + len(broken))},
		{"contentd_backup_last_success_size_bytes", nil, float64(res.Manifest.SizeBytes)},
		{"contentd_backup_metrics_up", nil, 1},
		{"contentd_db_pool_max_connections", nil, float64(e.pool.Config().MaxConns)},
	}
	for _, c := range checks {
		if got := value(m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	created := pgtest.Count(t, e.pool, `SELECT (SELECT count(*) FROM courses WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM modules WHERE import_batch_id IS NOT NULL)
		+ (SELECT count(*) FROM lessons WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM quizzes WHERE import_batch_id IS NOT NULL)
		+ (SELECT count(*) FROM quiz_questions WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM quiz_options WHERE import_batch_id IS NOT NULL)
		+ (SELECT count(*) FROM competencies WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM lesson_competencies WHERE import_batch_id IS NOT NULL)
		+ (SELECT count(*) FROM bank_questions WHERE import_batch_id IS NOT NULL) + (SELECT count(*) FROM bank_options WHERE import_batch_id IS NOT NULL)
		+ (SELECT count(*) FROM course_faqs WHERE import_batch_id IS NOT NULL)`)
	if got := value(m, "contentd_import_rows_total", nil); got != float64(created) {
		t.Errorf("import rows %v, the database holds %d imported rows", got, created)
	}
	if got := value(m, "contentd_export_rows_total", nil); got <= 0 || math.Mod(got, 2) != 0 {
		t.Errorf("export rows %v for two exports of one course", got)
	}
	if got := value(m, "contentd_export_bytes_total", map[string]string{"transport": "grpc"}); got != float64(proto.Size(grpcExport)) {
		t.Errorf("gRPC export bytes %v, the response has %d", got, proto.Size(grpcExport))
	}
	if last := value(m, "contentd_backup_last_success_timestamp_seconds", nil); math.Abs(last-float64(time.Now().Unix())) > 120 {
		t.Errorf("last backup at %v, it was just taken", last)
	}
	if got := value(m, "contentd_http_requests_total", map[string]string{"method": "post", "code": "200"}); got != 3 {
		t.Errorf("HTTP POST 200 = %v, want 3", got)
	}
	if m["go_goroutines"] == nil || m["process_resident_memory_bytes"] == nil {
		t.Error("no Go runtime or process metrics")
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	e := start(t)
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

	// The caller's id is kept, answered, and on the request's log lines.
	resp, _ := e.do(t, http.MethodGet, "/gestor/export/course/"+e.demoID, nil, map[string]string{"X-Request-Id": "lms-7f3a:42"})
	if got := resp.Header.Get("X-Request-Id"); got != "lms-7f3a:42" {
		t.Errorf("X-Request-Id answered %q", got)
	}
	// A new one when there is none, or when it could forge a log line.
	for _, sent := range []string{"", "a b", "x\u00e9", strings.Repeat("a", 129)} {
		resp, _ := e.do(t, http.MethodGet, "/gestor/courses", nil, map[string]string{"X-Request-Id": sent})
		if got := resp.Header.Get("X-Request-Id"); !uuidRE.MatchString(got) {
			t.Errorf("sent %q, answered %q: want a new UUID", sent, got)
		}
	}
	// Over gRPC, from the metadata, answered in the header.
	var header metadata.MD
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "job-noturno-1")
	if _, err := e.client.ListCourses(ctx, &contentv1.ListCoursesRequest{}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get("x-request-id"); len(got) != 1 || got[0] != "job-noturno-1" {
		t.Errorf("gRPC x-request-id answered %v", got)
	}
	if _, err := e.client.ListCourses(context.Background(), &contentv1.ListCoursesRequest{}, grpc.Header(&header)); err != nil {
		t.Fatal(err)
	}
	if got := header.Get("x-request-id"); len(got) != 1 || !uuidRE.MatchString(got[0]) {
		t.Errorf("gRPC without an id answered %v", got)
	}

	for id, method := range map[string]string{"lms-7f3a:42": "ExportCourse", "job-noturno-1": "ListCourses"} {
		found := false
		for _, line := range strings.Split(e.logs.String(), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil || entry["msg"] != "rpc" || !strings.HasSuffix(fmt.Sprint(entry["method"]), method) {
				continue
			}
			found = found || entry["request_id"] == id
		}
		if !found {
			t.Errorf("no %s log line with request_id %s:\n%s", method, id, e.logs.String())
		}
	}
}

// TestGRPCLogsAreJSON: what gRPC and grpc-gateway log (here as when a client
// hangs up before its response is written) is a JSON line like the others.
func TestGRPCLogsAreJSON(t *testing.T) {
	var buf syncbuf.Buffer
	server.RouteGRPCLogs(slog.New(slog.NewJSONHandler(&buf, nil)))
	grpclog.Errorf("Failed to write response: %v", "write: broken pipe")
	var entry map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &entry); err != nil {
		t.Fatalf("not a JSON line: %q", buf.String())
	}
	if entry["level"] != "WARN" || entry["component"] != "grpc" || entry["msg"] != "Failed to write response: write: broken pipe" {
		t.Errorf("entry %v", entry)
	}
}
