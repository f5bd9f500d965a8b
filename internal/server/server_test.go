package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/backupdest"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/requestid"
	"github.com/educacao-continuada/content-transfer/internal/server"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/syncbuf"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// maxRequestBytes is the request limit of the test servers: small, so that the
// tests can cross it cheaply.
const maxRequestBytes = 1 << 20

// env is a running contentd: real database, real gRPC server, real gateway, on loopback.
type env struct {
	pool    *pgxpool.Pool
	conn    *grpc.ClientConn // sends a valid gestor token with every call
	client  contentv1.ContentTransferServiceClient
	anon    *grpc.ClientConn // sends no token
	httpURL string
	demoID  string
	keys    *testKeys
	logs    *syncbuf.Buffer
	token   string // the gestor token of conn and of REST calls
	// backups is the backup destination the server lists.
	backups backupdest.Destination
	// stop shuts the server down as SIGTERM does, and returns what Serve did.
	stop               func() error
	grpcAddr, httpAddr string
}

// options adjust the server of one test.
type options struct {
	rpcTimeout, importTimeout time.Duration
	corsOrigins               []string
	// dbURL is the database to serve, when not a fresh one of the shared cluster.
	dbURL string
	// maxRequestBytes replaces the small default limit.
	maxRequestBytes int
	// shutdownTimeout replaces the 5s grace period.
	shutdownTimeout time.Duration
	// tracing, when set, traces the server and the statements of its pool.
	tracing trace.TracerProvider
}

func start(t testing.TB) *env { return startWith(t, options{}) }

func startWith(t testing.TB, opt options) *env {
	t.Helper()
	var pool *pgxpool.Pool
	switch {
	case opt.tracing != nil:
		cfg, err := dbpool.Config(pgtest.NewDBURL(t), pgtest.Pooler(), 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(opt.tracing))
		if pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
	case opt.dbURL != "":
		pool = pgtest.Open(t, opt.dbURL)
	default:
		pool = pgtest.NewDB(t)
	}
	st := store.New(pool)
	course, err := demo.Course()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SeedCourse(context.Background(), course); err != nil {
		t.Fatal(err)
	}
	keys := newTestKeys(t)
	authn, err := auth.New(auth.Config{
		HS256Secret: keys.secret, JWKS: keys.keySet, Audience: "authenticated",
		RoleClaim: "app_metadata.role", AllowedRoles: []string{"gestor", "admin"}, Leeway: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if opt.rpcTimeout == 0 {
		opt.rpcTimeout = time.Minute
	}
	if opt.importTimeout == 0 {
		opt.importTimeout = time.Minute
	}
	if opt.maxRequestBytes == 0 {
		opt.maxRequestBytes = maxRequestBytes
	}
	if opt.shutdownTimeout == 0 {
		opt.shutdownTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := metrics.New()
	m.RegisterPool(pool)
	svc := transfer.New(st, transfer.Config{Version: "test", Environment: "test", MaxFileBytes: opt.maxRequestBytes, Observer: m})
	backupDir := filepath.Join(t.TempDir(), "backups")
	schedule, err := backup.ParseSchedule("0 3 * * 0", "America/Sao_Paulo")
	if err != nil {
		t.Fatal(err)
	}
	svcs := server.Services{
		Transfer:  svc,
		Backups:   &backup.Overviewer{Dest: backupdest.NewDir(backupDir), Keep: 4, Schedule: schedule, Runs: st, Now: time.Now},
		Integrity: &integrity.Service{DB: st, Audit: st, Scope: integrity.Scope{Schemas: []string{"public"}}},
	}
	m.RegisterBackups(svcs.Backups)
	logs := &syncbuf.Buffer{}
	log := slog.New(requestid.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxRequestBytes: opt.maxRequestBytes,
		RPCTimeout: opt.rpcTimeout, ImportTimeout: opt.importTimeout,
		ShutdownTimeout: opt.shutdownTimeout, Metrics: m, Tracing: opt.tracing, ReadinessInterval: 50 * time.Millisecond, CORSAllowedOrigins: opt.corsOrigins,
	}, svcs, authn, st, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var stopOnce sync.Once
	var serveErr error
	stop := func() error {
		stopOnce.Do(func() {
			cancel()
			serveErr = <-done
		})
		return serveErr
	}
	token := keys.token(t, keys.gestorClaims())
	withToken := grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), method, req, reply, cc, opts...)
	})
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()), withToken)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		anon.Close()
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &env{
		pool: pool, conn: conn, client: contentv1.NewContentTransferServiceClient(conn), anon: anon,
		httpURL: "http://" + srv.HTTPAddr().String(), demoID: course.GetId(), keys: keys, logs: logs,
		token: token, backups: svcs.Backups.Dest, stop: stop, grpcAddr: srv.GRPCAddr().String(), httpAddr: srv.HTTPAddr().String(),
	}
}

