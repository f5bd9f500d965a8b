package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
