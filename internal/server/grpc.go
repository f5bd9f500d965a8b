package server

import (
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// errPanic is what a recovered panic becomes: an unexpected, hence Internal, error.
var errPanic = errors.New("handler panicked")

// newGRPCServer builds the gRPC server: the transfer service behind the interceptor
// chain (log, then recover, then map errors), plus health and reflection.
func newGRPCServer(svc *transfer.Service, healthSrv *health.Server, log *slog.Logger, maxMessageBytes int) *grpc.Server {
	srv := grpc.NewServer(
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.ChainUnaryInterceptor(
			logInterceptor(log),
			recoverInterceptor(log),
			statusInterceptor(log),
		))
	contentv1.RegisterContentTransferServiceServer(srv, &contentTransfer{svc: svc})
	healthpb.RegisterHealthServer(srv, healthSrv)
	reflection.Register(srv)
	return srv
}
