package server

import (
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// errPanic is what a recovered panic becomes: an unexpected, hence Internal, error.
var errPanic = errors.New("handler panicked")

// newGRPCServer builds the gRPC server: the transfer service behind the interceptor
// chain (log, recover, map errors, authenticate, bound the time), plus health and
// reflection.
func newGRPCServer(svc *transfer.Service, authn *auth.Authenticator, healthSrv *health.Server, log *slog.Logger, cfg Config) *grpc.Server {
	importTimeouts := map[string]time.Duration{
		contentv1.ContentTransferService_AnalyzeImport_FullMethodName: cfg.ImportTimeout,
		contentv1.ContentTransferService_ApplyImport_FullMethodName:   cfg.ImportTimeout,
	}
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes+grpcEnvelopeBytes),
		grpc.ForceServerCodecV2(newFileCodec()),
		grpc.ChainUnaryInterceptor(
			logInterceptor(log),
			recoverInterceptor(log),
			statusInterceptor(log),
			authUnaryInterceptor(authn),
			deadlineInterceptor(importTimeouts, cfg.RPCTimeout),
		),
		grpc.ChainStreamInterceptor(authStreamInterceptor(authn)),
	)
	contentv1.RegisterContentTransferServiceServer(srv, &contentTransfer{svc: svc})
	healthpb.RegisterHealthServer(srv, healthSrv)
	reflection.Register(srv)
	return srv
}
