package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// importRoutes serve POST /gestor/import/analyze and /apply. The request body is
// the exported file exactly; it is read, bounded, as bytes and passed as
// file_json, so that the analysis sees the JSON itself: syntax errors with line
// and column, unknown fields. (The generated handlers would parse it first and
// lose both.) The call still goes through the interceptor chain.
type importRoutes struct {
	mux      *runtime.ServeMux
	srv      *intercepted
	maxBytes int
}

const (
	analyzePattern = "/gestor/import/analyze"
	applyPattern   = "/gestor/import/apply"
)

func (rt *importRoutes) register() error {
	if err := rt.mux.HandlePath(http.MethodPost, analyzePattern, rt.analyze); err != nil {
		return fmt.Errorf("route %s: %w", analyzePattern, err)
	}
	if err := rt.mux.HandlePath(http.MethodPost, applyPattern, rt.apply); err != nil {
		return fmt.Errorf("route %s: %w", applyPattern, err)
	}
	return nil
}

func (rt *importRoutes) analyze(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	rt.serve(w, r, contentv1.ContentTransferService_AnalyzeImport_FullMethodName, analyzePattern,
		func(ctx context.Context, raw []byte) (proto.Message, error) {
			return rt.srv.AnalyzeImport(ctx, &contentv1.AnalyzeImportRequest{
				Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: raw},
			})
		})
}

func (rt *importRoutes) apply(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	rt.serve(w, r, contentv1.ContentTransferService_ApplyImport_FullMethodName, applyPattern,
		func(ctx context.Context, raw []byte) (proto.Message, error) {
			return rt.srv.ApplyImport(ctx, &contentv1.ApplyImportRequest{
				Source:         &contentv1.ApplyImportRequest_FileJson{FileJson: raw},
				IdempotencyKey: r.Header.Get("Idempotency-Key"),
				ExpectedDigest: r.Header.Get("If-Match"),
			})
		})
}

type rawCall func(ctx context.Context, raw []byte) (proto.Message, error)

func (rt *importRoutes) serve(w http.ResponseWriter, r *http.Request, method, pattern string, call rawCall) {
	if status, body, ok := checkContentType(r); !ok {
		writeError(w, status, body)
		return
	}
	if r.ContentLength > int64(rt.maxBytes) {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge(rt.maxBytes))
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(rt.maxBytes)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge(rt.maxBytes))
			return
		}
		writeError(w, http.StatusBadRequest, ErrorBody{Code: "BODY_UNREADABLE", Status: "INVALID_ARGUMENT",
			Message: "Não foi possível ler o corpo da requisição; envie o arquivo novamente."})
		return
	}
	_, outbound := runtime.MarshalerForRequest(rt.mux, r)
	// As the generated in-process handlers do: the HTTP headers become incoming
	// metadata (authorization among them), and a transport stream collects the
	// handler's response headers.
	ctx, err := runtime.AnnotateIncomingContext(r.Context(), rt.mux, r, method, runtime.WithHTTPPathPattern(pattern))
	if err != nil {
		runtime.HTTPError(r.Context(), rt.mux, outbound, w, r, err)
		return
	}
	stream := &runtime.ServerTransportStream{}
	ctx = grpc.NewContextWithServerTransportStream(ctx, stream)
	resp, err := call(ctx, raw)
	ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{HeaderMD: stream.Header(), TrailerMD: stream.Trailer()})
	if err != nil {
		runtime.HTTPError(ctx, rt.mux, outbound, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, rt.mux, outbound, w, r, resp)
}

// checkContentType accepts a body sent as JSON, as text or as raw bytes, and what
// `curl --data-binary @file` sends by default (application/x-www-form-urlencoded,
// though it is no form). A real form upload or any other type is refused.
func checkContentType(r *http.Request) (int, ErrorBody, bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return 0, ErrorBody{}, true
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mediaType == "application/json", mediaType == "text/json", mediaType == "text/plain",
		mediaType == "application/octet-stream", mediaType == "application/x-www-form-urlencoded":
		return 0, ErrorBody{}, true
	case mediaType == "multipart/form-data":
		return http.StatusUnsupportedMediaType, ErrorBody{Code: "UNSUPPORTED_CONTENT_TYPE", Status: "INVALID_ARGUMENT",
			Message: "Envie o arquivo JSON como corpo da requisição (Content-Type: application/json), não como formulário."}, false
	}
	return http.StatusUnsupportedMediaType, ErrorBody{Code: "UNSUPPORTED_CONTENT_TYPE", Status: "INVALID_ARGUMENT",
		Message: fmt.Sprintf("Tipo de conteúdo %q não aceito: envie o arquivo exportado como application/json.", fault.Excerpt(ct, 80))}, false
}

func tooLarge(limit int) ErrorBody {
	return ErrorBody{Code: "FILE_TOO_LARGE", Status: "RESOURCE_EXHAUSTED",
		Message: fmt.Sprintf("O arquivo é maior que o limite de %d MiB.", limit>>20)}
}
