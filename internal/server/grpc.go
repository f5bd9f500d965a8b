package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"

	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/reflection"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
)

// errPanic is what a recovered panic becomes: an unexpected, hence Internal, error.
var errPanic = errors.New("handler panicked")

// unaryChain is the interceptor chain of every call, gRPC or REST: log, recover,
// map errors to statuses, authenticate, bound the time.
func unaryChain(authn *auth.Authenticator, log *slog.Logger, cfg Config) []grpc.UnaryServerInterceptor {
	importTimeouts := map[string]time.Duration{
		contentv1.ContentTransferService_AnalyzeImport_FullMethodName: cfg.ImportTimeout,
		contentv1.ContentTransferService_ApplyImport_FullMethodName:   cfg.ImportTimeout,
	}
	return []grpc.UnaryServerInterceptor{
		requestIDInterceptor,
		logInterceptor(log),
		recoverInterceptor(log),
		cfg.Metrics.UnaryServerInterceptor(),
		statusInterceptor(log),
		authUnaryInterceptor(authn),
		deadlineInterceptor(importTimeouts, cfg.RPCTimeout),
	}
}

// newGRPCServer builds the gRPC server: the transfer service behind the
// interceptor chain, plus health and reflection.
func newGRPCServer(impl contentv1.ContentTransferServiceServer, backups contentv1.BackupServiceServer,
	chain []grpc.UnaryServerInterceptor, authn *auth.Authenticator, healthSrv *health.Server, cfg Config) *grpc.Server {
	bodies := &fileBodies{}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes + grpcEnvelopeBytes),
		grpc.ForceServerCodecV2(newFileCodec(bodies, func(n int) { cfg.Metrics.ExportSent(metrics.TransportGRPC, n) })),
		// The files the codec keeps for import calls enter the chain first, so
		// that every call frees what its file holds, even one the chain refuses.
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{bodies.interceptor}, chain...)...),
		grpc.ChainStreamInterceptor(authStreamInterceptor(authn)),
		// Stop, at the end of a shutdown's grace period, waits for the
		// cancelled calls to roll back and return.
		grpc.WaitForHandlers(true),
		// What the transport reads is not pooled: an import's file arrives as
		// thousands of frames, which the codec's reader frees as it parses. In
		// a pool they would stay in memory through the next collection, beside
		// the course they are becoming; unpooled they are garbage at once. The
		// L course's apply peaks at 1.9× its file instead of 2.0–2.1×.
		experimental.BufferPool(mem.NopBufferPool{}),
		grpc.StatsHandler(exportTextHandler{}),
	}
	if cfg.Tracing != nil {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(cfg.Tracing))))
	}
	srv := grpc.NewServer(opts...)
	contentv1.RegisterContentTransferServiceServer(srv, impl)
	contentv1.RegisterBackupServiceServer(srv, backups)
	healthpb.RegisterHealthServer(srv, healthSrv)
	reflection.Register(srv)
	return srv
}

// intercepted runs the transfer service in process, for the REST gateway, behind
// the very interceptor chain of the gRPC server: REST calls are authenticated,
// bounded, logged and mapped exactly as gRPC calls, without a loopback gRPC hop
// that would serialise every request and response twice more.
type intercepted struct {
	contentv1.UnimplementedContentTransferServiceServer
	impl    contentv1.ContentTransferServiceServer
	backups *interceptedBackups
	chain   grpc.UnaryServerInterceptor
}

func newIntercepted(impl contentv1.ContentTransferServiceServer, backups contentv1.BackupServiceServer, chain []grpc.UnaryServerInterceptor) *intercepted {
	composed := composeUnary(chain)
	return &intercepted{impl: impl, chain: composed, backups: &interceptedBackups{impl: backups, chain: composed}}
}

// composeUnary turns interceptors into one, the first outermost, as
// grpc.ChainUnaryInterceptor does.
func composeUnary(chain []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		next := handler
		for i := len(chain) - 1; i >= 0; i-- {
			interceptor, inner := chain[i], next
			next = func(ctx context.Context, req any) (any, error) { return interceptor(ctx, req, info, inner) }
		}
		return next(ctx, req)
	}
}

// call runs one method of server through the chain.
func call[Req, Resp any](ctx context.Context, chain grpc.UnaryServerInterceptor, server any, method string, req *Req,
	fn func(context.Context, *Req) (*Resp, error)) (*Resp, error) {
	info := &grpc.UnaryServerInfo{Server: server, FullMethod: method}
	resp, err := chain(ctx, req, info, func(ctx context.Context, r any) (any, error) { return fn(ctx, r.(*Req)) })
	if err != nil {
		return nil, err
	}
	return resp.(*Resp), nil
}

func (s *intercepted) ListCourses(ctx context.Context, req *contentv1.ListCoursesRequest) (*contentv1.ListCoursesResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.ContentTransferService_ListCourses_FullMethodName, req, s.impl.ListCourses)
}

func (s *intercepted) ListImportBatches(ctx context.Context, req *contentv1.ListImportBatchesRequest) (*contentv1.ListImportBatchesResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.ContentTransferService_ListImportBatches_FullMethodName, req, s.impl.ListImportBatches)
}

func (s *intercepted) ExportCourse(ctx context.Context, req *contentv1.ExportCourseRequest) (*contentv1.ExportCourseResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.ContentTransferService_ExportCourse_FullMethodName, req, s.impl.ExportCourse)
}

func (s *intercepted) AnalyzeImport(ctx context.Context, req *contentv1.AnalyzeImportRequest) (*contentv1.AnalyzeImportResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.ContentTransferService_AnalyzeImport_FullMethodName, req, s.impl.AnalyzeImport)
}

func (s *intercepted) ApplyImport(ctx context.Context, req *contentv1.ApplyImportRequest) (*contentv1.ApplyImportResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.ContentTransferService_ApplyImport_FullMethodName, req, s.impl.ApplyImport)
}

// interceptedBackups is intercepted for the backup service.
type interceptedBackups struct {
	contentv1.UnimplementedBackupServiceServer
	impl  contentv1.BackupServiceServer
	chain grpc.UnaryServerInterceptor
}

func (s *interceptedBackups) ListBackups(ctx context.Context, req *contentv1.ListBackupsRequest) (*contentv1.ListBackupsResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.BackupService_ListBackups_FullMethodName, req, s.impl.ListBackups)
}

func (s *interceptedBackups) GetIntegrityReport(ctx context.Context, req *contentv1.GetIntegrityReportRequest) (*contentv1.GetIntegrityReportResponse, error) {
	return call(ctx, s.chain, s.impl, contentv1.BackupService_GetIntegrityReport_FullMethodName, req, s.impl.GetIntegrityReport)
}
