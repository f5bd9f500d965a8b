package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
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

// kindCodes is the one table that turns error kinds into a gRPC code and an
// HTTP status, for every transport path: gRPC, the REST gateway, the REST
// routes of this package. Kinds that only REST can meet (a body of the wrong
// type, a wrong method) have the gRPC code their body reports. An HTTP status
// derived from a gRPC code alone is the first row's with that code, else
// grpc-gateway's.
var kindCodes = []struct {
	kind error
	code codes.Code
	http int
}{
	{fault.ErrInvalidArgument, codes.InvalidArgument, http.StatusBadRequest},
	{fault.ErrRejected, codes.InvalidArgument, http.StatusBadRequest},
	{fault.ErrUnsupportedMediaType, codes.InvalidArgument, http.StatusUnsupportedMediaType},
	{fault.ErrNotFound, codes.NotFound, http.StatusNotFound},
	{fault.ErrMethodNotAllowed, codes.Unimplemented, http.StatusMethodNotAllowed},
	{fault.ErrUnavailable, codes.Unavailable, http.StatusServiceUnavailable},
	{fault.ErrConflict, codes.Aborted, http.StatusConflict},
	// FailedPrecondition here only ever means "not the file that was analysed",
	// as a failed If-Match; ResourceExhausted only "too large".
	{fault.ErrFailedPrecondition, codes.FailedPrecondition, http.StatusPreconditionFailed},
	{fault.ErrTooLarge, codes.ResourceExhausted, http.StatusRequestEntityTooLarge},
	{fault.ErrUnauthenticated, codes.Unauthenticated, http.StatusUnauthorized},
	{fault.ErrPermissionDenied, codes.PermissionDenied, http.StatusForbidden},
	{context.Canceled, codes.Canceled, 499},
	{context.DeadlineExceeded, codes.DeadlineExceeded, http.StatusGatewayTimeout},
}

// httpStatus is the HTTP status of err, whose gRPC code is code: its kind's, or
// the code's.
func httpStatus(err error, code codes.Code) int {
	if _, isStatus := status.FromError(err); !isStatus {
		for _, kc := range kindCodes {
			if errors.Is(err, kc.kind) {
				return kc.http
			}
		}
	}
	for _, kc := range kindCodes {
		if kc.code == code {
			return kc.http
		}
	}
	return runtime.HTTPStatusFromCode(code)
}

// kindMessages are the messages of errors that carry a kind but no message of
// their own.
var kindMessages = map[codes.Code]string{
	codes.InvalidArgument:    "Requisição inválida.",
	codes.NotFound:           "Não encontrado.",
	codes.Canceled:           "A requisição foi cancelada.",
	codes.DeadlineExceeded:   "O tempo limite da requisição foi excedido.",
	codes.Unavailable:        "O banco de dados ou o serviço está indisponível no momento; a operação não foi concluída. Tente novamente em instantes.",
	codes.Aborted:            "A requisição conflita com outra; tente novamente.",
	codes.FailedPrecondition: "A condição da requisição não é mais verdadeira.",
	codes.ResourceExhausted:  "A requisição é grande demais.",
	codes.Unauthenticated:    "Autenticação necessária.",
	codes.PermissionDenied:   "Acesso negado.",
	codes.Unimplemented:      "Operação não disponível.",
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
		msg, ok := kindMessages[code]
		if !ok {
			msg = internalMessage
		}
		fe = fault.New(nil, fault.CodeOf(err), "", msg)
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
