package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
)

// fileMarshaler renders REST responses the way the transfer file is written: stable,
// indented JSON with every field present and enums by name. (The file itself and
// an apply's response are written by their routes, a part at a time.)
type fileMarshaler struct {
	runtime.JSONPb
}

func (m *fileMarshaler) Marshal(v any) ([]byte, error) {
	compact, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	return coursefile.Indent(compact)
}

func newFileMarshaler() *fileMarshaler {
	return &fileMarshaler{JSONPb: runtime.JSONPb{
		MarshalOptions:   coursefile.MarshalOptions,
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}
}

// errorBody renders a status as the contract's Error; fromService says whether
// it carried the service's ErrorInfo (else the gateway or gRPC itself raised it).
func errorBody(s *status.Status) (body *contentv1.Error, fromService bool) {
	body = &contentv1.Error{Code: codeName(s.Code()), Message: s.Message(), Status: codeName(s.Code())}
	for _, d := range s.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == ErrorDomain {
				body.Code = d.GetReason()
				body.Path = d.GetMetadata()["path"]
				fromService = true
			}
		case *contentv1.ImportReport:
			body.Report = d
		}
	}
	return body, fromService
}

// writeError writes an Error: empty fields left out, except in the report,
// which is rendered as the API renders reports, every field present (protojson
// cannot do both in one message, so the report is marshalled apart).
func writeError(w http.ResponseWriter, httpCode int, body *contentv1.Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpCode)
	head := &contentv1.Error{Code: body.GetCode(), Message: body.GetMessage(), Path: body.GetPath(), Status: body.GetStatus()}
	out, err := protojson.Marshal(head)
	if err == nil && body.GetReport() != nil {
		var report []byte
		if report, err = coursefile.MarshalOptions.Marshal(body.GetReport()); err == nil {
			out = append(append(append(out[:len(out)-1], `,"report":`...), report...), '}')
		}
	}
	if err == nil {
		out, err = coursefile.Indent(out)
	}
	if err != nil { // an Error always marshals; say something all the same
		out = []byte(`{"code":"INTERNAL","message":"Erro interno.","status":"INTERNAL"}` + "\n")
	}
	_, _ = w.Write(out)
}

// gatewayErrors writes errors as the contract's Error with the matching HTTP status. Errors
// raised by the gateway itself (an unparsable parameter, say) carry no ErrorInfo
// and keep the gRPC code name as their code.
func gatewayErrors(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		s := toStatus(err) // a status from the chain, or a fault of a REST route
		body, fromService := errorBody(s)
		if !fromService && s.Code() == codes.InvalidArgument {
			// The gateway's own parse errors are English and technical; the detail goes to the log.
			log.InfoContext(ctx, "rejected request", "path", r.URL.Path, "error", s.Message())
			body.Code = "INVALID_REQUEST"
			body.Message = "Requisição inválida: verifique os parâmetros enviados."
		}
		if s.Code() == codes.Unauthenticated {
			w.Header().Set("WWW-Authenticate", wwwAuthenticate(body.Code))
		}
		writeError(w, httpStatus(err, s.Code()), body)
	}
}

// wwwAuthenticate is the RFC 6750 challenge of a 401: no error attribute when no
// token was sent, invalid_token (with the machine code) when one was refused.
func wwwAuthenticate(code string) string {
	if code == "TOKEN_MISSING" {
		return `Bearer realm="contentd"`
	}
	return fmt.Sprintf(`Bearer realm="contentd", error="invalid_token", error_description=%q`, code)
}

