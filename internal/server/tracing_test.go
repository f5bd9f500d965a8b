package server_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/tracing"
)

// collector is an OTLP/HTTP trace receiver on loopback: it keeps every span sent.
type collector struct {
	*httptest.Server
	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					c.services = append(c.services, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				c.spans = append(c.spans, ss.GetSpans()...)
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

func TestTracingIsOffUnlessConfigured(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"OTEL_SERVICE_NAME": "contentd"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"},
	} {
		tr, err := tracing.Setup(context.Background(), func(k string) string { return env[k] }, "test")
		if err != nil || tr.Enabled() {
			t.Errorf("%v: enabled %v, %v", env, tr.Enabled(), err)
		}
	}
	if _, err := tracing.Setup(context.Background(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "zipkin"}[k]
	}, "test"); err == nil {
		t.Error("an exporter contentd does not have was accepted")
	}
}

// TestTracing: with OTEL_EXPORTER_OTLP_ENDPOINT, an HTTP request continues the
// caller's trace and a gRPC call starts one, and the SQL statements of each are
// spans inside it.
func TestTracing(t *testing.T) {
	c := newCollector(t)
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.URL, "OTEL_SERVICE_NAME": "contentd-teste"}
	tr, err := tracing.Setup(context.Background(), func(k string) string { return env[k] }, "test")
	if err != nil || !tr.Enabled() {
		t.Fatalf("tracing: %v", err)
	}
	e := startWith(t, options{tracing: tr.Provider})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp, _ := e.do(t, http.MethodGet, "/gestor/export/course/"+e.demoID, nil,
		map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	if _, err := e.client.ListCourses(context.Background(), &contentv1.ListCoursesRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	byTrace := map[string][]*tracepb.Span{}
	var grpcTrace string
	for _, s := range c.spans {
		id := hex.EncodeToString(s.GetTraceId())
		byTrace[id] = append(byTrace[id], s)
		if s.GetName() == "educacao.content.v1.ContentTransferService/ListCourses" {
			grpcTrace = id
		}
	}
	names := func(id string) (http, sql int, all []string) {
		for _, s := range byTrace[id] {
			all = append(all, s.GetName())
			switch {
			case s.GetName() == "GET /gestor/export/course/{id}":
				http++
			case s.GetKind() == tracepb.Span_SPAN_KIND_CLIENT && strings.Contains(strings.ToLower(s.GetName()), "select") ||
				strings.HasPrefix(strings.ToLower(s.GetName()), "batch"):
				sql++
			}
		}
		return
	}
	if h, sql, all := names(traceID); h != 1 || sql == 0 {
		t.Errorf("the caller's trace has %d HTTP spans and %d SQL spans: %q", h, sql, all)
	}
	if grpcTrace == "" {
		t.Fatalf("no gRPC span; spans: %d", len(c.spans))
	}
	if _, sql, all := names(grpcTrace); sql == 0 {
		t.Errorf("the gRPC call's trace has no SQL span: %q", all)
	}
	if len(c.services) == 0 || c.services[0] != "contentd-teste" {
		t.Errorf("service.name %v", c.services)
	}
}
