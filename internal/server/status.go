package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// ErrorDomain is the ErrorInfo domain of the errors this service returns.
const ErrorDomain = "content.educacao.v1"

// kindCodes is the one table that turns the service's error kinds into gRPC codes.
// The gateway then derives the HTTP status from the gRPC code.
var kindCodes = []struct {
	kind error
	code codes.Code
}{
	{fault.ErrInvalidArgument, codes.InvalidArgument},
	{fault.ErrNotFound, codes.NotFound},
	{fault.ErrUnavailable, codes.Unavailable},
	{fault.ErrConflict, codes.Aborted},
	{fault.ErrFailedPrecondition, codes.FailedPrecondition},
	{fault.ErrTooLarge, codes.ResourceExhausted},
	{fault.ErrUnauthenticated, codes.Unauthenticated},
	{fault.ErrPermissionDenied, codes.PermissionDenied},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// internalMessage is all a caller learns of an unexpected error; the log has the rest.
const internalMessage = "Erro interno. Tente novamente; se persistir, informe o suporte."

// toStatus converts an error returned by the service layer into a gRPC status. A
// *fault.Error keeps its code, path and pt-BR message in an ErrorInfo detail and the
// status message; an unknown error becomes Internal without its text.
func toStatus(err error) *status.Status {
	if s, ok := status.FromError(err); ok {
		return s
	}
	code := codes.Internal
	for _, kc := range kindCodes {
		if errors.Is(err, kc.kind) {
			code = kc.code
			break
		}
	}
	var fe *fault.Error
	if !errors.As(err, &fe) {
		msg := internalMessage
		switch code {
		case codes.Canceled:
			msg = "A requisição foi cancelada."
		case codes.DeadlineExceeded:
			msg = "O tempo limite da requisição foi excedido."
		case codes.Unavailable:
			msg = "O serviço está temporariamente indisponível. Tente novamente em instantes."
		}
		fe = fault.New(nil, codeName(code), "", msg)
	}
	s := status.New(code, fe.Message)
	info := &errdetails.ErrorInfo{Reason: fe.Code, Domain: ErrorDomain}
	if fe.Path != "" {
		info.Metadata = map[string]string{"path": fe.Path}
	}
	details := append([]protoadapt.MessageV1{info, &errdetails.LocalizedMessage{Locale: "pt-BR", Message: fe.Message}}, v1Messages(fe.Details)...)
	if withDetails, derr := s.WithDetails(details...); derr == nil {
		s = withDetails
	}
	return s
}

// statusInterceptor maps the errors of handlers to statuses and logs the
// unexpected ones, which are the only ones whose text the caller does not see.
func statusInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		s := toStatus(err)
		if s.Code() == codes.Internal {
			log.ErrorContext(ctx, "internal error", "method", info.FullMethod, "error", err.Error())
		}
		return nil, s.Err()
	}
}

func v1Messages(ms []proto.Message) []protoadapt.MessageV1 {
	out := make([]protoadapt.MessageV1, 0, len(ms))
	for _, m := range ms {
		out = append(out, protoadapt.MessageV1Of(m))
	}
	return out
}

// codeName is the canonical upper-case name of a gRPC code ("NOT_FOUND"), the
// machine code of errors that carry no more specific one.
func codeName(c codes.Code) string {
	if name, ok := code.Code_name[int32(c)]; ok {
		return name
	}
	return "UNKNOWN"
}
