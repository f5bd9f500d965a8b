package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

const exportPattern = "/gestor/export/course/{course_id}"

// exportRoute serves GET /gestor/export/course/{course_id} in place of the
// generated handler, through the same chain, so that the file is written as it
// is encoded (coursefile.WriteWhole) instead of rendered whole first: an L
// course is 85 MiB of JSON. A file of up to 1 MiB (the S course's is half of
// it) goes out whole, with its Content-Length: net/http wrote each chunk of a
// streamed file with two system calls, eighteen for an S export, against two.
type exportRoute struct {
	mux     *runtime.ServeMux
	srv     *intercepted
	metrics *metrics.Metrics
	log     *slog.Logger
}

func (rt *exportRoute) register() error {
	return rt.mux.HandlePath(http.MethodGet, exportPattern, rt.export)
}

func (rt *exportRoute) export(w http.ResponseWriter, r *http.Request, params map[string]string) {
	req := &contentv1.ExportCourseRequest{CourseId: params["course_id"]}
	text := exportText.Blocks() // the course's text, until it is written (see exportText)
	defer text.Release()
	r = r.WithContext(textblock.NewContext(r.Context(), text))
	serveCallWith(rt.mux, w, r, contentv1.ContentTransferService_ExportCourse_FullMethodName, exportPattern,
		func(ctx context.Context) (proto.Message, error) { return rt.srv.ExportCourse(ctx, req) },
		func(ctx context.Context, _ runtime.Marshaler, resp proto.Message) {
			out := &countingWriter{w: w}
			file := resp.(*contentv1.ExportCourseResponse).GetFile()
			whole := func(n int) { w.Header().Set("Content-Length", strconv.Itoa(n)) }
			if err := writeStreamed(ctx, w, func() error { return coursefile.WriteWhole(out, file, whole) }); err != nil {
				rt.log.Warn("writing an export failed", "err", err) // the status is sent: the client sees a cut file
			}
			rt.metrics.ExportSent(metrics.TransportREST, int(out.n))
		})
}

// writeStreamed answers with JSON that write writes to the response as it
// makes it, where the gateway would render the message whole first: the call's
// gRPC headers become HTTP headers, as the gateway sets them.
func writeStreamed(ctx context.Context, w http.ResponseWriter, write func() error) error {
	if md, ok := runtime.ServerMetadataFromContext(ctx); ok {
		for k, vs := range md.HeaderMD {
			if h, ok := outgoingHeaders(k); ok {
				for _, v := range vs {
					w.Header().Add(h, v)
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	return write()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
