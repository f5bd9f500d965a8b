package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// importRoutes serve POST /gestor/import/analyze and /apply. The request body is
// the exported file exactly. It reaches the service unparsed, as a reader in the
// call's context (see withFileBody), so that the analysis sees the JSON itself
// (syntax errors with line and column, unknown fields; the generated handlers
// would parse it first and lose both) and parses it as it arrives, never holding
// it whole. The call still goes through the interceptor chain.
type importRoutes struct {
	mux      *runtime.ServeMux
	srv      *intercepted
	maxBytes int
	log      *slog.Logger
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
		func(ctx context.Context) (proto.Message, error) {
			return rt.srv.AnalyzeImport(ctx, &contentv1.AnalyzeImportRequest{})
		})
}

func (rt *importRoutes) apply(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	rt.serve(w, r, contentv1.ContentTransferService_ApplyImport_FullMethodName, applyPattern,
		func(ctx context.Context) (proto.Message, error) {
			return rt.srv.ApplyImport(ctx, &contentv1.ApplyImportRequest{
				IdempotencyKey: r.Header.Get("Idempotency-Key"),
				ExpectedDigest: r.Header.Get("If-Match"),
			})
		})
}

// writeApplied writes an apply's response as the gateway would, but a part at
// a time: the id map of a large course renders to tens of MiB of JSON.
func (rt *importRoutes) writeApplied(ctx context.Context, w http.ResponseWriter, resp *contentv1.ApplyImportResponse) {
	if err := writeStreamed(ctx, w, func() error { return coursefile.WriteApplyResponse(w, resp) }); err != nil {
		rt.log.Warn("writing an apply's response failed", "err", err) // the course is applied: the client can list it
	}
}

func (rt *importRoutes) serve(w http.ResponseWriter, r *http.Request, method, pattern string, call func(ctx context.Context) (proto.Message, error)) {
	if err := rt.checkBody(r); err != nil {
		_, outbound := runtime.MarshalerForRequest(rt.mux, r)
		runtime.HTTPError(r.Context(), rt.mux, outbound, w, r, err)
		return
	}
	body := &requestBody{r: http.MaxBytesReader(w, r.Body, int64(rt.maxBytes)), maxBytes: rt.maxBytes}
	serveCallWith(rt.mux, w, r, method, pattern, func(ctx context.Context) (proto.Message, error) {
		resp, err := call(withFileBody(ctx, body))
		// A call refused before the file was read (no token, say) is answered
		// once the upload is over, as when the body was read first: a browser
		// still sending it would see the connection reset, not the answer.
		_, _ = io.Copy(io.Discard, body)
		return resp, err
	}, func(ctx context.Context, outbound runtime.Marshaler, resp proto.Message) {
		if applied, ok := resp.(*contentv1.ApplyImportResponse); ok {
			rt.writeApplied(ctx, w, applied)
			return
		}
		runtime.ForwardResponseMessage(ctx, rt.mux, outbound, w, r, resp)
	})
}

// checkBody refuses, before anything is read, a body of a type the routes do
// not take or declared larger than the limit.
func (rt *importRoutes) checkBody(r *http.Request) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	if r.ContentLength > int64(rt.maxBytes) {
		return tooLarge(rt.maxBytes)
	}
	return nil
}

// requestBody is an import's body, bounded, whose read errors are the
// caller's: too large, or cut off.
type requestBody struct {
	r        io.Reader
	maxBytes int
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var tooBig *http.MaxBytesError
	switch {
	case err == nil, err == io.EOF:
		return n, err
	case errors.As(err, &tooBig):
		return n, tooLarge(b.maxBytes)
	}
	return n, fault.New(fault.ErrInvalidArgument, "BODY_UNREADABLE", "",
		"Não foi possível ler o corpo da requisição; envie o arquivo novamente.")
}

// fileBodyKey is the context key of an import's body, sent by the REST routes
// in the call's context: a request message can only carry the file whole.
type fileBodyKey struct{}

func withFileBody(ctx context.Context, body io.Reader) context.Context {
	return context.WithValue(ctx, fileBodyKey{}, body)
}

// fileBody is the body of an import sent over REST, or nil.
func fileBody(ctx context.Context) io.Reader {
	body, _ := ctx.Value(fileBodyKey{}).(io.Reader)
	return body
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
