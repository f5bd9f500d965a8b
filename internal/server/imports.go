package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
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
	raw, err := rt.readBody(w, r)
	if err != nil {
		_, outbound := runtime.MarshalerForRequest(rt.mux, r)
		runtime.HTTPError(r.Context(), rt.mux, outbound, w, r, err)
		return
	}
	serveCall(rt.mux, w, r, method, pattern, func(ctx context.Context) (proto.Message, error) { return call(ctx, raw) })
}

// readBody reads the file, bounded, once its type is one the routes take.
func (rt *importRoutes) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	if r.ContentLength > int64(rt.maxBytes) {
		return nil, tooLarge(rt.maxBytes)
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(rt.maxBytes)))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge(rt.maxBytes)
	case err != nil:
		return nil, fault.New(fault.ErrInvalidArgument, "BODY_UNREADABLE", "",
			"Não foi possível ler o corpo da requisição; envie o arquivo novamente.")
	}
	return raw, nil
}

// checkContentType accepts a body sent as JSON, as text or as raw bytes, and what
// `curl --data-binary @file` sends by default (application/x-www-form-urlencoded,
// though it is no form). A real form upload or any other type is refused.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mediaType == "application/json", mediaType == "text/json", mediaType == "text/plain",
		mediaType == "application/octet-stream", mediaType == "application/x-www-form-urlencoded":
		return nil
	case mediaType == "multipart/form-data":
		return fault.New(fault.ErrUnsupportedMediaType, "UNSUPPORTED_CONTENT_TYPE", "",
			"Envie o arquivo JSON como corpo da requisição (Content-Type: application/json), não como formulário.")
	}
	return fault.New(fault.ErrUnsupportedMediaType, "UNSUPPORTED_CONTENT_TYPE", "",
		fmt.Sprintf("Tipo de conteúdo %q não aceito: envie o arquivo exportado como application/json.", fault.Excerpt(ct, 80)))
}

func tooLarge(limit int) error {
	return fault.New(fault.ErrTooLarge, "FILE_TOO_LARGE", "",
		fmt.Sprintf("O arquivo é maior que o limite de %d MiB.", limit>>20))
}
