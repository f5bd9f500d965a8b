package server

import (
	"regexp"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/rs/cors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/gen/openapi"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
	"github.com/educacao-continuada/content-transfer/internal/requestid"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
	"github.com/educacao-continuada/content-transfer/internal/web"
)

// Config is what the servers need to know.
type Config struct {
	// GRPCAddr and HTTPAddr are the listen addresses (":0" picks a free port).
	GRPCAddr string
	HTTPAddr string
	// MaxRequestBytes bounds one request, an imported file above all: an HTTP body,
	// or a gRPC message (with a little room for the fields around the file).
	MaxRequestBytes int
	// RPCTimeout bounds a call on the server side; ImportTimeout bounds
	// AnalyzeImport and ApplyImport, which take longer on large files.
	RPCTimeout    time.Duration
	ImportTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain on shutdown; then calls are cut.
	ShutdownTimeout time.Duration
	// ReadinessInterval is how often the database is checked for gRPC health.
	ReadinessInterval time.Duration
	// Version is contentd's, shown by the managers' pages.
	Version string
	// CORSAllowedOrigins are the web origins (https://lms.example.com) whose
	// pages may call the REST API from a browser; none when empty.
	CORSAllowedOrigins []string
	// Metrics are served at /metrics and fed by every call; a fresh set when nil.
	Metrics *metrics.Metrics
	// Tracing records a span for every gRPC call and HTTP request; nil: off.
	Tracing trace.TracerProvider
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Services are what the servers expose.
type Services struct {
	Transfer  *transfer.Service
	Backups   *backup.Overviewer
	Integrity *integrity.Service
}

// grpcEnvelopeBytes is the room a gRPC message needs beyond the file it carries,
// so that a file just over the limit meets the service's own, clearer refusal.
const grpcEnvelopeBytes = 64 << 10

// Server is the gRPC server and the REST gateway in front of it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	db      Pinger
	backups *backup.Overviewer
	health  *health.Server
	grpc    *grpc.Server
	http    *http.Server
	grpcLis net.Listener
	httpLis net.Listener
	// abort cancels the context of every HTTP request still running when the
	// grace period of a shutdown is over: their transactions roll back.
	abort    context.CancelFunc
	inflight sync.WaitGroup // HTTP requests being served
	// ready is whether the last database check succeeded; failures counts the
	// checks that failed since.
	ready    atomic.Bool
	failures atomic.Int64
}

// abortWait bounds the wait for the requests cancelled at the end of a shutdown
// to roll back and return.
const abortWait = 10 * time.Second

// New listens on both addresses and wires the servers; Serve starts them.
func New(ctx context.Context, cfg Config, svcs Services, authn *auth.Authenticator, db Pinger, log *slog.Logger) (*Server, error) {
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	s := &Server{cfg: cfg, log: log, db: db, backups: svcs.Backups, health: health.NewServer()}
	// Not serving until the first database check says otherwise.
	s.setServing(healthpb.HealthCheckResponse_NOT_SERVING)
	impl := &contentTransfer{svc: svcs.Transfer}
	backups := &backupService{backups: svcs.Backups, integrity: svcs.Integrity}
	chain := unaryChain(authn, log, cfg)
	s.grpc = newGRPCServer(impl, backups, chain, authn, s.health, cfg)

	var err error
	var lc net.ListenConfig
	if s.grpcLis, err = lc.Listen(ctx, "tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	if s.httpLis, err = lc.Listen(ctx, "tcp", cfg.HTTPAddr); err != nil {
		s.grpcLis.Close()
		return nil, fmt.Errorf("listen HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	gateway, err := newGateway(ctx, newIntercepted(impl, backups, chain), log, cfg.MaxRequestBytes, cfg.Metrics)
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	pages, err := web.Handler(web.Config{MaxFileBytes: cfg.MaxRequestBytes, Version: cfg.Version})
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	base, abort := context.WithCancel(context.WithoutCancel(ctx))
	s.abort = abort
	s.http = &http.Server{
		Handler:           s.counted(withTracing(cfg.Tracing, withRequestID(cfg.Metrics.InstrumentHTTP(withCORS(cfg.CORSAllowedOrigins, s.routes(gateway, pages)))))),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	return s, nil
}

// GRPCAddr is the address the gRPC server listens on.
func (s *Server) GRPCAddr() net.Addr { return s.grpcLis.Addr() }

// HTTPAddr is the address the REST gateway listens on.
func (s *Server) HTTPAddr() net.Addr { return s.httpLis.Addr() }

func (s *Server) routes(gateway, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	// The managers' pages and their files; everything else under /gestor is the API.
	for route := range web.Pages {
		mux.Handle("GET "+route, pages)
	}
	mux.Handle("GET /gestor/assets/", pages)
	mux.Handle("GET /gestor", pages)
	mux.Handle("GET /gestor/{$}", pages)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.db.Ping(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "error", err.Error())
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "database": "unreachable"})
			return
		}
		body := map[string]any{"status": "ok", "database": "ok"}
		if s.backups != nil {
			body["backups"] = s.backupStatus(ctx)
		}
		writeJSON(w, http.StatusOK, body)
	})
	mux.Handle("GET /metrics", s.cfg.Metrics.Handler())
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON)
	})
	mux.Handle("/", gateway)
	return mux
}

