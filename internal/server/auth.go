package server

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/auth"
)

// isPublic says which methods need no token: health checks and reflection, so that
// load balancers and grpcurl can look without credentials. Everything else needs one.
func isPublic(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// authenticate checks the bearer token of a call and puts its subject in the
// context as the actor of the service.
func authenticate(ctx context.Context, a *auth.Authenticator) (context.Context, error) {
	var header string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			header = v[0]
		}
	}
	p, err := a.Authenticate(ctx, header)
	if err != nil {
		return ctx, err
	}
	return audit.WithActor(ctx, audit.Actor{ID: p.Subject, Email: p.Email}), nil
}

func authUnaryInterceptor(a *auth.Authenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if isPublic(info.FullMethod) {
			return handler(ctx, req)
		}
		ctx, err := authenticate(ctx, a)
		if err != nil {
			return nil, err // statusInterceptor, outside this one, maps it
		}
		return handler(ctx, req)
	}
}

// authStreamInterceptor holds streaming calls to the same rule; today only the
// public health and reflection services stream.
func authStreamInterceptor(a *auth.Authenticator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if isPublic(info.FullMethod) {
			return handler(srv, ss)
		}
		if _, err := authenticate(ss.Context(), a); err != nil {
			return toStatus(err).Err()
		}
		return handler(srv, ss)
	}
}

// deadlineInterceptor bounds every call on the server side, whatever the client
// asked: a call's context ends after its method's timeout (or the default), and
// with it the database work.
func deadlineInterceptor(perMethod map[string]time.Duration, def time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		d, ok := perMethod[info.FullMethod]
		if !ok {
			d = def
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return handler(ctx, req)
	}
}