func (e *env) get(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	return e.do(t, http.MethodGet, path, nil, nil)
}

// do sends a request with the given headers and returns the response and its
// body. Unless headers name Authorization, the request carries a gestor token;
// an empty Authorization value sends none.
func (e *env) do(t testing.TB, method, path string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.httpURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for k, v := range headers {
		req.Header.Set(k, v)
		if v == "" {
			req.Header.Del(k)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestExportOverGRPCAndRESTIsTheSameFile(t *testing.T) {
	t.Parallel()
	e := start(t)

	var header metadata.MD
	grpcResp, err := e.client.ExportCourse(context.Background(), &contentv1.ExportCourseRequest{CourseId: e.demoID}, grpc.Header(&header))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(t, "/gestor/export/course/"+e.demoID)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}

	// A small file goes out whole, with its length.
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("Content-Length %d and Transfer-Encoding %v for a body of %d bytes", resp.ContentLength, resp.TransferEncoding, len(body))
	}

	// The HTTP body is exactly the file: a CourseExport, nothing around it.
	var restFile contentv1.CourseExport
	if err := (protojson.UnmarshalOptions{}).Unmarshal(body, &restFile); err != nil {
		t.Fatalf("body is not a CourseExport: %v\n%s", err, body)
	}
	if !strings.HasPrefix(string(body), "{\n  \"formatVersion\": 1,\n") {
		t.Errorf("body does not start as a pretty-printed file:\n%.200s", body)
	}
	grpcFile := grpcResp.GetFile()
	if restFile.GetExportedAt() == nil || grpcFile.GetExportedAt() == nil {
		t.Fatal("exportedAt missing")
	}
	restFile.ExportedAt, grpcFile.ExportedAt = nil, nil
	if diff := cmp.Diff(grpcFile, &restFile, protocmp.Transform()); diff != "" {
		t.Errorf("gRPC and REST files differ (-grpc +rest):\n%s", diff)
	}
	if len(grpcFile.GetCourse().GetModules()) != 3 {
		t.Errorf("demo export has %d modules, want 3", len(grpcFile.GetCourse().GetModules()))
	}

	// The download headers.
	date := time.Now().Format("20060102")
	wantName := "trabalho-em-altura-nr-35-capacitacao-inicial-" + date + "-1783cc93.json"
	if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="`+wantName+`"`; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if grpcResp.GetFilename() != wantName || header.Get("content-disposition") == nil {
		t.Errorf("gRPC filename = %q, header = %v", grpcResp.GetFilename(), header)
	}
	for name := range resp.Header {
		if strings.HasPrefix(name, "Grpc-Metadata-") {
			t.Errorf("internal gRPC metadata leaked as HTTP header %s", name)
		}
	}
}

func TestErrorsOverGRPCAndREST(t *testing.T) {
	t.Parallel()
	e := start(t)
	tests := []struct {
		name     string
		courseID string
		grpcCode codes.Code
		httpCode int
		code     string
		status   string
	}{
		{"malformed id", "nao-e-uuid", codes.InvalidArgument, http.StatusBadRequest, "INVALID_COURSE_ID", "INVALID_ARGUMENT"},
		{"unknown id", "7d4b2a0c-1111-4222-8333-444455556666", codes.NotFound, http.StatusNotFound, "COURSE_NOT_FOUND", "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.client.ExportCourse(context.Background(), &contentv1.ExportCourseRequest{CourseId: tt.courseID})
			s := status.Convert(err)
			if s.Code() != tt.grpcCode {
				t.Fatalf("gRPC code = %v, want %v (%v)", s.Code(), tt.grpcCode, err)
			}
			info := errorInfo(err)
			if info == nil || info.GetReason() != tt.code || info.GetMetadata()["path"] != "courseId" {
				t.Fatalf("ErrorInfo = %v, want reason %s, path courseId", info, tt.code)
			}

			resp, body := e.get(t, "/gestor/export/course/"+tt.courseID)
			if resp.StatusCode != tt.httpCode {
				t.Fatalf("HTTP status = %d, want %d: %s", resp.StatusCode, tt.httpCode, body)
			}
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if got.Code != tt.code || got.Path != "courseId" || got.Message != s.Message() || got.Status != tt.status {
				t.Errorf("error body = %+v", got)
			}
			if !regexp.MustCompile(`[ãçéíóúâê]`).MatchString(got.Message) {
				t.Errorf("message %q does not look Portuguese", got.Message)
			}
		})
	}
}

func TestRESTRouting(t *testing.T) {
	t.Parallel()
	e := start(t)
	tests := []struct {
		method, path string
		httpCode     int
		code, path2  string
		allow        string
	}{
		{http.MethodGet, "/gestor/nada", http.StatusNotFound, "ROUTE_NOT_FOUND", "", ""},
		{http.MethodGet, "/qualquer", http.StatusNotFound, "ROUTE_NOT_FOUND", "", ""},
		{http.MethodDelete, "/gestor/courses", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", "GET, HEAD"},
		{http.MethodGet, "/gestor/import/apply", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", "POST"},
		{http.MethodPut, "/gestor/export/course/" + e.demoID, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", "GET, HEAD"},
		{http.MethodGet, "/gestor/courses?pageSize=abc", http.StatusBadRequest, "INVALID_PARAMETER", "pageSize", ""},
		{http.MethodGet, "/gestor/courses?pageSize=1&pageSize=2", http.StatusBadRequest, "INVALID_PARAMETER", "pageSize", ""},
		{http.MethodGet, "/gestor/courses?status=QUASE", http.StatusBadRequest, "INVALID_PARAMETER", "status", ""},
		{http.MethodGet, "/gestor/courses?pageSize=500", http.StatusBadRequest, "INVALID_PAGE_SIZE", "pageSize", ""},
		// The same code as over gRPC, where 99 is all a client can send.
		{http.MethodGet, "/gestor/courses?status=99", http.StatusBadRequest, "INVALID_STATUS", "status", ""},
		{http.MethodGet, "/gestor/backups?runLimit=x", http.StatusBadRequest, "INVALID_PARAMETER", "runLimit", ""},
	}
	for _, tt := range tests {
		resp, got := e.do(t, tt.method, tt.path, nil, nil)
		var eb errorBody
		if resp.StatusCode != tt.httpCode || json.Unmarshal(got, &eb) != nil || eb.Code != tt.code || eb.Path != tt.path2 || eb.Message == "" {
			t.Errorf("%s %s = %d %s, want %d with code %s at %q", tt.method, tt.path, resp.StatusCode, got, tt.httpCode, tt.code, tt.path2)
		}
		if resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, resp.Header.Get("Allow"), tt.allow)
		}
	}
	_, err := e.client.ListCourses(context.Background(), &contentv1.ListCoursesRequest{Status: 99})
	if reason(err) != "INVALID_STATUS" {
		t.Errorf("status 99 over gRPC: %v", err)
	}

	// HEAD answers as GET, without a body.
	get, body := e.get(t, "/gestor/export/course/"+e.demoID)
	head, headBody := e.do(t, http.MethodHead, "/gestor/export/course/"+e.demoID, nil, nil)
	if head.StatusCode != http.StatusOK || len(headBody) != 0 || head.Header.Get("Content-Disposition") != get.Header.Get("Content-Disposition") ||
		head.Header.Get("Content-Type") != get.Header.Get("Content-Type") || len(body) == 0 {
		t.Errorf("HEAD export: %d %v (%d body bytes)", head.StatusCode, head.Header, len(headBody))
	}
}

func TestListCoursesOverREST(t *testing.T) {
	t.Parallel()
	e := start(t)
	resp, body := e.get(t, "/gestor/courses?pageSize=10&status=COURSE_STATUS_PUBLISHED&titleQuery=altura")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got contentv1.ListCoursesResponse
	if err := protojson.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.GetCourses()) != 1 || got.GetCourses()[0].GetId() != e.demoID || got.GetCourses()[0].GetLessonCount() != 8 {
		t.Fatalf("courses = %v", got.GetCourses())
	}
	resp, body = e.get(t, "/gestor/courses?status=COURSE_STATUS_DRAFT")
	if err := protojson.Unmarshal(body, &got); err != nil || resp.StatusCode != http.StatusOK || len(got.GetCourses()) != 0 {
		t.Fatalf("draft filter: %d %s", resp.StatusCode, body)
	}
}

func TestHealthReflectionAndOpenAPI(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()

	health := healthpb.NewHealthClient(e.conn)
	for _, svc := range []string{"", contentv1.ContentTransferService_ServiceDesc.ServiceName, contentv1.BackupService_ServiceDesc.ServiceName} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q = %v, %v; want SERVING", svc, resp, err)
		}
	}

	stream, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatal(err)
	}
	refl, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]bool{}
	for _, s := range refl.GetListServicesResponse().GetService() {
		services[s.GetName()] = true
	}
	for _, want := range []string{"educacao.content.v1.ContentTransferService", "educacao.content.v1.BackupService", "grpc.health.v1.Health"} {
		if !services[want] {
			t.Errorf("reflection does not list %s: %v", want, services)
		}
	}
	_ = stream.CloseSend()

	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"database":"ok"`} {
		resp, body := e.get(t, path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body := e.get(t, "/openapi.json")
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("GET /openapi.json = %d", resp.StatusCode)
	}
	for _, p := range []string{"/gestor/courses", "/gestor/export/course/{courseId}", "/gestor/import/analyze", "/gestor/import/apply",
		"/gestor/backups", "/gestor/integrity"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("OpenAPI document lacks %s; has %v", p, doc.Paths)
		}
	}
}

func TestReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	e := start(t)
	// Forbid new connections to this test's database and cut the existing ones:
	// readiness must fail, liveness must not.
	ctx := context.Background()
	cfg := e.pool.Config().ConnConfig.Copy()
	db := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, db); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(t, "/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the database gone = %d %s, want 503", resp.StatusCode, body)
	}
	if resp, _ := e.get(t, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
	}
	// Calls fail as "try again later", not as a bug.
	resp, body = e.get(t, "/gestor/export/course/"+e.demoID)
	var eb errorBody
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(body, &eb) != nil || eb.Code != "UNAVAILABLE" {
		t.Errorf("export with the database gone = %d %s, want 503 UNAVAILABLE", resp.StatusCode, body)
	}
	// gRPC health follows, for the services and for the empty name that
	// Kubernetes' gRPC probes ask; and comes back with the database.
	health := healthpb.NewHealthClient(e.conn)
	names := []string{"", contentv1.ContentTransferService_ServiceDesc.ServiceName, contentv1.BackupService_ServiceDesc.ServiceName}
	waitHealth := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for _, name := range names {
			deadline := time.Now().Add(5 * time.Second)
			for {
				r, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
				if err == nil && r.GetStatus() == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("gRPC health of %q stays %v, %v; want %v", name, r, err, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	waitHealth(healthpb.HealthCheckResponse_NOT_SERVING)
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	waitHealth(healthpb.HealthCheckResponse_SERVING)
	if resp, body := e.get(t, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz with the database back = %d %s", resp.StatusCode, body)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const origin = "https://lms.example.com"
	e := startWith(t, options{corsOrigins: []string{origin}})
	resp, _ := e.do(t, http.MethodOptions, "/gestor/import/apply", nil, map[string]string{
		"Authorization": "", "Origin": origin, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type, idempotency-key, if-match",
	})
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.do(t, http.MethodGet, "/gestor/export/course/"+e.demoID, nil, map[string]string{"Origin": origin})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
		t.Errorf("export from the allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.do(t, http.MethodGet, "/gestor/courses", nil, map[string]string{"Origin": "https://outro.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %v", resp.Header)
	}
	// Off by default.
	off := start(t)
	resp, _ = off.do(t, http.MethodGet, "/gestor/courses", nil, map[string]string{"Origin": origin})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS is on without CORS_ALLOWED_ORIGINS: %v", resp.Header)
	}
}

// errorBody is the JSON of contentv1.Error, as a test reads it.
type errorBody struct {
	Code, Message, Path, Status string
	Report                      json.RawMessage
}

// TestRESTExportOfALargeCourseIsStreamed: a file over the size that REST sends
// whole (1 MiB) is written as it is encoded, in chunks, and is the same file
// as over gRPC, whose response (over maxDirtyBuffer) is sent from a mapped
// buffer.
func TestRESTExportOfALargeCourseIsStreamed(t *testing.T) {
	t.Parallel()
	e := startWith(t, options{maxRequestBytes: 16 << 20})
	shape := coursegen.M
	shape.Modules *= 3
	file, err := coursefile.Marshal(coursegen.Generate(shape, 7))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := e.client.ApplyImport(context.Background(), &contentv1.ApplyImportRequest{
		Source: &contentv1.ApplyImportRequest_FileJson{FileJson: file}})
	if err != nil {
		t.Fatal(err)
	}
	grpcResp, err := e.client.ExportCourse(context.Background(), &contentv1.ExportCourseRequest{CourseId: applied.GetCourseId()},
		grpc.MaxCallRecvMsgSize(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(t, "/gestor/export/course/"+applied.GetCourseId())
	if resp.StatusCode != http.StatusOK || len(body) < 2<<20 {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp.ContentLength != -1 || !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
		t.Errorf("Content-Length %d and Transfer-Encoding %v: want the file streamed in chunks", resp.ContentLength, resp.TransferEncoding)
	}
	var restFile contentv1.CourseExport
	if err := protojson.Unmarshal(body, &restFile); err != nil {
		t.Fatal(err)
	}
	grpcFile := grpcResp.GetFile()
	if size := proto.Size(grpcResp); size <= 4<<20 { // maxDirtyBuffer
		t.Fatalf("the gRPC response has %d bytes, not over maxDirtyBuffer", size)
	}
	restFile.ExportedAt, grpcFile.ExportedAt = nil, nil
	if diff := cmp.Diff(grpcFile, &restFile, protocmp.Transform()); diff != "" {
		t.Errorf("gRPC and REST files differ (-grpc +rest):\n%s", diff)
	}
}