// withRequestID gives every HTTP request its id (the caller's X-Request-Id, or
// a new one), in its context — for every log line of the request — and in the
// response; and marks the calls that follow as REST, for the metrics.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.FromCaller(r.Header.Get(requestid.Header))
		w.Header().Set(requestid.Header, id)
		ctx := metrics.WithTransport(requestid.With(r.Context(), id), metrics.TransportREST)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// uuidInPath is an id in a URL path, replaced in span names.
var uuidInPath = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// withTracing records a span per HTTP request (named by method and path, ids
// replaced by {id}), continuing the caller's trace (traceparent); without a
// provider it changes nothing.
func withTracing(tp trace.TracerProvider, h http.Handler) http.Handler {
	if tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(tp),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + uuidInPath.ReplaceAllString(r.URL.Path, "{id}")
		}))
}

// withCORS lets pages of the allowed origins call the API from a browser
// (preflight answered, bearer tokens and the import headers allowed, the file
// name of an export readable); without origins it changes nothing.
func withCORS(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		ExposedHeaders: []string{"Content-Disposition", "WWW-Authenticate", requestid.Header},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", requestid.Header},
		MaxAge:         600,
	}).Handler(h)
}

func writeJSON(w http.ResponseWriter, code int, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	out, _ := json.Marshal(v)
	_, _ = w.Write(append(out, '\n'))
}

// Serve runs both servers until ctx is done, then drains them gracefully: health
// turns NOT_SERVING, new calls are refused, running calls get ShutdownTimeout.
func (s *Server) Serve(ctx context.Context) error {
	s.checkReadiness(ctx)
	errc := make(chan error, 2)
	go func() { errc <- s.grpc.Serve(s.grpcLis) }()
	go func() {
		if err := s.http.Serve(s.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	var wg sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	wg.Add(1)
	go func() { defer wg.Done(); s.watchReadiness(watchCtx) }()
	s.log.Info("serving", "grpc", s.GRPCAddr().String(), "http", s.HTTPAddr().String())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	stopWatch()
	wg.Wait()
	s.shutdown()
	return serveErr
}

// shutdown stops taking calls (the listeners close at once), lets the calls in
// flight finish within the grace period, then cancels those that remain, whose
// transactions roll back, and waits for them to return.
func (s *Server) shutdown() {
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	s.health.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.http.Shutdown(ctx); err != nil {
			s.log.Warn("HTTP drain cut short: cancelling the requests still running", "error", err.Error())
			s.abort()
			s.waitInflight()
			_ = s.http.Close()
		}
	}()
	go func() {
		defer wg.Done()
		drained := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(drained) }()
		select {
		case <-drained:
		case <-ctx.Done():
			s.log.Warn("gRPC drain cut short: cancelling the calls still running")
			s.grpc.Stop() // cancels them and, with WaitForHandlers, waits for them
		}
	}()
	wg.Wait()
	s.abort()
	s.log.Info("stopped")
}

// counted tracks the HTTP requests in flight, for shutdown.
func (s *Server) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// waitInflight waits, at most abortWait, for the HTTP requests to return.
func (s *Server) waitInflight() {
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(abortWait):
		s.log.Error("requests still running after being cancelled", "waited", abortWait.String())
	}
}

// serviceNames are the gRPC health service names that follow the database: the
// services, and the empty name, which is what Kubernetes' gRPC probes ask.
var serviceNames = []string{
	"",
	contentv1.ContentTransferService_ServiceDesc.ServiceName,
	contentv1.BackupService_ServiceDesc.ServiceName,
}

func (s *Server) setServing(st healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range serviceNames {
		s.health.SetServingStatus(name, st)
	}
}

// firstRetry is the first wait after the database did not answer; each next
// wait doubles, up to the readiness interval.
const firstRetry = 250 * time.Millisecond

// watchReadiness keeps the gRPC health status in step with the database: a
// check every readiness interval while it answers, and retries with backoff
// while it does not (at start, or after an outage), each logged.
func (s *Server) watchReadiness(ctx context.Context) {
	interval, retry := s.cfg.ReadinessInterval, firstRetry
	wait := interval
	if !s.ready.Load() {
		wait, retry = min(retry, interval), retry*2
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.checkReadiness(ctx) {
			wait, retry = interval, firstRetry
		} else {
			wait, retry = min(retry, interval), retry*2
		}
		t.Reset(wait)
	}
}

// checkReadiness pings the database, sets the health status and logs a change;
// it says whether the database answered.
func (s *Server) checkReadiness(ctx context.Context) bool {
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := s.db.Ping(pingCtx)
	if err != nil && ctx.Err() != nil {
		return s.ready.Load() // shutting down: no news
	}
	if err == nil {
		if !s.ready.Swap(true) {
			s.log.Info("database reachable: ready", "after_failed_checks", s.failures.Swap(0))
		}
		s.setServing(healthpb.HealthCheckResponse_SERVING)
		return true
	}
	n := s.failures.Add(1)
	if s.ready.Swap(false) || n == 1 {
		s.log.Warn("database unreachable: not ready; retrying with backoff", "error", err.Error())
	} else {
		s.log.Debug("database still unreachable", "failed_checks", n, "error", err.Error())
	}
	s.setServing(healthpb.HealthCheckResponse_NOT_SERVING)
	return false
}

func (s *Server) closeListeners() {
	s.grpcLis.Close()
	s.httpLis.Close()
}
