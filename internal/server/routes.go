package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// routeTable is the REST routes of the contract, read from the google.api.http
// rules of the services: what a 405 lists in Allow.
type routeTable struct {
	routes []route
}

type route struct {
	method   string
	segments []string // "{name}" matches any one segment
}

// contractRoutes reads the HTTP rules of the named services.
func contractRoutes(services ...string) (*routeTable, error) {
	t := &routeTable{}
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			rule, _ := proto.GetExtension(methods.Get(i).Options(), annotations.E_Http).(*annotations.HttpRule)
			if method, path := httpRule(rule); method != "" {
				t.routes = append(t.routes, route{method: method, segments: strings.Split(strings.Trim(path, "/"), "/")})
			}
		}
	}
	return t, nil
}

func httpRule(r *annotations.HttpRule) (method, path string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		return http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		return http.MethodPut, p.Put
	case *annotations.HttpRule_Patch:
		return http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		return http.MethodDelete, p.Delete
	}
	return "", ""
}

// allowed lists the methods that answer path, HEAD with GET, sorted.
func (t *routeTable) allowed(path string) []string {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, r := range t.routes {
		if r.matches(segments) {
			out = append(out, r.method)
			if r.method == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r route) matches(segments []string) bool {
	if len(segments) != len(r.segments) {
		return false
	}
	for i, s := range r.segments {
		if !strings.HasPrefix(s, "{") && s != segments[i] {
			return false
		}
	}
	return true
}

// headAsGet answers HEAD as GET: the same status and headers, and net/http
// leaves out the body of a HEAD response.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		h.ServeHTTP(w, r)
	})
}

// serveCall runs one call of the service for a REST route of this package, as
// the generated in-process handlers do: the HTTP headers become incoming
// metadata (authorization among them), a transport stream collects the
// handler's response headers, and errors, the route's own among them, go
// through the gateway's error handler and so through the one status table.
func serveCall(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, method, pattern string,
	call func(ctx context.Context) (proto.Message, error)) {
	serveCallWith(mux, w, r, method, pattern, call, func(ctx context.Context, outbound runtime.Marshaler, resp proto.Message) {
		runtime.ForwardResponseMessage(ctx, mux, outbound, w, r, resp)
	})
}

// serveCallWith is serveCall with the response written by forward.
func serveCallWith(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, method, pattern string,
	call func(ctx context.Context) (proto.Message, error), forward func(context.Context, runtime.Marshaler, proto.Message)) {
	_, outbound := runtime.MarshalerForRequest(mux, r)
	ctx, err := runtime.AnnotateIncomingContext(r.Context(), mux, r, method, runtime.WithHTTPPathPattern(pattern))
	if err != nil {
		runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
		return
	}
	stream := &runtime.ServerTransportStream{}
	ctx = grpc.NewContextWithServerTransportStream(ctx, stream)
	resp, err := call(ctx)
	ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{HeaderMD: stream.Header(), TrailerMD: stream.Trailer()})
	if err != nil {
		runtime.HTTPError(ctx, mux, outbound, w, r, err)
		return
	}
	forward(ctx, outbound, resp)
}

// queryRoute serves a GET route whose request is the query string, taking it
// over from the generated handler: parseQuery names a bad parameter, and an
// enum given by a number the contract does not know reaches the service, which
// refuses it with the same code as over gRPC.
func queryRoute[Req proto.Message](mux *runtime.ServeMux, pattern, method string, newReq func() Req,
	call func(context.Context, Req) (proto.Message, error)) error {
	return mux.HandlePath(http.MethodGet, pattern, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		req := newReq()
		if err := parseQuery(req, r.URL.Query()); err != nil {
			_, outbound := runtime.MarshalerForRequest(mux, r)
			runtime.HTTPError(r.Context(), mux, outbound, w, r, err)
			return
		}
		serveCall(mux, w, r, method, pattern, func(ctx context.Context) (proto.Message, error) { return call(ctx, req) })
	})
}

// parseQuery sets the fields of m named by the query parameters (JSON or proto
// names). Parameters the message does not have are ignored, as by the gateway.
func parseQuery(m proto.Message, values url.Values) error {
	msg := m.ProtoReflect()
	fields := msg.Descriptor().Fields()
	for name, vs := range values {
		fd := fields.ByJSONName(name)
		if fd == nil {
			fd = fields.ByTextName(name)
		}
		if fd == nil {
			continue
		}
		if len(vs) > 1 {
			return fault.New(fault.ErrInvalidArgument, "INVALID_PARAMETER", name, fmt.Sprintf("O parâmetro %s aparece mais de uma vez.", name))
		}
		v, err := queryValue(fd, vs[0])
		if err != nil {
			return fault.New(fault.ErrInvalidArgument, "INVALID_PARAMETER", name, fmt.Sprintf("O parâmetro %s %s.", name, err.Error()))
		}
		msg.Set(fd, v)
	}
	return nil
}

// queryValue reads one parameter; its error completes "O parâmetro X …".
func queryValue(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.Int32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("deve ser um número inteiro entre %d e %d", int32(-1<<31), int32(1<<31-1))
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("deve ser true ou false")
		}
		return protoreflect.ValueOfBool(b), nil
	case protoreflect.EnumKind:
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
		}
		if v := fd.Enum().Values().ByName(protoreflect.Name(s)); v != nil {
			return protoreflect.ValueOfEnum(v.Number()), nil
		}
		var names []string
		for i := range fd.Enum().Values().Len() {
			names = append(names, string(fd.Enum().Values().Get(i).Name()))
		}
		return protoreflect.Value{}, fmt.Errorf("aceita um destes valores: %s", strings.Join(names, ", "))
	}
	return protoreflect.Value{}, fmt.Errorf("não pode ser dado na URL")
}