// routingErrors answers unknown routes and wrong methods through the same table
// and in the same JSON shape; a 405 says which methods the route answers.
func routingErrors(log *slog.Logger, routes *routeTable) runtime.RoutingErrorHandlerFunc {
	errs := gatewayErrors(log)
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpCode int) {
		var err error
		switch httpCode {
		case http.StatusNotFound:
			err = fault.New(fault.ErrNotFound, "ROUTE_NOT_FOUND", "", fmt.Sprintf("Rota não encontrada: %s %s.", r.Method, fault.Excerpt(r.URL.Path, 200)))
		case http.StatusMethodNotAllowed:
			allowed := routes.allowed(r.URL.Path)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			err = fault.New(fault.ErrMethodNotAllowed, "METHOD_NOT_ALLOWED", "", fmt.Sprintf("Método %s não permitido em %s; use %s.",
				fault.Excerpt(r.Method, 20), fault.Excerpt(r.URL.Path, 200), strings.Join(allowed, " ou ")))
		default:
			err = fault.New(fault.ErrInvalidArgument, "INVALID_REQUEST", "", "Requisição inválida.")
		}
		errs(ctx, mux, m, w, r, err)
	}
}

// outgoingHeaders turns the export's content-disposition gRPC header into the HTTP
// header and drops every other response metadata.
func outgoingHeaders(key string) (string, bool) {
	if strings.EqualFold(key, contentDispositionKey) {
		return "Content-Disposition", true
	}
	return "", false
}

// newGateway returns the REST handler for the /gestor routes, calling srv (the
// services behind the interceptor chain) in process.
func newGateway(ctx context.Context, srv *intercepted, log *slog.Logger, maxRequestBytes int, m *metrics.Metrics) (http.Handler, error) {
	routes, err := contractRoutes(contentv1.ContentTransferService_ServiceDesc.ServiceName, contentv1.BackupService_ServiceDesc.ServiceName)
	if err != nil {
		return nil, err
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newFileMarshaler()),
		runtime.WithErrorHandler(gatewayErrors(log)),
		runtime.WithRoutingErrorHandler(routingErrors(log, routes)),
		runtime.WithOutgoingHeaderMatcher(outgoingHeaders),
	)
	if err := contentv1.RegisterContentTransferServiceHandlerServer(ctx, mux, srv); err != nil {
		return nil, fmt.Errorf("register gateway: %w", err)
	}
	if err := contentv1.RegisterBackupServiceHandlerServer(ctx, mux, srv.backups); err != nil {
		return nil, fmt.Errorf("register gateway: %w", err)
	}
	// Registered last, so they take these routes over from the generated handlers.
	if err := queryRoute(mux, "/gestor/courses", contentv1.ContentTransferService_ListCourses_FullMethodName,
		func() *contentv1.ListCoursesRequest { return &contentv1.ListCoursesRequest{} },
		func(ctx context.Context, req *contentv1.ListCoursesRequest) (proto.Message, error) {
			return srv.ListCourses(ctx, req)
		},
	); err != nil {
		return nil, err
	}
	if err := queryRoute(mux, "/gestor/import/batches", contentv1.ContentTransferService_ListImportBatches_FullMethodName,
		func() *contentv1.ListImportBatchesRequest { return &contentv1.ListImportBatchesRequest{} },
		func(ctx context.Context, req *contentv1.ListImportBatchesRequest) (proto.Message, error) {
			return srv.ListImportBatches(ctx, req)
		},
	); err != nil {
		return nil, err
	}
	if err := queryRoute(mux, "/gestor/backups", contentv1.BackupService_ListBackups_FullMethodName,
		func() *contentv1.ListBackupsRequest { return &contentv1.ListBackupsRequest{} },
		func(ctx context.Context, req *contentv1.ListBackupsRequest) (proto.Message, error) {
			return srv.backups.ListBackups(ctx, req)
		},
	); err != nil {
		return nil, err
	}
	imports := &importRoutes{mux: mux, srv: srv, maxBytes: maxRequestBytes, log: log}
	if err := imports.register(); err != nil {
		return nil, err
	}
	export := &exportRoute{mux: mux, srv: srv, metrics: m, log: log}
	if err := export.register(); err != nil {
		return nil, err
	}
	return headAsGet(mux), nil
}
