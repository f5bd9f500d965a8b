package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/educacao-continuada/content-transfer/internal/requestid"
)

// requestIDInterceptor gives a gRPC call its id (the caller's x-request-id, or
// a new one), in its context and in the response's header. A REST call comes
// with its id already, from withRequestID.
func requestIDInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if requestid.From(ctx) == "" {
		var sent string
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get(requestid.MetadataKey); len(v) > 0 {
				sent = v[0]
			}
		}
		id := requestid.FromCaller(sent)
		ctx = requestid.With(ctx, id)
		_ = grpc.SetHeader(ctx, metadata.Pairs(requestid.MetadataKey, id)) // fails only outside a gRPC stream
	}
	return handler(ctx, req)
}

// logInterceptor writes one structured line per call: method, code, duration.
// Request and response bodies, and metadata (tokens), are never logged.
func logInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := slog.LevelInfo
		if code == codes.Internal || code == codes.Unknown {
			level = slog.LevelError
		}
		log.Log(ctx, level, "rpc", "method", info.FullMethod, "code", code.String(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
		return resp, err
	}
}

// recoverInterceptor turns a panic in a handler into an Internal status; the stack
// goes to the log, not to the caller.
func recoverInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				resp, err = nil, toStatus(errPanic).Err()
			}
		}()
		return handler(ctx, req)
	}
}
